"""Reads kept a moment: the settings and lists that nearly every bot update consults (a
scenario's stages, the active custom fields, the company's "clients visible to all").

A `Kept` keeps what `load(key)` returned for `ttl` seconds, per database client (a database
initialised again starts afresh). A save or delete of any of its `changed_by` models in this
process forgets everything at once (tortoise's signals); writes that send no signals
(`bulk_create`, `update()`) call `forget()` themselves. A change made by another process (the
admin panel beside a bot worker) applies within `ttl`. A read that a change overtook is not
kept."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.signals import post_delete, post_save

K = TypeVar("K")
V = TypeVar("V")

monotonic = time.monotonic  # tests move it


class Kept(Generic[K, V]):
    def __init__(
        self,
        load: Callable[[K], Awaitable[V]],
        *,
        ttl: float,
        model: type[Model],
        changed_by: Iterable[type[Model]] = (),
    ) -> None:
        self.load = load
        self.ttl = ttl
        self.model = model  # whose database client the values belong to
        self.client: object = None
        self.values: dict[K, tuple[float, V]] = {}
        self.changes = 0
        watched = tuple(changed_by)
        if watched:

            async def changed(*_: Any, **__: Any) -> None:
                self.forget()

            post_save(*watched)(changed)
            post_delete(*watched)(changed)

    def forget(self) -> None:
        self.values = {}
        self.changes += 1

    async def get(self, key: K) -> V:
        client, now = self.model._meta.db, monotonic()
        if client is not self.client:
            self.client, self.values = client, {}
        cached = self.values.get(key)
        if cached is not None and now < cached[0]:
            return cached[1]
        changes = self.changes
        value = await self.load(key)
        if changes == self.changes and client is self.client:
            self.values[key] = (now + self.ttl, value)
        return value
