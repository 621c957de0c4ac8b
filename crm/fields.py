"""Custom client fields: sections, definitions, list options, and typed values.

Every client card shows the active definitions of the client's kind, and they change
rarely, so `values_of` reads them through `kept_definitions`, which keeps them for
DEFINITIONS_TTL seconds: a change made in this process (any save or delete of a
definition, option or section, and the writes here) applies at once, one made in another
process within DEFINITIONS_TTL. They are kept per database client, as the stages are
(crm.scenarios); validation and the admin's forms read them uncached."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.transactions import in_transaction

from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_, Text
from crm.kept import Kept
from crm.models import (
    BelongsTo,
    Client,
    ClientKind,
    FieldDefinition,
    FieldOption,
    FieldSection,
    FieldType,
    FieldValue,
    User,
)
from crm.rows import RowReader, query

_TRUE = {"1", "true", "yes", "on", "да", "y", "+"}
_FALSE = {"0", "false", "no", "off", "нет", "n", "-", ""}
MAX_NUMBER = Decimal("1e16")
DEFINITIONS_TTL = 2.0  # seconds another process's change of the definitions may take to apply


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


# --- sections and definitions -------------------------------------------------------------


async def create_section(name: str, *, actor: User | None) -> FieldSection:
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", N_("Required"))
    if await FieldSection.filter(name=name).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    last = await FieldSection.all().order_by("-position").first()
    return await FieldSection.create(name=name, position=(last.position + 1) if last else 0)


async def rename_section(section_id: int, name: str, *, actor: User | None) -> FieldSection:
    _require_admin(actor)
    section = await FieldSection.filter(id=section_id).first()
    if section is None:
        raise NotFound()
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", N_("Required"))
    if await FieldSection.filter(name=name).exclude(id=section_id).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    section.name = name
    await section.save()
    return section


async def create_field(
    *,
    name: str,
    type: FieldType | str,
    belongs_to: BelongsTo | str = BelongsTo.ALL,
    section_id: int | None = None,
    options: Iterable[str] = (),
    required: bool = False,
    actor: User | None,
) -> FieldDefinition:
    """Define a custom field; a list field gets its values in the given order."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = N_("Required")
    try:
        ftype = FieldType(type)
    except ValueError:
        errors["type"] = N_("Unknown field type")
        ftype = FieldType.STRING
    try:
        belongs = BelongsTo(belongs_to)
    except ValueError:
        errors["belongs_to"] = N_("Unknown choice")
        belongs = BelongsTo.ALL
    values = [v.strip() for v in options if v.strip()]
    if ftype == FieldType.LIST and not values:
        errors["options"] = N_("A list field needs at least one value")
    if len(set(values)) != len(values):
        errors["options"] = N_("List values must be different")
    if section_id is not None and not await FieldSection.filter(id=section_id).exists():
        errors["section_id"] = N_("Unknown section")
    if not errors and await FieldDefinition.filter(name=name, belongs_to=belongs).exists():
        errors["name"] = N_("This name is already taken")
    if errors:
        raise ValidationFailed(fields=errors)
    async with in_transaction():
        last = await FieldDefinition.filter(section_id=section_id).order_by("-position").first()
        definition = await FieldDefinition.create(
            name=name,
            type=ftype,
            belongs_to=belongs,
            section_id=section_id,
            position=(last.position + 1) if last else 0,
            required=required,
        )
        await FieldOption.bulk_create(
            [FieldOption(definition=definition, value=v, position=i) for i, v in enumerate(values)]
        )
    _definitions.forget()  # bulk_create sends no signals; and a read meanwhile saw none
    return definition


async def add_option(field_id: int, value: str, *, actor: User | None) -> FieldOption:
    _require_admin(actor)
    definition = await FieldDefinition.filter(id=field_id).first()
    if definition is None:
        raise NotFound()
    if definition.type != FieldType.LIST:
        raise Conflict(N_("Only a list field has values"))
    value = value.strip()
    if not value:
        raise ValidationFailed.field("value", N_("Required"))
    if await FieldOption.filter(definition_id=field_id, value=value).exists():
        raise ValidationFailed.field("value", N_("This value already exists"))
    last = await FieldOption.filter(definition_id=field_id).order_by("-position").first()
    return await FieldOption.create(
        definition=definition, value=value, position=(last.position + 1) if last else 0
    )


