"""Inquiries on the desk: a waiting inquiry is accepted (it becomes a deal, as in the bot),
rejected with a reason from the list (without one only while the list is empty), or handed
to another manager, from its conversation page or the inbox list.

Every action goes through the crm services that the bot uses (`crm.inquiries`,
`crm.inquiry_handover`), which take the inquiry atomically: of two managers pressing
Accept at the same moment one wins, the other is told who took it. An inquiry the reader
may not see answers 404, as a missing one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import flash, gettext_for, redirect
from crm import scenarios
from crm.channels import channel_filter
from crm.errors import NotFound
from crm.i18n import N_
from crm.inquiries import accept_inquiry, access_inquiry, reject_inquiry
from crm.inquiry_handover import hand_inquiry
from crm.models import Channel, Conversation, Inquiry, InquiryStatus, ReasonKind, User
from inbox import events

routes = web.RouteTableDef()
MAX_RECEIVERS = 200  # users offered in the hand-over list


async def receivers(actor: User, channel_id: int) -> list[User]:
    """Active users, other than the actor, who may see the channel (a hand-over's choices)."""
    found = []
    users = await User.filter(is_active=True).exclude(id=actor.id).order_by("full_name")
    for user in users[:MAX_RECEIVERS]:
        if await Channel.filter(await channel_filter(user), id=channel_id).exists():
            found.append(user)
    return found


async def inquiry_context(actor: User, conversation: Conversation) -> dict[str, Any]:
    """The conversation's waiting inquiry the actor may take, with the reject reasons and
    the hand-over choices; nothing when there is none."""
    waiting = await Inquiry.filter(
        conversation_id=conversation.id, status=InquiryStatus.OPEN
    ).first()
    if waiting is None:
        return {"inquiry": None}
    try:
        inquiry = await access_inquiry(actor, waiting.id)
    except NotFound:  # another manager's client: the page shows no buttons
        return {"inquiry": None}
    return {
        "inquiry": inquiry,
        "reasons": await scenarios.reasons(ReasonKind.REJECTION),
        "receivers": await receivers(actor, conversation.channel_id),  # type: ignore[attr-defined]
    }


async def decided(inquiry: Inquiry) -> None:
    """The bot's cards of the inquiry say who has it now; the open desks hear of it."""
    conversation_id = inquiry.conversation_id  # type: ignore[attr-defined]
    await events.publish(events.InquiryDecided(inquiry.id, conversation_id))


def _back(inquiry: Inquiry) -> str:
    return f"/inbox/{inquiry.conversation_id}"  # type: ignore[attr-defined]


@routes.post(r"/inquiries/{id:\d+}/accept")
async def accept(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    inquiry_id = forms.match_int(request.match_info["id"])
    interest = await accept_inquiry(inquiry_id, actor=user)
    inquiry = await Inquiry.get(id=inquiry_id)
    await decided(inquiry)
    await flash(
        request,
        gettext_for(
            request, N_("You took the inquiry: the deal “{title}” is yours"), title=interest.title
        ),
    )
    return redirect(_back(inquiry))


@routes.post(r"/inquiries/{id:\d+}/reject")
async def reject(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    inquiry = await reject_inquiry(
        forms.match_int(request.match_info["id"]),
        forms.integer(form, "reason_id", required=False),
        actor=user,
    )
    await decided(inquiry)
    await flash(request, gettext_for(request, N_("The inquiry is rejected")))
    return redirect(_back(inquiry))


@routes.post(r"/inquiries/{id:\d+}/handover")
async def handover(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    to_user_id = forms.integer(form, "to_user_id") or 0  # required: missing is refused
    inquiry = await hand_inquiry(forms.match_int(request.match_info["id"]), to_user_id, actor=user)
    await decided(inquiry)
    receiver = await User.get(id=to_user_id)
    await flash(
        request,
        gettext_for(request, N_("The inquiry is handed to {name}"), name=receiver.full_name),
    )
    return redirect("/inbox")  # the conversation is now theirs, no longer shown to a manager
