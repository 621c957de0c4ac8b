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
from datetime import datetime
from typing import Any, TypeVar

from crm.normalize import UNSTORABLE as _UNSTORABLE
from crm.normalize import storable_text

__all__ = ["storable_event"]

E = TypeVar("E")


def storable_event(event: E) -> E:
    """`event` (a dataclass of `inbox.channels.base`) with every text in it storable."""
    if not _dirty(event):
        return event
    return _clean(event)  # type: ignore[no-any-return]


def _dirty(value: Any) -> bool:
    if type(value) in _PLAIN:
        return False
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, tuple | list):
        return any(_dirty(v) for v in value)
    if isinstance(value, Mapping):
        return any(_dirty(k) or _dirty(v) for k, v in value.items())
    names = _field_names(value)
    return names is not None and any(_dirty(getattr(value, name)) for name in names)


def _clean(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, Mapping):
        return {_clean(k): _clean(v) for k, v in value.items()}
    names = _field_names(value)
    if names is None:
        return value
    return dataclasses.replace(value, **{name: _clean(getattr(value, name)) for name in names})


_PLAIN = frozenset({type(None), bool, int, float, datetime})  # no text in them
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _field_names(value: object) -> tuple[str, ...] | None:
    """The fields of a dataclass instance (remembered per class), None for anything else."""
    cls = type(value)
    if cls not in _FIELDS:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELDS[cls] = names
    return _FIELDS[cls]
