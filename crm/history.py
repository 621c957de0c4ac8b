"""Change history of cards (client, key person, interest): who, when, field, old -> new."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

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
    rows = []
    for field, value in new.items():
        before, after = _text(old.get(field)), _text(value)
        if before != after:
            rows.append(
                ChangeRecord(
                    entity=entity,
                    entity_id=entity_id,
                    field=field,
                    old=before,
                    new=after,
                    actor=actor,
                )
            )
    return rows


async def list_changes(entity: str, entity_id: int, limit: int = 200) -> list[ChangeRecord]:
    """The card's history, newest first."""
    return (
        await ChangeRecord.filter(entity=entity, entity_id=entity_id)
        .order_by("-created_at", "-id")
        .limit(limit)
        .prefetch_related("actor")
    )
