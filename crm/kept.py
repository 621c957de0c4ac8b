"""Reads kept a moment: the settings and lists that nearly every bot update consults (a
scenario's stages, the active custom fields, the company's "clients visible to all").

A `Kept` keeps what `load(key)` returned for `ttl` seconds, per database client (a database
initialised again starts afresh). A save or delete of any of its `changed_by` models in this
process forgets everything at once (tortoise's signals); writes that send no signals
(`bulk_create`, `update()`) call `forget()` themselves. A change made by another process (the
admin panel beside a bot worker) applies within `ttl`. A read that a change overtook is not
kept.

A value asked for in the second half of its `ttl` is read again in the background while the
kept one is returned (`REFRESH_AFTER`): under steady use no caller waits for the reload, and
what is returned is still never older than `ttl` (a reload keeps its value from the moment
it began); not inside a transaction, whose connection a reload beside would share. `drain()`
waits for the reloads in flight (`crm.db.close` calls it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model
from tortoise.signals import post_delete, post_save

K = TypeVar("K")
V = TypeVar("V")

monotonic = time.monotonic  # tests move it
log = logging.getLogger(__name__)
REFRESH_AFTER = 0.5  # of the ttl: a value asked for later than this is reloaded beside
_reloads: set[asyncio.Task[None]] = set()  # every Kept's reloads in flight


async def drain() -> None:
    """Wait for this event loop's background reloads in flight (before the database
    closes); those of a loop already gone are dropped."""
    loop = asyncio.get_running_loop()
    _reloads.difference_update([t for t in _reloads if t.get_loop() is not loop])
    while _reloads:
        await asyncio.gather(*_reloads, return_exceptions=True)


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
        self.reloading: set[K] = set()
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
            late = now >= cached[0] - self.ttl * (1 - REFRESH_AFTER)
            # never beside a transaction: the reload would share its connection
            if late and key not in self.reloading and not isinstance(client, TransactionalDBClient):
                self.reloading.add(key)
                task = asyncio.create_task(self._reload(key, client, now))
                _reloads.add(task)
                task.add_done_callback(_reloads.discard)
            return cached[1]
        return await self._load(key, client, now)

    async def _load(self, key: K, client: object, now: float) -> V:
        changes = self.changes
        value = await self.load(key)
        if changes == self.changes and client is self.client:
            self.values[key] = (now + self.ttl, value)
        return value

    async def _reload(self, key: K, client: object, now: float) -> None:
        try:
            await self._load(key, client, now)
        except Exception:  # the next caller past the ttl reads in the foreground and sees it
            log.warning("reloading a kept value failed", exc_info=True)
        finally:
            self.reloading.discard(key)
