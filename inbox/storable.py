"""Inbound events made storable on both databases before the hub stores them.

PostgreSQL refuses NUL in text and JSON, and a lone surrogate (JSON's `"\\ud800"`, an email
header's undecodable byte) has no UTF-8 form for any database. A customer's message holding
either must still reach the manager, so every text of an event from any channel (message
text, profile name, phone, email, ids, meta, attachments, lead source) is cleaned as it
reaches the hub (`hub.ingest`, `batch.ingest_many`): NUL dropped, each lone surrogate replaced
with U+FFFD (`crm.normalize.storable_text`). A clean event is returned as it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from crm.normalize import storable_text

__all__ = ["storable_event"]

E = TypeVar("E")


def storable_event(event: E) -> E:
    """`event` (a dataclass of `inbox.channels.base`) with every text in it storable."""
    if not _dirty(event):
        return event
    return _clean(event)  # type: ignore[no-any-return]


def _dirty(value: Any) -> bool:
    if isinstance(value, str):
        return storable_text(value) is not value
    if _is_value(value):
        return any(_dirty(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return any(_dirty(v) for v in value)
    if isinstance(value, Mapping):
        return any(_dirty(k) or _dirty(v) for k, v in value.items())
    return False


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if _is_value(value):
        changes = {f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, Mapping):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def _is_value(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)
