"""What every API handler uses: the key's user, the path's id, pages, and the JSON shape
of each resource (the models of `answers` document them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from admin_web.errors import Unauthorized
from crm.apikeys import authenticate
from crm.models import (
    Client,
    Conversation,
    FieldDefinition,
    Interaction,
    Interest,
    Message,
    User,
)

USER = web.RequestKey("api_user", User)
MAX_PER_PAGE = 200


async def api_user(request: web.Request) -> User:
    """The user the request's API key acts as (`Authorization: Bearer <key>`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized()
    user = await authenticate(key.strip())
    if user is None:
        raise Unauthorized()
    request[USER] = user
    return user


def page(items: list[Any], page_no: int, per_page: int, has_more: bool) -> web.Response:
    return web.json_response(
        {"items": items, "page": page_no, "per_page": per_page, "has_more": has_more}
    )


def match_id(request: web.Request, name: str = "id") -> int:
    from admin_web.forms import match_int

    return match_int(request.match_info[name])


# --- shapes ------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def client_json(
    client: Client,
    *,
    phones: list[str],
    emails: list[str],
    tags: list[str],
    custom: list[tuple[FieldDefinition, Any]] | None = None,
) -> dict[str, Any]:
    data = {
        "id": client.id,
        "kind": client.kind.value,
        "name": client.name,
        "legal_name": client.legal_name,
        "inn": client.inn,
        "kpp": client.kpp,
        "org_form": client.org_form,
        "birthday": plain(client.birthday),
        "region": client.region,
        "timezone": client.timezone,
        "relation_type": client.relation_type.value,
        "responsible_id": client.responsible_id,  # type: ignore[attr-defined]
        "is_lead": client.is_lead,
        "note": client.note,
        "phones": phones,
        "emails": emails,
        "tags": tags,
        "created_at": plain(client.created_at),
        "updated_at": plain(client.updated_at),
    }
    if custom is not None:
        data["custom"] = [{"field_id": d.id, "name": d.name, "value": plain(v)} for d, v in custom]
    return data


def interest_json(interest: Interest) -> dict[str, Any]:
    return {
        "id": interest.id,
        "client_id": interest.client_id,  # type: ignore[attr-defined]
        "title": interest.title,
        "scenario_id": interest.scenario_id,  # type: ignore[attr-defined]
        "stage_id": interest.stage_id,  # type: ignore[attr-defined]
        "responsible_id": interest.responsible_id,  # type: ignore[attr-defined]
        "amount": plain(interest.amount),
        "currency": interest.currency,
        "status": interest.status.value,
        "loss_reason_id": interest.loss_reason_id,  # type: ignore[attr-defined]
        "closed_at": plain(interest.closed_at),
        "created_at": plain(interest.created_at),
    }


def interaction_json(x: Interaction) -> dict[str, Any]:
    return {
        "id": x.id,
        "client_id": x.client_id,  # type: ignore[attr-defined]
        "interest_id": x.interest_id,  # type: ignore[attr-defined]
        "responsible_id": x.responsible_id,  # type: ignore[attr-defined]
        "kind": x.kind.value,
        "subject": x.subject,
        "content": x.content,
        "state": x.state.value,
        "planned_at": plain(x.planned_at),
        "done_at": plain(x.done_at),
    }


def conversation_json(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "client_id": c.client_id,  # type: ignore[attr-defined]
        "channel_id": c.channel_id,  # type: ignore[attr-defined]
        "interest_id": c.interest_id,  # type: ignore[attr-defined]
        "last_message_at": plain(c.last_message_at),
    }


def message_json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,  # type: ignore[attr-defined]
        "direction": m.direction.value,
        "text": m.text,
        "status": m.status.value,
        "author_id": m.author_id,  # type: ignore[attr-defined]
        "created_at": plain(m.created_at),
    }


def field_json(d: FieldDefinition) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "type": d.type.value,
        "belongs_to": d.belongs_to.value,
        "section": d.section.name if d.section else None,
        "required": d.required,
        "options": [o.value for o in sorted(d.options, key=lambda o: (o.position, o.id))],
    }
