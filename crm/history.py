"""Change history of cards (client, key person, interest): who, when, field, old -> new."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise import connections

from crm import clock
from crm.models import ChangeRecord, User


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


async def record_changes(
    entity: str,
    entity_id: int,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    actor: User | None,
) -> list[ChangeRecord]:
    """Record one row per field whose value really changed."""
    rows = change_rows(entity, entity_id, old, new, actor=actor)
    if rows:
        await ChangeRecord.bulk_create(rows)
    return rows


def change_rows(
    entity: str,
    entity_id: int,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    actor: User | None,
) -> list[ChangeRecord]:
    """Unsaved history rows for the fields that changed (for callers that batch)."""
    return [
        ChangeRecord(
            entity=entity, entity_id=entity_id, field=field, old=before, new=after, actor=actor
        )
        for field, before, after in changed_fields(old, new)
    ]


def changed_fields(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[tuple[str, str | None, str | None]]:
    """(field, old text, new text) for each field of `new` whose text differs from `old`."""
    changed = []
    for field, value in new.items():
        before, after = _text(old.get(field)), _text(value)
        if before != after:
            changed.append((field, before, after))
    return changed


# (entity_id, field, old text, new text): a history row without a model around it
HistoryRow = tuple[int, str, str | None, str | None]


async def insert_rows(entity: str, rows: Sequence[HistoryRow], *, actor: User | None) -> None:
    """Write many history rows of `entity` at once, stamped now: one INSERT from arrays on
    PostgreSQL, one executemany on SQLite. For bulk edits, where building a ChangeRecord
    per row would cost more than writing it; joins the caller's transaction."""
    if not rows:
        return
    conn = connections.get("default")
    now = clock.now()
    actor_id = actor.id if actor is not None else None
    columns = "created_at, updated_at, entity, entity_id, field, old, new, actor_id"
    if conn.capabilities.dialect == "postgres":
        entity_ids, names, olds, news = (list(column) for column in zip(*rows, strict=True))
        await conn.execute_query(
            f"INSERT INTO change_records ({columns})"
            " SELECT $1, $1, $2, u.entity_id, u.field, u.old, u.new, $3"
            " FROM unnest($4::int[], $5::text[], $6::text[], $7::text[])"
            " AS u(entity_id, field, old, new)",
            [now, entity, actor_id, entity_ids, names, olds, news],
        )
    else:
        # as tortoise stores datetimes on SQLite: UTC ISO text
        stamp = now.astimezone(UTC).isoformat(" ")
        await conn.execute_many(
            f"INSERT INTO change_records ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(stamp, stamp, entity, *row, actor_id) for row in rows],
        )


async def list_changes(entity: str, entity_id: int, limit: int = 200) -> list[ChangeRecord]:
    """The card's history, newest first."""
    return (
        await ChangeRecord.filter(entity=entity, entity_id=entity_id)
        .order_by("-created_at", "-id")
        .limit(limit)
        .prefetch_related("actor")
    )