async def update_field(
    field_id: int, changes: Mapping[str, Any], *, actor: User | None
) -> FieldDefinition:
    """Rename, move to a section, reorder, (de)activate. The type is fixed once created."""
    _require_admin(actor)
    definition = await FieldDefinition.filter(id=field_id).first()
    if definition is None:
        raise NotFound()
    allowed = {"name", "section_id", "position", "required", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={k: N_("This cannot be changed") for k in sorted(unknown)})
    if "name" in changes:
        name = str(changes["name"]).strip()
        if not name:
            raise ValidationFailed.field("name", N_("Required"))
        clash = FieldDefinition.filter(name=name, belongs_to=definition.belongs_to)
        if await clash.exclude(id=field_id).exists():
            raise ValidationFailed.field("name", N_("This name is already taken"))
    section_id = changes.get("section_id")
    if section_id is not None and not await FieldSection.filter(id=section_id).exists():
        raise ValidationFailed.field("section_id", N_("Unknown section"))
    definition.update_from_dict(dict(changes))
    await definition.save()
    return definition


async def reorder_fields(field_ids: list[int], *, actor: User | None) -> None:
    """Set the order of fields (within their sections) to the order of `field_ids`."""
    _require_admin(actor)
    async with in_transaction():
        for position, field_id in enumerate(field_ids):
            await FieldDefinition.filter(id=field_id).update(position=position)
    _definitions.forget()  # update() sends no signals


def applies_to(definition: FieldDefinition, kind: ClientKind) -> bool:
    return definition.belongs_to == BelongsTo.ALL or definition.belongs_to.value == kind.value


async def definitions_for(kind: ClientKind | None = None) -> list[FieldDefinition]:
    """Active definitions (of one client kind), ordered by section and position."""
    query = FieldDefinition.filter(is_active=True)
    if kind is not None:
        query = query.filter(belongs_to__in=[BelongsTo.ALL, BelongsTo(kind.value)])
    return await query.order_by("section_id", "position", "id").prefetch_related(
        "options", "section"
    )


_definitions = Kept(
    definitions_for,
    ttl=DEFINITIONS_TTL,
    model=FieldDefinition,
    changed_by=(FieldDefinition, FieldOption, FieldSection),
)


async def kept_definitions(kind: ClientKind | None = None) -> list[FieldDefinition]:
    """`definitions_for(kind)`, re-read at most every DEFINITIONS_TTL seconds (shared
    instances with their options and section: read them, do not change them)."""
    return list(await _definitions.get(kind))


# --- values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypedValue:
    """A validated value, ready for its column; None clears the field."""

    definition: FieldDefinition
    string: str | None = None
    number: Decimal | None = None
    flag: bool | None = None
    day: date | None = None
    option_id: int | None = None

    @property
    def empty(self) -> bool:
        return (
            self.string is None
            and self.number is None
            and self.flag is None
            and self.day is None
            and self.option_id is None
        )


