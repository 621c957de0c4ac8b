"""/api/v1/clients (CRUD, custom fields, search) and /api/v1/fields.

A new client whose INN a client already has is a twin: `POST /clients` refuses it with 409
`duplicate` naming that client (`client_id`, when the key's user may see it), unless
`on_duplicate=update` (that client is changed with the body and answered, 200) or
`on_duplicate=create` (the twin is made anyway, 201). Which identity is decisive is
`crm.duplicates.decisive_twin`'s rule."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import ConfigDict, Field

from admin_web.api import answers
from admin_web.api.base import client_json, field_json
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Body, Id, Page, PerPage, Query, named, text_of
from admin_web.forms import searched
from crm import clients as client_service
from crm import fields
from crm.access import access_client
from crm.client_list import ClientFilters, find_clients, next_cursor
from crm.deletion import delete_client
from crm.duplicates import decisive_twin, refuse_twin
from crm.models import Client, ClientContact, ContactKind

api = Api("clients")

INN = r"^([0-9]{10}|[0-9]{12})?$"  # 10 digits for a legal entity, 12 for an individual
KPP = r"^([0-9]{4}[0-9A-Z]{2}[0-9]{3})?$"
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
CustomKey = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,9}$")]
CustomValue = (
    Annotated[str, Field(max_length=4000, pattern=r"^[^\u0000]*$")] | int | float | bool | None
)


class ClientChanges(Body):
    """A client's card; in a change, a field left out stays as it is and `null` or "" clears
    an optional text. An INN must pass its checksum, a KPP belongs to a legal entity, a
    phone must be a valid number and an email an address, a `responsible_id` an active
    user, and `custom` takes the ids of `/fields` with values of their type: refused
    with 422 otherwise."""

    kind: Literal["legal", "individual"] | None = None
    name: Annotated[str, named(300)] | None = None
    legal_name: Annotated[str, text_of(500)] | None = None
    inn: Annotated[str | None, Field(pattern=INN)] = None
    kpp: Annotated[str | None, Field(pattern=KPP)] = None
    org_form: Annotated[str, text_of(50)] | None = None
    birthday: date | None = None
    region: Annotated[str, text_of(100)] | None = None
    timezone: Annotated[str, text_of(64)] | None = Field(None, description="an IANA time zone")
    relation_type: answers.Relation | None = None
    responsible_id: Id | None = None
    is_lead: bool | None = None
    lead_source: Annotated[str, text_of(200)] | None = None
    note: Annotated[str, text_of(4000)] | None = None
    phones: Annotated[list[Annotated[str, text_of(40)]], Field(max_length=50)] | None = None
    emails: Annotated[list[Email], Field(max_length=50)] | None = None
    tags: Annotated[list[Annotated[str, text_of(100)]], Field(max_length=50)] | None = None
    custom: Annotated[dict[CustomKey, CustomValue], Field(max_length=200)] | None = Field(
        None, description="custom field id -> value (a list field takes its value's text)"
    )


class ClientInput(ClientChanges):
    """A new client: `name` is required, `kind` is `individual` unless given."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "legal",
                    "name": "ООО Ромашка",
                    "inn": "7736050003",
                    "phones": ["8 916 123-45-67"],
                    "emails": ["info@romashka.example"],
                    "tags": ["VIP"],
                }
            ]
        }
    )

    name: Annotated[str, named(300)]


class OnDuplicate(Query):
    on_duplicate: Literal["refuse", "update", "create"] = Field(
        "refuse",
        description="when a client already has the INN: refuse (409 `duplicate`), update "
        "that client with the body (200), or create a twin anyway (201)",
    )


Sort = Literal[
    "name",
    "-name",
    "last_contact",
    "-last_contact",
    "responsible",
    "-responsible",
    "created",
    "-created",
]


class ClientQuery(Query):
    q: Annotated[str, text_of(200)] | None = Field(None, description="name, INN, phone or email")
    tag_id: Id | None = None
    responsible_id: Id | None = None
    relation_type: answers.Relation | None = None
    kind: answers.ClientKind | None = None
    sort: Sort = Field("name", description="the column (`-` for the other way), id breaks ties")
    after: Annotated[str, Field(max_length=1000, pattern=r"^[A-Za-z0-9_-]+$")] | None = Field(
        None,
        description="the previous page's `next_after`: the page after it, as fast however "
        "deep (keyset paging; `page` is then ignored); a cursor of another sort, or none "
        "read, gives the first page",
    )
    page: Page = 1
    per_page: PerPage = 50


class ClientPage(answers.PageOf[answers.Client]):
    next_after: str | None = Field(description="`after` of the next page (null on the last page)")


async def _shape(client: Client, *, with_custom: bool = True) -> dict[str, Any]:
    contacts = await ClientContact.filter(client_id=client.id).order_by("position")
    tags = sorted(await client.tags.all().values_list("name", flat=True))
    return client_json(
        client,
        phones=[c.value for c in contacts if c.kind == ContactKind.PHONE],
        emails=[c.value for c in contacts if c.kind == ContactKind.EMAIL],
        tags=[str(t) for t in tags],
        custom=await fields.values_of(client) if with_custom else None,
    )


