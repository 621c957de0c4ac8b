"""Finding clients for lists and the API: visible to the actor, filtered by text, tag,
responsible, relation type, kind or any custom field, in pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from crm import normalize
from crm.access import client_filter
from crm.errors import ValidationFailed
from crm.fields import option_maps, parse_value
from crm.i18n import N_
from crm.models import (
    Client,
    ClientContact,
    ClientKind,
    ContactKind,
    FieldDefinition,
    FieldType,
    FieldValue,
    RelationType,
    User,
)

MAX_PAGE = 200


@dataclass(frozen=True)
class ClientFilters:
    q: str = ""
    tag_id: int | None = None
    responsible_id: int | None = None
    relation_type: str = ""
    kind: str = ""
    field_id: int | None = None
    field_value: str = ""


async def _text_condition(text: str) -> Q:
    condition = Q(name__icontains=text) | Q(legal_name__icontains=text)
    contact_ids: list[int] = []
    phone = normalize.phone_or_none(text)
    if phone:
        contact_ids += cast(
            list[int],
            await ClientContact.filter(kind=ContactKind.PHONE, value=phone).values_list(
                "client_id", flat=True
            ),
        )
    if "@" in text:
        contact_ids += cast(
            list[int],
            await ClientContact.filter(kind=ContactKind.EMAIL, value=text.lower()).values_list(
                "client_id", flat=True
            ),
        )
    if contact_ids:
        condition |= Q(id__in=contact_ids)
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) in (10, 12):
        condition |= Q(inn=digits)
    return condition


async def _field_condition(field_id: int, raw: str) -> Q:
    """Clients whose custom field equals `raw` (a text field: contains it)."""
    definition = await FieldDefinition.filter(id=field_id).first()
    if definition is None:
        raise ValidationFailed.field("field_id", N_("Unknown field"))
    values = FieldValue.filter(definition_id=field_id)
    if definition.type == FieldType.STRING:
        values = values.filter(value_string__icontains=raw.strip())
    else:
        maps = await option_maps([definition])
        copy = FieldDefinition(id=definition.id, name=definition.name, type=definition.type)
        typed = parse_value(copy, raw, maps.get(definition.id, {}))
        if typed.option_id is not None:
            values = values.filter(value_option_id=typed.option_id)
        elif typed.number is not None:
            values = values.filter(value_number=typed.number)
        elif typed.flag is not None:
            values = values.filter(value_flag=typed.flag)
        elif typed.day is not None:
            values = values.filter(value_date=typed.day)
    return Q(id__in=Subquery(values.values("client_id")))


async def client_query(actor: User, filters: ClientFilters) -> QuerySet[Client]:
    """Visible clients matching every given filter (not yet ordered or paged)."""
    query = Client.filter(await client_filter(actor))
    errors: dict[str, str] = {}
    if filters.q.strip():
        query = query.filter(await _text_condition(filters.q.strip()))
    if filters.tag_id is not None:
        query = query.filter(tags__id=filters.tag_id)
    if filters.responsible_id is not None:
        query = query.filter(responsible_id=filters.responsible_id)
    if filters.relation_type:
        if filters.relation_type not in {r.value for r in RelationType}:
            errors["relation_type"] = N_("Unknown choice")
        query = query.filter(relation_type=filters.relation_type)
    if filters.kind:
        if filters.kind not in {k.value for k in ClientKind}:
            errors["kind"] = N_("Unknown choice")
        query = query.filter(kind=filters.kind)
    if errors:
        raise ValidationFailed(fields=errors)
    if filters.field_id is not None and filters.field_value.strip():
        query = query.filter(await _field_condition(filters.field_id, filters.field_value))
    return query


async def find_clients(
    actor: User, filters: ClientFilters, *, page: int = 1, per_page: int = 50
) -> tuple[list[Client], bool]:
    """One page of matching clients by name, and whether another page follows."""
    if page < 1 or not 1 <= per_page <= MAX_PAGE:
        raise ValidationFailed.field("page", N_("Out of range"))
    query = await client_query(actor, filters)
    rows = (
        await query.order_by("name", "id")
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
        .prefetch_related("tags", "responsible")
    )
    return rows[:per_page], len(rows) > per_page


async def matching_ids(actor: User, filters: ClientFilters, limit: int = 100_000) -> list[int]:
    query = await client_query(actor, filters)
    return cast(list[int], await query.order_by("id").limit(limit).values_list("id", flat=True))
