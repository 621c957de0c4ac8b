"""What every API handler uses: the key's user, the JSON body checked against the
documented types, pages, and the JSON shape of each resource."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from admin_web.errors import Unauthorized
from admin_web.security import INVALID_TEXT
from crm.apikeys import authenticate
from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.models import (
    Client,
    Conversation,
    FieldDefinition,
    Interaction,
    Interest,
    Message,
    User,
)
from crm.normalize import storable, whole_number

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


# --- the body ----------------------------------------------------------------------------

Spec = Mapping[str, tuple[str, int]]  # field -> (type, max length); types below


async def body(
    request: web.Request, spec: Spec, *, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The JSON object of the request, each field of the documented type; refused whole
    (422, every offending field named) otherwise."""
    raw = await request.read()
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed.field("body", N_("Send a JSON object")) from None
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", N_("Send a JSON object"))
    errors = field_errors(data, spec, required=required)
    if errors:
        raise ValidationFailed(fields=errors)
    return data


def field_errors(
    data: Mapping[str, Any], spec: Spec, *, required: tuple[str, ...] = (), prefix: str = ""
) -> dict[str, str | Text]:
    """What is wrong with each field of a JSON object (`prefix` names a nested one)."""
    errors: dict[str, str | Text] = {}
    for key, value in data.items():
        if key not in spec:
            errors[prefix + str(key)[:100]] = N_("Unknown field")
            continue
        kind, limit = spec[key]
        message = _check(kind, limit, value)
        if message:
            errors[prefix + key] = message
    for key in required:
        if data.get(key) in (None, ""):
            errors.setdefault(prefix + key, N_("Required"))
    return errors


def _text_ok(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit and storable(value)


def _unstorable(value: Any) -> bool:
    return isinstance(value, str) and not storable(value)


def _check(kind: str, limit: int, value: Any) -> str | Text | None:
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return None if nullable else N_("Required")
    if kind == "str":
        if not isinstance(value, str) or len(value) > limit:
            return Text(N_("Text of at most {n} characters expected"), n=limit)
        return None if storable(value) else INVALID_TEXT
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31
        return None if ok else N_("A positive whole number expected")
    if kind == "bool":
        return None if isinstance(value, bool) else N_("true or false expected")
    if kind == "number":
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or _text_ok(value, 40)
        return None if ok else N_("A number expected")
    if kind == "list":
        ok = isinstance(value, list) and len(value) <= 50 and all(_text_ok(v, limit) for v in value)
        if not ok and isinstance(value, list) and any(_unstorable(v) for v in value):
            return INVALID_TEXT
        return None if ok else N_("A list of texts expected")
    if kind == "custom":
        if not isinstance(value, dict) or len(value) > 200:
            return N_("An object of field id to value expected")
        for key, item in value.items():
            if whole_number(key) is None:
                return N_("An object of field id to value expected")
            if _unstorable(item):
                return INVALID_TEXT
            if item is not None and not (
                isinstance(item, bool | int | float) or _text_ok(item, 4000)
            ):
                return N_("An object of field id to value expected")
        return None
    if kind == "object":
        return None if isinstance(value, dict) else N_("An object expected")
    return N_("Unknown field")


def page_args(request: web.Request) -> tuple[int, int]:
    def number(name: str, default: int, top: int) -> int:
        raw = request.query.get(name)
        if raw is None:
            return default
        value = whole_number(raw, max_digits=len(str(top)))
        if value is None or not 1 <= value <= top:
            raise ValidationFailed.field(name, N_("Out of range"))
        return value

    return number("page", 1, 100_000), number("per_page", 50, MAX_PER_PAGE)


def query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None:
        raise ValidationFailed.field(name, N_("A positive whole number expected"))
    return value


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