async def _shape_page(rows: list[Client]) -> list[dict[str, Any]]:
    """A page of clients as `_shape` without custom fields: their contacts in one read, the
    tags as `find_clients` fetched them (a read per client took most of a page's time)."""
    contacts: dict[int, list[ClientContact]] = {c.id: [] for c in rows}
    for contact in await ClientContact.filter(client_id__in=list(contacts)).order_by(
        "client_id", "position", "id"
    ):
        contacts[contact.client_id].append(contact)  # type: ignore[attr-defined]
    return [
        client_json(
            client,
            phones=[c.value for c in contacts[client.id] if c.kind == ContactKind.PHONE],
            emails=[c.value for c in contacts[client.id] if c.kind == ContactKind.EMAIL],
            tags=sorted(str(t.name) for t in client.tags),
        )
        for client in rows
    ]


OPTIONAL_TEXTS = ("legal_name", "org_form", "region", "lead_source", "note")
CLEARED_TO_NONE = ("inn", "kpp", "birthday", "timezone", "responsible_id")


def _card(data: ClientChanges) -> tuple[dict[str, Any], dict[int, Any]]:
    """The fields given (`null` or "" clears an optional one) and the custom values."""
    given = data.model_dump(exclude_unset=True)
    custom = {int(k): v for k, v in (given.pop("custom", None) or {}).items()}
    card = {}
    for key, value in given.items():
        if value is None and key in OPTIONAL_TEXTS:
            value = ""
        elif value == "" and key in CLEARED_TO_NONE:
            value = None
        elif value is None and key in ("phones", "emails", "tags"):
            value = []
        if value is not None or key in CLEARED_TO_NONE:
            card[key] = value
    return card, custom


@api.get("/clients", "Find clients", query=ClientQuery, answers={200: ClientPage})
async def list_clients(call: Call[None, ClientQuery]) -> web.StreamResponse:
    query = call.query
    filters = ClientFilters(
        q=searched(query.q, "q"),
        tag_id=query.tag_id,
        responsible_id=query.responsible_id,
        relation_type=query.relation_type or "",
        kind=query.kind or "",
    )
    rows, has_more = await find_clients(
        call.user,
        filters,
        page=query.page,
        per_page=query.per_page,
        sort=query.sort,
        after=query.after,
    )
    return json(
        {
            "items": await _shape_page(rows),
            "page": query.page,
            "per_page": query.per_page,
            "has_more": has_more,
            "next_after": next_cursor(rows, query.sort, has_more),
        }
    )


@api.post(
    "/clients",
    "Create a client (a client with the same INN: see on_duplicate)",
    body=ClientInput,
    query=OnDuplicate,
    answers={201: answers.Client, 200: answers.Client},
    errors=(403, 409),
)
async def create_client(call: Call[ClientInput, OnDuplicate]) -> web.StreamResponse:
    card, custom = _card(call.body)
    kind = card.pop("kind", None) or "individual"
    inn, kpp = card.get("inn"), card.get("kpp")
    if call.query.on_duplicate == "refuse":
        await refuse_twin(kind=kind, inn=inn, kpp=kpp, actor=call.user)
    elif call.query.on_duplicate == "update":
        twin = await decisive_twin(kind=kind, inn=inn, kpp=kpp, actor=call.user)
        if twin is not None:
            card["kind"] = kind if "kind" in call.body.model_fields_set else twin.kind
            client = await client_service.update_client(
                twin.id, card, actor=call.user, custom=custom
            )
            return json(await _shape(client))
    name_ = card.pop("name")
    client = await client_service.create_client(
        actor=call.user, kind=kind, name=name_, custom=custom, **card
    )
    return json(await _shape(client), status=201)


@api.get("/clients/{id}", "A client with its custom fields", answers={200: answers.Client})
async def get_client(call: Call[None, None]) -> web.StreamResponse:
    client = await access_client(call.user, call.id)
    return json(await _shape(client))


@api.patch(
    "/clients/{id}",
    "Change a client",
    body=ClientChanges,
    answers={200: answers.Client},
    errors=(403,),
)
async def update_client(call: Call[ClientChanges, None]) -> web.StreamResponse:
    await access_client(call.user, call.id)
    card, custom = _card(call.body)
    client = await client_service.update_client(call.id, card, actor=call.user, custom=custom)
    return json(await _shape(client))


@api.delete("/clients/{id}", "Delete a client (admins)", answers={204: None}, errors=(403,))
async def remove_client(call: Call[None, None]) -> web.StreamResponse:
    await delete_client(call.id, actor=call.user)
    return web.Response(status=204)


@api.get("/fields", "Custom client fields", answers={200: answers.Items[answers.Field]})
async def list_fields(call: Call[None, None]) -> web.StreamResponse:
    definitions = await fields.definitions_for()
    return json({"items": [field_json(d) for d in definitions]})
