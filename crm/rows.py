"""Models and plain values straight from SQL rows, for the few hot reads written in SQL
(the feed, the claims, birthdays).

tortoise turns a row into a model with `Model._init_from_db`, calling each field's
`to_python_value`; a datetime costs about a microsecond that way, and a row of
`interactions` holds ten of them, so for a hundred rows the conversion costs more than the
query. `RowReader` plans the conversion of a column list once per database and then does
per row only what tortoise's conversion would change: enum members by dict lookup,
everything else that the driver does not return as is through the field itself. The values
and models equal what a tortoise query gives (tests compare them); the one difference is
that PostgreSQL's UTC datetimes keep asyncpg's `datetime.timezone.utc` instead of being
re-labelled `ZoneInfo("UTC")` (equal values; a zone other than UTC is converted)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from tortoise import connections
from tortoise.fields.base import Field
from tortoise.fields.data import CharEnumFieldInstance, DatetimeField
from tortoise.models import Model
from tortoise.timezone import get_default_timezone

M = TypeVar("M", bound=Model)
R = TypeVar("R")


class _Plan:
    """What converting one row takes on the model's current database."""

    def __init__(self, model: type[Model], columns: tuple[str, ...]) -> None:
        meta = model._meta
        self.executor = meta.db.executor_class
        native = {key for key, _, _ in meta.db_native_fields}
        driver_datetimes = datetime in self.executor.DB_NATIVE
        self.timezone = get_default_timezone()
        utc = str(self.timezone) == "UTC"
        self.columns = columns
        self.select_lists: dict[str, str] = {}  # by table alias
        self.attrs = tuple(meta.fields_db_projection_reverse[c] for c in columns)
        self.enums: list[tuple[int, dict[Any, Any]]] = []
        self.datetimes: list[tuple[int, Field[Any]]] = []
        self.others: list[tuple[int, Callable[[Any], Any]]] = []
        for i, attr in enumerate(self.attrs):
            field = meta.fields_map[attr]
            if isinstance(field, CharEnumFieldInstance):
                self.enums.append((i, {member.value: member for member in field.enum_type}))
            elif columns[i] in native:
                continue
            elif isinstance(field, DatetimeField) and driver_datetimes:
                # asyncpg returns timestamptz as aware UTC (`datetime.timezone.utc`, what
                # crm.clock.now() gives too); tortoise only re-labels it with the configured
                # zone, which for UTC changes nothing but the tzinfo object.
                if not utc:
                    self.datetimes.append((i, field))
            else:
                self.others.append((i, field.to_python_value))
        self.partial = set(columns) != set(meta.db_fields)
        self.custom_generated_pk = meta.db_pk_column not in meta.generated_db_fields


class RowReader(Generic[M]):
    """Reads rows holding `columns` of `model`'s table, in that order (all of its columns
    by default). Rows are any sequences: asyncpg records, sqlite rows, tuples."""

    def __init__(self, model: type[M], columns: Sequence[str] | None = None) -> None:
        self.model = model
        self._columns = tuple(columns) if columns is not None else None
        self._plan: _Plan | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        # All of them read late: tortoise adds the foreign key columns at init.
        if self._columns is not None:
            return self._columns
        return tuple(self.model._meta.fields_db_projection.values())

    def select_list(self, alias: str = "") -> str:
        """The columns for a SELECT or RETURNING list, qualified by `alias` if given."""
        plan = self.plan()
        listed = plan.select_lists.get(alias)
        if listed is None:
            prefix = f"{alias}." if alias else ""
            listed = plan.select_lists[alias] = ", ".join(prefix + c for c in plan.columns)
        return listed

    def plan(self) -> _Plan:
        # Planned on first use (the models must be bound to a database), again if the
        # database kind changed (tests run one backend per process, but be exact).
        executor = self.model._meta.db.executor_class
        if self._plan is None or self._plan.executor is not executor:
            self._plan = _Plan(self.model, self.columns)
        return self._plan

    def values(self, row: Sequence[Any], plan: _Plan | None = None) -> list[Any]:
        """The row's values as the model's attributes would hold them."""
        plan = plan or self.plan()
        values = list(row)
        for i, members in plan.enums:
            if (value := values[i]) is not None:
                values[i] = members[value]
        for i, field in plan.datetimes:
            if (value := values[i]) is not None:
                values[i] = (
                    value.astimezone(plan.timezone)
                    if isinstance(value, datetime) and value.tzinfo is not None
                    else field.to_python_value(value)
                )
        for i, convert in plan.others:
            values[i] = convert(values[i])
        return values

    def records(self, rows: Iterable[Sequence[Any]], make: Callable[[list[Any]], R]) -> list[R]:
        """`make(values)` for each row, the values as `values()` gives them; one loop, so
        that a big read (thousands of birthdays) pays no call per row for the conversion."""
        plan = self.plan()
        if plan.datetimes or plan.others:
            return [make(self.values(row, plan)) for row in rows]
        enums, out = plan.enums, []
        for row in rows:  # PostgreSQL: the driver's values are final but for the enums
            values = list(row)
            for i, members in enums:
                if (value := values[i]) is not None:
                    values[i] = members[value]
            out.append(make(values))
        return out

    def models(self, rows: Iterable[Sequence[Any]]) -> list[M]:
        """Model instances as a query would load them (saved, not partial when every
        column is there), built without `Model.__init__`'s per-field work."""
        plan = self.plan()
        model, attrs = self.model, plan.attrs
        # What Model._init_from_db sets besides the fields (tortoise 1.1), and a fresh
        # _await_when_save per instance.
        flags = {
            "_partial": plan.partial,
            "_saved_in_db": True,
            "_custom_generated_pk": plan.custom_generated_pk,
        }
        enums = [(attrs[i], members) for i, members in plan.enums]
        converted = bool(plan.datetimes or plan.others)
        instances = []
        for row in rows:
            instance = model.__new__(model)
            state = instance.__dict__
            state.update(flags)
            state["_await_when_save"] = {}
            if converted:
                state.update(zip(attrs, self.values(row, plan), strict=True))
            else:  # PostgreSQL: the driver's values are final but for the enums
                state.update(zip(attrs, row, strict=True))
                for attr, members in enums:
                    if (value := state[attr]) is not None:
                        state[attr] = members[value]
            instances.append(instance)
        return instances


def for_driver(sql: str, dialect: str) -> str:
    """SQL written with PostgreSQL's numbered marks ($1, $2, ...) for the connection's
    dialect: SQLite takes the same numbers as ?1, ?2, ... (a parameter used twice is bound
    once either way). The SQL must hold no other `$`."""
    return sql if dialect == "postgres" else sql.replace("$", "?")


def moment(value: datetime) -> object:
    """A moment bound in SQL on the default connection: UTC; on SQLite as tortoise's ISO
    text (how it stores them, so that they compare as stored)."""
    utc = value.astimezone(UTC)
    return (
        utc if connections.get("default").capabilities.dialect == "postgres" else utc.isoformat(" ")
    )


async def query(sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """The rows of `sql` (written with $1, $2, ... marks: see `for_driver`) on the default
    connection."""
    conn = connections.get("default")
    _, rows = await conn.execute_query(for_driver(sql, conn.capabilities.dialect), list(params))
    return list(rows)


def split(row: Sequence[Any], *readers: RowReader[Any]) -> list[tuple[Any, ...]]:
    """A joined row cut into each reader's columns, in order; what is left over last."""
    values, parts, start = tuple(row), [], 0
    for reader in readers:
        end = start + len(reader.plan().columns)
        parts.append(values[start:end])
        start = end
    parts.append(values[start:])
    return parts
