"""The OpenAPI 3.0 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crm.errors import (
    Conflict,
    CrmError,
    ExternalError,
    NextStepRequired,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

routes = web.RouteTableDef()

S = dict[str, Any]
ERROR_CODES = sorted(
    {
        cls.code
        for cls in (
            CrmError, ValidationFailed, NotFound, PermissionDenied, Conflict, NextStepRequired,
            ExternalError,
        )
    }
    | {"unauthorized", "bad_request", "method_not_allowed", "too_large", "stage_in_use",
       "invalid_inn", "invalid_kpp", "unsubscribed", "merge_in_use", "csrf_failed"}
)  # fmt: skip


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: S) -> S:
    return {**schema, "nullable": True}


TEXT: S = {"type": "string"}
ID: S = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
MOMENT: S = {"type": "string", "format": "date-time"}


def obj(properties: dict[str, S], required: list[str] | None = None, **extra: Any) -> S:
    schema: S = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def text(limit: int, **extra: Any) -> S:
    return {"type": "string", "maxLength": limit, **extra}


CLIENT_FIELDS: dict[str, S] = {
    "kind": {"type": "string", "enum": ["legal", "individual"]},
    "name": text(300, minLength=1),
    "legal_name": nullable(text(500)),
    "inn": nullable(text(12)),
    "kpp": nullable(text(9)),
    "org_form": nullable(text(50)),
    "birthday": nullable(text(10, format="date")),
    "region": nullable(text(100)),
    "timezone": nullable(text(64)),
    "relation_type": {
        "type": "string",
        "enum": ["buyer", "supplier", "competitor", "government", "founder", "other"],
    },
    "responsible_id": nullable(ID),
    "is_lead": {"type": "boolean"},
    "lead_source": nullable(text(200)),
    "note": nullable(text(4000)),
    "phones": {"type": "array", "items": text(40), "maxItems": 50},
    "emails": {"type": "array", "items": text(254), "maxItems": 50},
    "tags": {"type": "array", "items": text(100), "maxItems": 50},
    "custom": {
        "type": "object",
        "description": "custom field id -> value (list fields take the value's text)",
        "additionalProperties": {
            "nullable": True,
            "oneOf": [text(4000), {"type": "number"}, {"type": "boolean"}],
        },
    },
}

SCHEMAS: dict[str, S] = {
    "Error": obj(
        {
            "error": obj(
                {
                    "code": {"type": "string", "enum": ERROR_CODES},
                    "message": TEXT,
                    "fields": {"type": "object", "additionalProperties": TEXT},
                },
                ["code", "message", "fields"],
            )
        },
        ["error"],
    ),
    "CustomValue": obj(
        {
            "field_id": ID,
            "name": TEXT,
            "value": {"nullable": True, "oneOf": [TEXT, {"type": "boolean"}]},
        },
        ["field_id", "name", "value"],
    ),
    "Client": obj(
        {
            "id": ID,
            "kind": CLIENT_FIELDS["kind"],
            "name": TEXT,
            "legal_name": TEXT,
            "inn": nullable(TEXT),
            "kpp": nullable(TEXT),
            "org_form": TEXT,
            "birthday": nullable({"type": "string", "format": "date"}),
            "region": TEXT,
            "timezone": nullable(TEXT),
            "relation_type": CLIENT_FIELDS["relation_type"],
            "responsible_id": nullable(ID),
            "is_lead": {"type": "boolean"},
            "note": TEXT,
            "phones": {"type": "array", "items": TEXT},
            "emails": {"type": "array", "items": TEXT},
            "tags": {"type": "array", "items": TEXT},
            "custom": {"type": "array", "items": ref("CustomValue")},
            "created_at": MOMENT,
            "updated_at": MOMENT,
        },
        ["id", "kind", "name", "phones", "emails", "tags", "relation_type"],
    ),
    "ClientInput": obj(CLIENT_FIELDS, ["name"], additionalProperties=False),
    "ClientChanges": obj(CLIENT_FIELDS, additionalProperties=False),
    "Field": obj(
        {
            "id": ID,
            "name": TEXT,
            "type": {"type": "string", "enum": ["list", "string", "number", "flag", "date"]},
            "belongs_to": {"type": "string", "enum": ["all", "legal", "individual"]},
            "section": nullable(TEXT),
            "required": {"type": "boolean"},
            "options": {"type": "array", "items": TEXT},
        },
        ["id", "name", "type", "belongs_to", "options"],
    ),
    "Interest": obj(
        {
            "id": ID,
            "client_id": ID,
            "title": TEXT,
            "scenario_id": ID,
            "stage_id": ID,
            "responsible_id": nullable(ID),
            "amount": nullable({"type": "string", "description": "decimal"}),
            "currency": TEXT,
            "status": {"type": "string", "enum": ["open", "won", "lost"]},
            "loss_reason_id": nullable(ID),
            "closed_at": nullable(MOMENT),
            "created_at": MOMENT,
        },
        ["id", "client_id", "title", "scenario_id", "stage_id", "status"],
    ),
    "InterestInput": obj(
        {
            "client_id": ID,
            "title": text(300, minLength=1),
            "scenario_id": nullable(ID),
            "amount": {"oneOf": [{"type": "number"}, text(40)]},
            "responsible_id": nullable(ID),
        },
        ["client_id", "title"],
        additionalProperties=False,
    ),
    "Interaction": obj(
        {
            "id": ID,
            "client_id": ID,
            "interest_id": nullable(ID),
            "responsible_id": nullable(ID),
            "kind": {
                "type": "string",
                "enum": ["call", "meeting", "email", "message", "sms", "task", "note"],
            },
            "subject": TEXT,
            "content": TEXT,
            "state": {"type": "string", "enum": ["planned", "done", "cancelled"]},
            "planned_at": nullable(MOMENT),
            "done_at": nullable(MOMENT),
        },
        ["id", "client_id", "kind", "state"],
    ),
    "Plan": obj(
        {
            "client_id": nullable(ID),
            "interest_id": nullable(ID),
            "kind": {
                "type": "string",
                "enum": ["call", "meeting", "email", "message", "sms", "task", "note"],
            },
            "planned_at": text(40, format="date-time"),
            "subject": nullable(text(300)),
            "content": nullable(text(4000)),
            "responsible_id": nullable(ID),
        },
        ["kind", "planned_at"],
        additionalProperties=False,
    ),
    "Conversation": obj(
        {
            "id": ID,
            "client_id": ID,
            "channel_id": ID,
            "interest_id": nullable(ID),
            "last_message_at": nullable(MOMENT),
        },
        ["id", "client_id", "channel_id"],
    ),
    "Message": obj(
        {
            "id": ID,
            "conversation_id": ID,
            "direction": {"type": "string", "enum": ["in", "out"]},
            "text": TEXT,
            "status": TEXT,
            "author_id": nullable(ID),
            "created_at": MOMENT,
        },
        ["id", "conversation_id", "direction", "text", "status"],
    ),
}


def page_of(name: str) -> S:
    return obj(
        {
            "items": {"type": "array", "items": ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "has_more": {"type": "boolean"},
        },
        ["items", "page", "per_page", "has_more"],
    )


def list_of(name: str) -> S:
    return obj({"items": {"type": "array", "items": ref(name)}}, ["items"])


def answer(status: int, schema: S | None, description: str = "OK") -> dict[str, S]:
    if schema is None:
        return {str(status): {"description": description}}
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


ERRORS = {
    str(code): {"description": text_, "content": {"application/json": {"schema": ref("Error")}}}
    for code, text_ in (
        (401, "No valid API key"),
        (403, "Not allowed"),
        (404, "Not found, or not visible to the key's user"),
        (409, "The state forbids it"),
        (422, "Invalid input; `fields` names each offending field"),
    )
}
PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]
PATH_ID = [{"name": "id", "in": "path", "required": True, "schema": ID}]


def op(
    summary: str,
    ok: dict[str, S],
    *,
    params: list[S] | None = None,
    body: S | None = None,
    tag: str,
) -> S:
    operation: S = {
        "summary": summary,
        "tags": [tag],
        "parameters": params or [],
        "responses": {**ok, **ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


EMPTY: S = obj({}, additionalProperties=False)


def document() -> S:
    client_query = [
        {
            "name": "q",
            "in": "query",
            "schema": text(200),
            "description": "name, INN, phone or email",
        },
        {"name": "tag_id", "in": "query", "schema": ID},
        {"name": "responsible_id", "in": "query", "schema": ID},
        {"name": "relation_type", "in": "query", "schema": CLIENT_FIELDS["relation_type"]},
        {"name": "kind", "in": "query", "schema": CLIENT_FIELDS["kind"]},
    ]
    paths: S = {
        "/clients": {
            "get": op(
                "Find clients",
                answer(200, page_of("Client")),
                params=client_query + PAGE_PARAMS,
                tag="clients",
            ),
            "post": op(
                "Create a client",
                answer(201, ref("Client"), "Created"),
                body=ref("ClientInput"),
                tag="clients",
            ),
        },
        "/clients/{id}": {
            "get": op(
                "A client with its custom fields",
                answer(200, ref("Client")),
                params=PATH_ID,
                tag="clients",
            ),
            "patch": op(
                "Change a client",
                answer(200, ref("Client")),
                params=PATH_ID,
                body=ref("ClientChanges"),
                tag="clients",
            ),
            "delete": op(
                "Delete a client (admins)",
                answer(204, None, "Deleted"),
                params=PATH_ID,
                tag="clients",
            ),
        },
        "/fields": {
            "get": op("Custom client fields", answer(200, list_of("Field")), tag="clients")
        },
        "/interests": {
            "get": op(
                "Interests (deals)",
                answer(200, page_of("Interest")),
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "won", "lost"]},
                    },
                    {"name": "client_id", "in": "query", "schema": ID},
                    *PAGE_PARAMS,
                ],
                tag="interests",
            ),
            "post": op(
                "Open an interest",
                answer(201, ref("Interest"), "Created"),
                body=ref("InterestInput"),
                tag="interests",
            ),
        },
        "/interests/{id}": {
            "get": op("An interest", answer(200, ref("Interest")), params=PATH_ID, tag="interests")
        },
        "/interests/{id}/move": {
            "post": op(
                "Move to a stage",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=obj({"stage_id": ID}, ["stage_id"], additionalProperties=False),
                tag="interests",
            )
        },
        "/interests/{id}/win": {
            "post": op(
                "Mark won",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=EMPTY,
                tag="interests",
            )
        },
        "/interests/{id}/lose": {
            "post": op(
                "Mark lost with a reason",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=obj({"reason_id": ID}, ["reason_id"], additionalProperties=False),
                tag="interests",
            )
        },
        "/interactions": {
            "get": op(
                "The feed of a client or an interest",
                answer(200, list_of("Interaction")),
                params=[
                    {"name": "client_id", "in": "query", "schema": ID},
                    {"name": "interest_id", "in": "query", "schema": ID},
                ],
                tag="interactions",
            ),
            "post": op(
                "Plan an interaction",
                answer(201, ref("Interaction"), "Planned"),
                body=ref("Plan"),
                tag="interactions",
            ),
        },
        "/interactions/{id}/complete": {
            "post": op(
                "Complete, and plan the next one",
                answer(
                    200,
                    obj(
                        {"done": ref("Interaction"), "next": nullable(ref("Interaction"))},
                        ["done", "next"],
                    ),
                ),
                params=PATH_ID,
                body=obj(
                    {"result": nullable(text(4000)), "next": {"type": "object", "nullable": True}},
                    additionalProperties=False,
                ),
                tag="interactions",
            )
        },
        "/interactions/{id}/cancel": {
            "post": op(
                "Cancel (restorable)",
                answer(200, ref("Interaction")),
                params=PATH_ID,
                body=EMPTY,
                tag="interactions",
            )
        },
        "/conversations": {
            "get": op(
                "Conversations",
                answer(200, page_of("Conversation")),
                params=PAGE_PARAMS,
                tag="conversations",
            )
        },
        "/conversations/{id}/messages": {
            "get": op(
                "Messages, oldest first",
                answer(200, list_of("Message")),
                params=[
                    *PATH_ID,
                    {"name": "before_id", "in": "query", "schema": ID},
                    PAGE_PARAMS[1],
                ],
                tag="conversations",
            ),
            "post": op(
                "Send a message to the client",
                answer(201, ref("Message"), "Queued"),
                params=PATH_ID,
                body=obj({"text": text(20000, minLength=1)}, ["text"], additionalProperties=False),
                tag="conversations",
            ),
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "crmhub API",
            "version": "1",
            "description": "Clients, interests, interactions and conversations. Every key "
            "acts as one user, with that user's rights. "
            "Errors: `{error: {code, message, fields}}`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": paths,
    }


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(document())
