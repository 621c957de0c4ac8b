from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, overload

from tortoise import fields
from tortoise.fields.data import T_DATETIME
from tortoise.models import Model


class UtcDatetimeField(fields.DatetimeField[T_DATETIME]):
    """A datetime column whose every stored or bound value is UTC.

    On SQLite tortoise keeps datetimes as ISO text and compares them as text, so a moment
    written with its offset (`14:00+03:00`, an email's Date header) sorts after
    `11:30+00:00`. tortoise converts values given to a model's constructor, but not a value
    assigned before `save()`, given to `update()` or bound in a filter; every one of those
    paths calls `to_db_value`, so the conversion lives here. PostgreSQL's timestamptz
    stores moments anyway. The column is tortoise's DatetimeField as migrations see it."""

    # tortoise's overloads, restated so that mypy types `null=True` fields as optional
    @overload
    def __init__(
        self: UtcDatetimeField[datetime],
        auto_now: bool = False,
        auto_now_add: bool = False,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self: UtcDatetimeField[datetime | None],
        auto_now: bool = False,
        auto_now_add: bool = False,
        *,
        null: Literal[True],
        **kwargs: Any,
    ) -> None: ...

    def __init__(self, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any) -> None:
        # mypy cannot match a generic self to the overloads of tortoise's own __init__
        super().__init__(auto_now, auto_now_add, **kwargs)  # type: ignore[misc]

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().to_db_value(value, instance)

    def describe(self, serializable: bool) -> dict[str, Any]:
        desc = super().describe(serializable)
        desc["field_type"] = fields.DatetimeField.__name__  # the same column
        return desc

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        _, args, kwargs = super().deconstruct()
        base = fields.DatetimeField
        return f"{base.__module__}.{base.__name__}", args, kwargs


class Timestamped(Model):
    """Every table records when a row was made and last changed (timezone-aware)."""

    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        abstract = True
