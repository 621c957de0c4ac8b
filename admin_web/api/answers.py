"""The JSON the /api/v1 endpoints answer, as models: the document's answer schemas. The
handlers' shapes (`base.client_json` and its kin) build this JSON; schemathesis checks
every answer against these schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from admin_web.api.types import Answer, Id
from crm.errors import (
    Conflict,
    CrmError,
    ExternalError,
    NextStepRequired,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

ClientKind = Literal["legal", "individual"]
Relation = Literal["buyer", "supplier", "competitor", "government", "founder", "other"]
InterestStatus = Literal["open", "won", "lost"]
InteractionKind = Literal["call", "meeting", "email", "message", "sms", "task", "note"]

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
       "unsupported_media_type", "duplicate", "inquiry_taken", "no_mailbox",
       "no_email_address", "no_channel", "never_wrote", "identity_taken", "switched_off",
       "mailing_started", "mailing_not_running", "mailing_not_paused", "mailing_ended"}
)  # fmt: skip


class ErrorDetail(Answer):
    code: str  # one of ERROR_CODES (the document lists them)
    message: str
    fields: dict[str, str]  # each offending field (a dotted path for nested ones)
    client_id: Id | None = None  # `duplicate`: the client that already has the identity


class Error(Answer):
    error: ErrorDetail


class CustomValue(Answer):
    field_id: Id
    name: str
    value: str | bool | None


class Client(Answer):
    id: Id
    kind: ClientKind
    name: str
    legal_name: str
    inn: str | None
    kpp: str | None
    org_form: str
    birthday: date | None
    region: str
    timezone: str | None
    relation_type: Relation
    responsible_id: Id | None
    is_lead: bool
    note: str
    phones: list[str]
    emails: list[str]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    custom: list[CustomValue] | None = None  # one client's answer has them, a list's not


class Field(Answer):
    id: Id
    name: str
    type: Literal["list", "string", "number", "flag", "date"]
    belongs_to: Literal["all", "legal", "individual"]
    section: str | None
    required: bool
    options: list[str]


class Interest(Answer):
    id: Id
    client_id: Id
    title: str
    scenario_id: Id
    stage_id: Id
    responsible_id: Id | None
    amount: str | None  # a decimal, as text
    currency: str
    status: InterestStatus
    loss_reason_id: Id | None
    closed_at: datetime | None
    created_at: datetime


class Interaction(Answer):
    id: Id
    client_id: Id
    interest_id: Id | None
    responsible_id: Id | None
    kind: InteractionKind
    subject: str
    content: str
    state: Literal["planned", "done", "cancelled"]
    planned_at: datetime | None
    done_at: datetime | None


class Completed(Answer):
    done: Interaction
    next: Interaction | None


class Conversation(Answer):
    id: Id
    client_id: Id
    channel_id: Id
    interest_id: Id | None
    last_message_at: datetime | None


class Message(Answer):
    id: Id
    conversation_id: Id
    direction: Literal["in", "out"]
    text: str
    status: str
    author_id: Id | None
    created_at: datetime


T = TypeVar("T", bound=BaseModel)


class Items(Answer, Generic[T]):
    items: list[T]


class PageOf(Answer, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    has_more: bool
