"""Finding clients for lists and the API: visible to the actor, filtered by text, tag,
responsible, relation type, kind or any custom field (list and flag fields by a chosen
value), sorted by a known column with the id as the tie-break, in pages; and how many
match: exact up to COUNT_CAP, past it "more than"; on PostgreSQL exact up to PG_EXACT and
past it the planner's estimate (for the whole unfiltered list pg_class.reltuples, for a
filtered one the EXPLAIN of its query, asked first), since an exact count of a million rows
takes longer than the page. The pages say which ("about N (an estimate)"); a first page
that holds every match is its own exact count (the views pass it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from tortoise import connections
from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.queryset import QuerySet

from crm import normalize
from crm.access import client_filter, sees_all_clients
from crm.client_pages import Cursor, cursor_of, keyset_page
from crm.errors import ValidationFailed
from crm.fields import option_maps, parse_value
from crm.i18n import N_
from crm.last_contact import NEVER
from crm.models import (
    Client,
    ClientClass,
    ClientContact,
    ClientKind,
    ContactKind,
    FieldDefinition,
    FieldType,
    FieldValue,
    RelationType,
    SegmentMember,
    User,
)

MAX_PAGE = 200
COUNT_CAP = 10_000  # matching clients counted exactly; past it the page says "more than"
PG_EXACT = 1_000  # on PostgreSQL, counted exactly up to this; past it the planner's estimate

# The moment of the last done interaction, kept on the client (crm.last_contact: never
# contacted is 1900-01-01, the oldest). Pages are read by crm.client_pages along indexes;
# these terms order the export and a page asked for by number.
_SORT_TERMS = {
    "name": RawSQL("clients.name"),
    "last_contact": RawSQL("clients.last_contact_at"),
    "responsible": RawSQL(
        "COALESCE((SELECT u.full_name FROM users u WHERE u.id = clients.responsible_id), '')"
    ),
    "created": RawSQL("clients.created_at"),
}
SORT_KEYS = tuple(_SORT_TERMS)  # "-key" sorts the other way


@dataclass(frozen=True)
class ClientFilters:
    q: str = ""
    tag_id: int | None = None
    responsible_id: int | None = None
    relation_type: str = ""
    kind: str = ""
    field_id: int | None = None
    field_value: str = ""
    # list and flag fields by value: (field id, option id or "1"/"0")
    choices: tuple[tuple[int, str], ...] = ()
    segment_id: int | None = None  # the segment's current members (crm.segments)
    abc: str = ""  # ABC/XYZ classes (crm.segments.abcxyz)
    xyz: str = ""

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set (the whole list otherwise)."""
        return bool(
            self.q.strip()
            or self.tag_id is not None
            or self.responsible_id is not None
            or self.relation_type
            or self.kind
            or (self.field_id is not None and self.field_value.strip())
            or self.choices
            or self.segment_id is not None
            or self.abc
            or self.xyz
        )


@dataclass(frozen=True)
class Total:
    """How many clients match: `count` exactly, or at least `count` (`more`), or about
    `count` (`estimate`)."""

    count: int
    more: bool = False
    estimate: bool = False


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


