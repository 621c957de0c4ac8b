"""The component schemas of the /api/v1 document: the bodies the API takes and answers,
and the JSON Schema building blocks the paths use too."""

from __future__ import annotations

from typing import Any

from crm.errors import (
    Conflict,
    CrmError,
    ExternalError,
    NextStepRequired,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

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
       "invalid_inn", "invalid_kpp", "unsubscribed", "merge_in_use", "csrf_failed",
       "inquiry_taken"}
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
    "Inquiry": obj(
        {
            "id": ID,
            "conversation_id": ID,
            "client_id": ID,
            "channel_id": ID,
            "status": {"type": "string", "enum": ["open", "accepted", "rejected"]},
            "first_message_at": MOMENT,
            "decided_by_id": nullable(ID),
            "interest_id": nullable(ID),
        },
        ["id", "conversation_id", "client_id", "channel_id", "status", "first_message_at"],
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
