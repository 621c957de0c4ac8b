"""The client card: sections of custom fields, key persons, interests, conversations,
change history, duplicates (merging them: client_merge); admins edit it, managers read
their own."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin, require_user
from admin_web.render import flash, gettext_for, redirect, render
from admin_web.views.client_merge import merges_into
from admin_web.views.clients import kind_choices, relation_choices
from crm import clients as client_service
from crm import clock, fields
from crm.access import access_client, may_merge_clients
from crm.client_card import get_persons
from crm.duplicates import REASONS as DUPLICATE_REASONS
from crm.duplicates import find_duplicates
from crm.history import list_changes
from crm.i18n import N_
from crm.interactions import feed
from crm.models import (
    Client,
    ClientContact,
    ContactKind,
    Conversation,
    FieldDefinition,
    Interest,
    Message,
    User,
)
from crm.money.facts import client_money
from crm.segments.abcxyz import class_of
from crm.suggested_phones import add_suggested_phone, suggested_phones

routes = web.RouteTableDef()


def _sections(values: list[tuple[FieldDefinition, Any]]) -> list[tuple[str, list[Any]]]:
    """Custom values grouped by card section, in card order."""
    groups: dict[str, list[Any]] = {}
    for definition, value in values:
        name = definition.section.name if definition.section else ""
        groups.setdefault(name, []).append((definition, value))
    return list(groups.items())


async def _conversations(client: Client) -> list[tuple[Conversation, list[Message]]]:
    result = []
    for conversation in (
        await Conversation.filter(client_id=client.id)
        .prefetch_related("channel")
        .order_by("-last_message_at", "-id")
        .limit(5)
    ):
        messages = await Message.filter(conversation_id=conversation.id).order_by("-id").limit(20)
        result.append((conversation, list(reversed(messages))))
    return result


@routes.get(r"/clients/{id:\d+}")
async def client_card(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    client = await access_client(user, forms.match_int(request.match_info["id"]))
    await client.fetch_related("tags", "responsible")
    contacts = await ClientContact.filter(client_id=client.id).order_by("position")
    values = await fields.values_of(client)
    context: dict[str, Any] = {
        "client": client,
        "phones": [c.value for c in contacts if c.kind == ContactKind.PHONE],
        "emails": [c.value for c in contacts if c.kind == ContactKind.EMAIL],
        "suggested_phones": await suggested_phones(client),
        "sections": _sections(values),
        "values": values,
        "persons": await get_persons(client),
        "interests": await Interest.filter(client_id=client.id)
        .order_by("-id")
        .prefetch_related("stage", "responsible"),
        "feed": await feed(client_id=client.id, limit=30),
        "now": clock.now(),  # planned interactions before it are marked overdue
        "history": await list_changes("client", client.id, limit=100),
        "duplicates": await find_duplicates(client.id, actor=user),
        "duplicate_reasons": DUPLICATE_REASONS,
        "merges": await merges_into(client.id) if may_merge_clients(user) else [],
        "may_merge": may_merge_clients(user),
        "conversations": await _conversations(client),
        "local_time": client_service.client_local_time(client),
        "relation_names": dict(relation_choices(request)),
        "relations": relation_choices(request),
        "kinds": kind_choices(request),
        "people_choices": await _people(),
        "money": await client_money(client.id),
        "client_class": await class_of(client.id),
    }
    return await render(request, "client.html", context)


async def _people() -> list[tuple[int, str]]:
    return [(u.id, u.full_name) for u in await User.filter(is_active=True).order_by("full_name")]


def _card_changes(form: forms.Form) -> dict[str, Any]:
    def split(raw: str) -> list[str]:
        return [v.strip() for v in raw.replace("\n", ",").split(",") if v.strip()]

    return {
        "kind": forms.text(form, "kind"),
        "name": forms.text(form, "name"),
        "legal_name": forms.text(form, "legal_name"),
        "inn": forms.text(form, "inn") or None,
        "kpp": forms.text(form, "kpp") or None,
        "org_form": forms.text(form, "org_form"),
        "birthday": forms.text(form, "birthday") or None,
        "region": forms.text(form, "region"),
        "relation_type": forms.text(form, "relation_type"),
        "responsible_id": forms.text(form, "responsible_id") or None,
        "note": forms.text(form, "note"),
        "phones": split(forms.text(form, "phones")),
        "emails": split(forms.text(form, "emails")),
        "tags": split(forms.text(form, "tags")),
    }


async def _custom_values(form: forms.Form, kind: str) -> dict[int, Any]:
    """Every custom field of the form (an empty one clears the value)."""
    custom: dict[int, Any] = {}
    for definition in await fields.definitions_for():
        key = f"field_{definition.id}"
        if key in form and fields.applies_to(definition, _client_kind(kind)):
            custom[definition.id] = forms.text(form, key) or None
    return custom


def _client_kind(kind: str) -> Any:
    from crm.models import ClientKind

    try:
        return ClientKind(kind)
    except ValueError:
        return ClientKind.INDIVIDUAL


@routes.get("/clients/new")
async def client_new(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await render(
        request,
        "client_new.html",
        {
            "relations": relation_choices(request),
            "kinds": kind_choices(request),
            "people_choices": await _people(),
        },
    )


@routes.post("/clients/new")
async def client_create(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    card = {k: v for k, v in _card_changes(form).items() if v not in (None, "", [])}
    kind = card.pop("kind", "individual")
    name = card.pop("name", "")
    client = await client_service.create_client(actor=admin, kind=kind, name=name, **card)
    await flash(request, gettext_for(request, N_("Client “{name}” created"), name=client.name))
    return redirect(f"/clients/{client.id}")


@routes.post(r"/clients/{id:\d+}")
async def client_edit(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    client = await access_client(admin, forms.match_int(request.match_info["id"]))
    form = await request.post()
    changes = _card_changes(form)
    custom = await _custom_values(form, str(changes["kind"]))
    await client_service.update_client(client.id, changes, actor=admin, custom=custom)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/clients/{client.id}")


@routes.post(r"/clients/{id:\d+}/phones/suggested")
async def suggested_phone_add(request: web.Request) -> web.StreamResponse:
    """One click: a phone the customer shared in Viber becomes one of the client's phones
    (only a suggested one; whoever may change the client may do it)."""
    user = require_user(request)
    client_id = forms.match_int(request.match_info["id"])
    form = await request.post()
    phone = forms.text(form, "phone")
    await add_suggested_phone(client_id, phone, actor=user)
    await flash(request, gettext_for(request, N_("Phone {phone} added"), phone=phone))
    return redirect(f"/clients/{client_id}")


@routes.post(r"/clients/{id:\d+}/persons")
async def person_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    client_id = forms.match_int(request.match_info["id"])
    form = await request.post()
    data = {
        key: forms.text(form, key)
        for key in ("name", "role", "phone", "email", "birthday")
        if forms.text(form, key) or key == "name"
    }
    person = await client_service.add_person(client_id, actor=admin, **data)
    await flash(request, gettext_for(request, N_("Key person {name} added"), name=person.name))
    return redirect(f"/clients/{client_id}#persons")