async def _choice_condition(field_id: int, raw: str) -> Q:
    """Clients whose list field has the option `raw` (its id) or whose flag is `raw`
    ("1" yes, "0" no); anything else, or another type of field, is refused."""
    definition = await FieldDefinition.filter(id=field_id).prefetch_related("options").first()
    if definition is None or definition.type not in (FieldType.LIST, FieldType.FLAG):
        raise ValidationFailed.field(f"cf_{field_id}", N_("Unknown field"))
    values = FieldValue.filter(definition_id=field_id)
    if definition.type == FieldType.FLAG:
        if raw not in ("1", "0"):
            raise ValidationFailed.field(f"cf_{field_id}", N_("Unknown choice"))
        values = values.filter(value_flag=raw == "1")
    else:
        options = {str(o.id) for o in definition.options}
        if raw not in options:
            raise ValidationFailed.field(f"cf_{field_id}", N_("Unknown choice"))
        values = values.filter(value_option_id=int(raw))
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
    query = _class_filters(query, filters, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    if filters.field_id is not None and filters.field_value.strip():
        query = query.filter(await _field_condition(filters.field_id, filters.field_value))
    for field_id, raw in filters.choices:
        query = query.filter(await _choice_condition(field_id, raw))
    return query


def _class_filters(
    query: QuerySet[Client], filters: ClientFilters, errors: dict[str, str]
) -> QuerySet[Client]:
    """A segment's current members; an ABC and an XYZ class."""
    if filters.segment_id is not None:
        members = SegmentMember.filter(segment_id=filters.segment_id, left_at__isnull=True)
        query = query.filter(id__in=Subquery(members.values("client_id")))
    for name, allowed in (("abc", "ABC"), ("xyz", "XYZ")):
        value = getattr(filters, name)
        if not value:
            continue
        if value not in allowed or len(value) != 1:
            errors[name] = N_("Unknown choice")
            continue
        classes = ClientClass.filter(**{name: value})
        query = query.filter(id__in=Subquery(classes.values("client_id")))
    return query


def sort_order(sort: str) -> tuple[str, bool]:
    """The column and direction of a `sort` value ("name", "-created"); unknown: refused."""
    key, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if key not in _SORT_TERMS:
        raise ValidationFailed.field("sort", N_("Unknown choice"))
    return key, descending


def sorted_query(query: QuerySet[Client], sort: str) -> QuerySet[Client]:
    """`query` ordered by `sort`, the id breaking ties in the same direction."""
    key, descending = sort_order(sort)
    sign = "-" if descending else ""
    return query.annotate(sort_key=_SORT_TERMS[key]).order_by(f"{sign}sort_key", f"{sign}id")


async def last_contacts(client_ids: list[int]) -> dict[int, Any]:
    """Each client's last contact (crm.last_contact; the clients never contacted left out)."""
    if not client_ids:
        return {}
    rows = await Client.filter(id__in=client_ids, last_contact_at__gt=NEVER).values_list(
        "id", "last_contact_at"
    )
    return dict(rows)


def shown_contacts(rows: list[Client]) -> dict[int, Any]:
    """`last_contacts` of clients already read."""
    return {c.id: c.last_contact_at for c in rows if c.last_contact_at > NEVER}


async def count_clients(actor: User, filters: ClientFilters) -> Total:
    """How many clients match, as fast as it can be told (see the module's docstring)."""
    conn = connections.get("default")
    if (
        conn.capabilities.dialect == "postgres"
        and not filters.narrowed
        and await sees_all_clients(actor)
    ):
        _, rows = await conn.execute_query(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'clients'::regclass"
        )
        estimate = int(rows[0][0]) if rows else -1
        if estimate > COUNT_CAP:
            return Total(estimate, estimate=True)
    query = await client_query(actor, filters)
    postgres = conn.capabilities.dialect == "postgres"
    cap = min(COUNT_CAP, PG_EXACT) if postgres else COUNT_CAP
    planned = await _planned_rows(query) if postgres else 0
    if planned > cap:
        # Counting on to COUNT_CAP cost 300 ms of a 350 ms page on a million clients
        # (bench/desk.py), and a manager's first PG_EXACT matches of a rare filter still
        # read 40,000 rows: the planner's estimate when it expects more than PG_EXACT.
        return Total(planned, estimate=True)
    ids = await query.limit(cap + 1).values_list("id", flat=True)
    if len(ids) <= cap:
        return Total(len(ids))
    if postgres:
        return Total(max(planned, cap + 1), estimate=True)
    return Total(COUNT_CAP, more=True)


async def _planned_rows(query: QuerySet[Client]) -> int:
    """The rows PostgreSQL's planner expects `query` to give (EXPLAIN: nothing is run)."""
    # Bound as the query runs: inlined, a list field's subquery kept its $ marks.
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    conn = connections.get("default")
    _, plan = await conn.execute_query(f"EXPLAIN (FORMAT JSON) {sql}", list(params))
    document = plan[0][0]
    rows = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return int(rows["Plan Rows"])


async def find_clients(
    actor: User,
    filters: ClientFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    sort: str = "name",
    after: str | None = None,
) -> tuple[list[Client], bool]:
    """One page of matching clients in `sort` order, and whether another page follows.

    The page after `after` (a `next_cursor` of this sort; anything else: the first page)
    is read by keyset (crm.client_pages), as is the first; a page by number past the first
    skips the rows before it (the pages' links use cursors)."""
    if page < 1 or not 1 <= per_page <= MAX_PAGE:
        raise ValidationFailed.field("page", N_("Out of range"))
    sort_order(sort)
    query = (await client_query(actor, filters)).prefetch_related("tags", "responsible")
    cursor = Cursor.read(after, sort)
    if cursor is not None or page == 1:
        only = filters.responsible_id
        if only is None and not await sees_all_clients(actor):
            only = actor.id  # a manager's list is their own clients
        rows = await keyset_page(query, sort, cursor, per_page + 1, responsible=only)
    else:
        rows = await sorted_query(query, sort).offset((page - 1) * per_page).limit(per_page + 1)
    return rows[:per_page], len(rows) > per_page


def next_cursor(rows: list[Client], sort: str, has_more: bool) -> str | None:
    """The `after` of the page following `rows` (None when none follows)."""
    return cursor_of(rows[-1], sort).text() if has_more and rows else None


async def matching_ids(actor: User, filters: ClientFilters, limit: int = 100_000) -> list[int]:
    query = await client_query(actor, filters)
    return cast(list[int], await query.order_by("id").limit(limit).values_list("id", flat=True))