def parse_value(definition: FieldDefinition, raw: Any, options: Mapping[str, int]) -> TypedValue:
    """Validate `raw` for the field's type. Raises ValidationFailed naming the field.

    `options` maps each list value (and its id as a string) to the option id.
    """
    key = f"field_{definition.id}"
    if raw is None or (
        isinstance(raw, str) and not raw.strip() and definition.type != FieldType.FLAG
    ):
        if definition.required:
            raise ValidationFailed.field(key, N_("{name}: required"), name=definition.name)
        return TypedValue(definition)
    if definition.type == FieldType.STRING:
        text = str(raw).strip()
        if len(text) > 4000:
            raise ValidationFailed.field(key, N_("{name}: too long"), name=definition.name)
        return TypedValue(definition, string=text)
    if definition.type == FieldType.NUMBER:
        if isinstance(raw, bool):
            raise ValidationFailed.field(key, N_("{name}: not a number"), name=definition.name)
        try:
            number = Decimal(str(raw).strip().replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationFailed.field(
                key, N_("{name}: not a number"), name=definition.name
            ) from None
        if not number.is_finite() or abs(number) >= MAX_NUMBER:
            raise ValidationFailed.field(key, N_("{name}: not a number"), name=definition.name)
        return TypedValue(definition, number=number.quantize(Decimal("0.0001")))
    if definition.type == FieldType.FLAG:
        if isinstance(raw, bool):
            return TypedValue(definition, flag=raw)
        text = str(raw).strip().lower()
        if text in _TRUE:
            return TypedValue(definition, flag=True)
        if text in _FALSE:
            return TypedValue(definition, flag=False)
        raise ValidationFailed.field(key, N_("{name}: yes or no expected"), name=definition.name)
    if definition.type == FieldType.DATE:
        if isinstance(raw, date):
            return TypedValue(definition, day=raw)
        text = str(raw).strip()
        for parse in (date.fromisoformat, _ru_date):
            try:
                return TypedValue(definition, day=parse(text))
            except ValueError:
                continue
        raise ValidationFailed.field(key, N_("{name}: not a date"), name=definition.name)
    # LIST
    option_id = options.get(str(raw).strip())
    if option_id is None:
        raise ValidationFailed.field(
            key, N_("{name}: unknown value {value}"), name=definition.name, value=str(raw)
        )
    return TypedValue(definition, option_id=option_id)


def _ru_date(text: str) -> date:
    day, month, year = text.split(".")
    return date(int(year), int(month), int(day))


async def option_maps(definitions: Iterable[FieldDefinition]) -> dict[int, dict[str, int]]:
    ids = [d.id for d in definitions if d.type == FieldType.LIST]
    maps: dict[int, dict[str, int]] = {i: {} for i in ids}
    for option in await FieldOption.filter(definition_id__in=ids):
        definition_id: int = option.definition_id  # type: ignore[attr-defined]
        maps[definition_id][option.value] = option.id
        maps[definition_id][str(option.id)] = option.id
    return maps


async def validate_values(kind: ClientKind, raw: Mapping[int, Any]) -> list[TypedValue]:
    """Validate values keyed by field id for a client of `kind`; all errors at once."""
    if not raw:
        return []
    definitions = {d.id: d for d in await FieldDefinition.filter(id__in=list(raw), is_active=True)}
    maps = await option_maps(definitions.values())
    errors: dict[str, str | Text] = {}
    typed = []
    for field_id, value in raw.items():
        definition = definitions.get(int(field_id))
        if definition is None:
            errors[f"field_{field_id}"] = N_("Unknown field")
            continue
        if not applies_to(definition, kind):
            errors[f"field_{field_id}"] = N_("This field does not apply to this kind of client")
            continue
        try:
            typed.append(parse_value(definition, value, maps.get(definition.id, {})))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return typed


async def write_values(client_ids: list[int], values: list[TypedValue]) -> None:
    """Store typed values for clients (inside the caller's transaction)."""
    for value in values:
        definition_id = value.definition.id
        await FieldValue.filter(client_id__in=client_ids, definition_id=definition_id).delete()
        if value.empty:
            continue
        await FieldValue.bulk_create(
            [
                FieldValue(
                    client_id=client_id,
                    definition_id=definition_id,
                    value_string=value.string,
                    value_number=value.number,
                    value_flag=value.flag,
                    value_date=value.day,
                    value_option_id=value.option_id,
                )
                for client_id in client_ids
            ],
            batch_size=1000,
        )


def display(value: FieldValue, options: Mapping[int, str]) -> Any:
    """The stored value as a plain Python value (list values as their text)."""
    if value.value_option_id is not None:  # type: ignore[attr-defined]
        return options.get(value.value_option_id)  # type: ignore[attr-defined]
    if value.value_number is not None:
        return value.value_number.normalize()
    for candidate in (value.value_string, value.value_flag, value.value_date):
        if candidate is not None:
            return candidate
    return None


_VALUE_ROWS = RowReader(
    FieldValue,
    (
        "definition_id",
        "value_string",
        "value_number",
        "value_flag",
        "value_date",
        "value_option_id",
    ),
)


async def values_of(client: Client) -> list[tuple[FieldDefinition, Any]]:
    """The client's custom fields in card order (section, position), empty ones included.
    The definitions are `kept_definitions`; the values are read in SQL (a card's hot read)."""
    definitions = await kept_definitions(client.kind)
    rows = await query(
        f"SELECT {_VALUE_ROWS.select_list()} FROM field_values WHERE client_id = $1", [client.id]
    )
    stored = {
        v.definition_id: v  # type: ignore[attr-defined]
        for v in _VALUE_ROWS.models(rows)
    }
    options = {o.id: o.value for d in definitions for o in d.options}
    result = []
    for definition in definitions:
        value = stored.get(definition.id)
        result.append((definition, display(value, options) if value else None))
    return result
