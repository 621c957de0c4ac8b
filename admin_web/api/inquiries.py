"""/api/v1/inquiries: the waiting inquiries the key's user may take, and accept (a deal
opens, as in the bot), reject (with a reason from the rejection-reason list; without one
only while the list is empty) and hand over (the client becomes the receiver's). Taken
atomically by the crm services: of two takers at the same moment one wins, the other gets
409 `inquiry_taken` naming who took it. The bot's cards of the inquiry and the open desks
are told (`inbox.events.InquiryDecided`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import ConfigDict

from admin_web.api import answers
from admin_web.api.base import interest_json
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Body, Id, PerPage, Query, named
from admin_web.views.desk_inquiries import decided
from crm.inquiries import accept_inquiry, open_inquiries, reject_inquiry
from crm.inquiry_handover import hand_inquiry
from crm.models import Inquiry as InquiryRow
from crm.models import InquiryStatus, Interest

api = Api("inquiries")


class Inquiry(Answer):
    id: Id
    conversation_id: Id
    client_id: Id
    channel_id: Id
    status: InquiryStatus
    first_message_at: datetime
    decided_by_id: Id | None
    interest_id: Id | None


class Inquiries(Answer):
    items: list[Inquiry]


class Waiting(Query):
    per_page: PerPage = 50


class Accept(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"title": "Диван в офис"}]})

    title: Annotated[str, named(300)] | None = None


class Reject(Body):
    reason_id: Id | None = None


class Handover(Body):
    to_user_id: Id


def inquiry_json(inquiry: InquiryRow) -> Inquiry:
    return Inquiry(
        id=inquiry.id,
        conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
        client_id=inquiry.client_id,  # type: ignore[attr-defined]
        channel_id=inquiry.channel_id,  # type: ignore[attr-defined]
        status=inquiry.status,
        first_message_at=inquiry.first_message_at,
        decided_by_id=inquiry.decided_by_id,  # type: ignore[attr-defined]
        interest_id=inquiry.interest_id,  # type: ignore[attr-defined]
    )


@api.get("/inquiries", "Waiting inquiries the key's user may take", query=Waiting,
         answers={200: Inquiries})  # fmt: skip
async def list_inquiries(call: Call[None, Waiting]) -> web.StreamResponse:
    rows = await open_inquiries(call.user, limit=call.query.per_page)
    return json(Inquiries(items=[inquiry_json(i) for i in rows]))


@api.post("/inquiries/{id}/accept", "Accept an inquiry: a deal opens", body=Accept,
          optional_body=True, answers={201: answers.Interest}, errors=(409,))  # fmt: skip
async def accept(call: Call[Accept, None]) -> web.StreamResponse:
    title = (call.body.title or "").strip() or None
    interest = await accept_inquiry(call.id, actor=call.user, title=title)
    await decided(await InquiryRow.get(id=call.id))
    return json(interest_json(await Interest.get(id=interest.id)), status=201)


@api.post("/inquiries/{id}/reject", "Reject an inquiry", body=Reject, optional_body=True,
          answers={200: Inquiry}, errors=(409,))  # fmt: skip
async def reject(call: Call[Reject, None]) -> web.StreamResponse:
    inquiry = await reject_inquiry(call.id, call.body.reason_id, actor=call.user)
    await decided(inquiry)
    return json(inquiry_json(inquiry))


@api.post("/inquiries/{id}/handover", "Hand an inquiry to another user", body=Handover,
          answers={200: Inquiry}, errors=(409,))  # fmt: skip
async def handover(call: Call[Handover, None]) -> web.StreamResponse:
    inquiry = await hand_inquiry(call.id, call.body.to_user_id, actor=call.user)
    await decided(inquiry)
    return json(inquiry_json(inquiry))
