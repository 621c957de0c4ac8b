"""/api/v1/clients/{id}/channels and /messages: writing first to a client who never
wrote (crm.outreach), as from the client card. The channels offered, and every other with
its reason as a code (`no_mailbox`, `no_email_address`, `no_channel`, `unsubscribed`,
`never_wrote`) and a message in the caller's language; a message to a channel not
offered is refused with 409 carrying that reason's code. A manager's key reaches only
their own clients (404 for others')."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import ConfigDict, Field

from admin_web.api import answers
from admin_web.api.base import message_json
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Body, Id, named, text_of
from admin_web.render import gettext_for
from admin_web.views.desk import wake_outbox
from admin_web.views.desk_live import changed
from crm import outreach
from crm.access import access_client

api = Api("writing first")
Kind = Literal["email", "telegram", "vk", "viber"]
Reason = Literal[
    "no_mailbox", "no_email_address", "no_channel", "switched_off", "unsubscribed", "never_wrote"
]


class Offered(Answer):
    channel_id: Id
    kind: Kind
    name: str
    addresses: list[str]  # a mailbox: the client's addresses it may write to; else empty
    recipient: str | None  # a messenger: the client's name or id there


class NotOffered(Answer):
    kind: Kind
    channel_id: Id | None  # None: no channel of this kind at all
    name: str | None
    code: Reason
    reason: str


class Ways(Answer):
    offered: list[Offered]
    not_offered: list[NotOffered]


class FirstMessage(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel_id": 1,
                    "address": "ivan@example.com",
                    "subject": "Коммерческое предложение",
                    "text": "Добрый день! Направляем предложение.",
                }
            ]
        }
    )

    channel_id: Id = Field(description="one of the channels offered (a mailbox for email)")
    text: Annotated[str, named(20_000)]
    subject: Annotated[str, text_of(outreach.MAX_SUBJECT)] = Field(
        "", description="email: required"
    )
    address: Annotated[str, text_of(320)] = Field(
        "", description="email: one of the mailbox's offered addresses"
    )


@api.get("/clients/{id}/channels",
         "The channels to write first to the client through, and the others with why",
         answers={200: Ways})  # fmt: skip
async def channels(call: Call[None, None]) -> web.StreamResponse:
    client = await access_client(call.user, call.id)
    ways = await outreach.ways_to_write(call.user, client)
    offered = [
        Offered(
            channel_id=o.channel.id,
            kind=o.channel.kind.value,
            name=o.channel.name,
            addresses=o.addresses,
            recipient=(o.identity.display_name or o.identity.external_id) if o.identity else None,
        )
        for o in ways.offers
    ]
    refused = [
        NotOffered(
            kind=n.kind.value,
            channel_id=n.channel.id if n.channel else None,
            name=n.channel.name if n.channel else None,
            code=n.code,  # type: ignore[arg-type]
            reason=gettext_for(call.request, n.reason),
        )
        for n in ways.not_offered
    ]
    return json(Ways(offered=offered, not_offered=refused))


@api.post("/clients/{id}/messages",
          "Write first to the client (queued; the outbox sends it through the channel)",
          body=FirstMessage, answers={201: answers.Message}, errors=(409,))  # fmt: skip
async def write_first(call: Call[FirstMessage, None]) -> web.StreamResponse:
    body = call.body
    conversation, message = await outreach.start_conversation(
        call.id,
        body.channel_id,
        actor=call.user,
        text=body.text,
        subject=body.subject,
        address=body.address,
    )
    wake_outbox(call.request.app)
    await changed(call.request.app, "message", conversation.id)
    return json(message_json(message), status=201)
