"""The deal page `/deals/{id}`: its title and amount edited in place, the stage with a move,
won, lost with a reason, reopen, planning, notes, the feed, its conversations and client.

Rights: every route reads the deal through `crm.access.access_interest` first, so a
manager opening or posting to another manager's deal gets 404, as for a deal that does
not exist (head and admin see all). Every change goes through a `crm` service; a refused
one comes back to the page with its message (`admin_web.errors`).

A move the scenario refuses without a planned next step ("next step required", as in the
bot) goes to the plan page `/deals/{id}/plan?then_stage=<stage>`: the deal moves when the
plan is saved, both in one transaction (`crm.deals.move_with_plan`). Closing asks what
becomes of the deal's planned interactions, as the bot does: Won keeps them unless told,
Lost cancels them unless told."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from tortoise.expressions import Q

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import back_url, flash, gettext_for, local_path, redirect, render
from crm import clock, deals, interactions, labels
from crm.access import access_interest
from crm.errors import NextStepRequired, NotFound, ValidationFailed
from crm.i18n import N_
from crm.interactions import Plan
from crm.models import (
    Conversation,
    Interaction,
    InteractionKind,
    Interest,
    InterestStatus,
    ReasonKind,
    User,
)
from crm.money.invoices import invoices_of
from crm.money.values import today as money_today
from crm.scenarios import reasons, stages_of

routes = web.RouteTableDef()

# What a reader sees for the values kept in English: crm.labels' words (msgids)
KIND_LABELS: dict[str, str] = labels.INTERACTION_KIND
PLANNABLE = [k for k in KIND_LABELS if k != InteractionKind.NOTE]
KEEP, CANCEL = "keep", "cancel"  # the `planned` field of Won and Lost
FEED_LIMIT = 100
CONTENT_MAX = 20_000
LOCAL_MOMENT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def deal_url(interest_id: int) -> str:
    return f"/deals/{interest_id}"


def plan_url(
    interest_id: int, stage_id: int | None, back: str, *, complete_id: int | None = None
) -> str:
    """The plan page of a deal that waits for its next step: to move to `stage_id`, or
    to mark the planned interaction `complete_id` done."""
    params: dict[str, object] = {}
    if stage_id is not None:
        params["then_stage"] = stage_id
    if complete_id is not None:
        params["complete"] = complete_id
    params["back"] = back
    return f"{deal_url(interest_id)}/plan?" + urlencode(params)


def default_moment(user: User) -> str:
    """Tomorrow at 10:00 in the reader's timezone, as the plan form's first value."""
    zone = ZoneInfo(user.timezone)
    day = clock.now().astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(10, 0), zone).strftime(LOCAL_MOMENT)


def plan_from(form: forms.Form, user: User) -> Plan:
    """The plan of a submitted form; its time is read in the user's timezone."""
    raw = forms.text(form, "planned_at")
    if not raw:
        raise ValidationFailed.field("planned_at", N_("Required"))
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field("planned_at", N_("A date and time expected")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(user.timezone))
    content = forms.text(form, "content")
    if len(content) > CONTENT_MAX:
        raise ValidationFailed.field("content", N_("Too long"))
    return Plan(
        kind=forms.text(form, "kind"),
        planned_at=moment,
        subject=forms.text(form, "subject"),
        content=content,
    )


def plannable(request: web.Request) -> list[tuple[str, str]]:
    """The kinds a plan may have, with their words in the reader's language."""
    return [(str(k), gettext_for(request, KIND_LABELS[k])) for k in PLANNABLE]


def _kind_filter(request: web.Request) -> str:
    kind = request.query.get("kind", "")
    return kind if kind in KIND_LABELS else ""


async def _deal(request: web.Request) -> tuple[User, Interest]:
    """The deal of the route, if the reader may see it; else 404 (a form's post too)."""
    user = require_user(request)
    try:
        return user, await access_interest(user, forms.match_int(request.match_info["id"]))
    except NotFound:
        raise web.HTTPNotFound() from None


@routes.get(r"/deals/{id:\d+}")
async def deal_page(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    await interest.fetch_related("client", "stage", "scenario", "responsible", "loss_reason")
    kind = _kind_filter(request)
    feed = await interactions.feed(
        interest_id=interest.id, kinds=[kind] if kind else [], limit=FEED_LIMIT
    )
    planned = await deals.planned_count(interest.id)
    conversations = (
        await Conversation.filter(
            Q(interest_id=interest.id) | Q(client_id=interest.client.id, interest_id=None)
        )
        .order_by("-last_message_at", "-id")
        .limit(20)
        .prefetch_related("channel")
    )
    return await render(
        request,
        "deal.html",
        {
            "deal": interest,
            "stages": await stages_of(interest.scenario.id),
            "loss_reasons": await reasons(ReasonKind.LOSS),
            "planned": planned,
            "needs_next_step": interest.status == InterestStatus.OPEN
            and interest.scenario.require_next_step
            and not planned,
            "feed": feed,
            "kind": kind,
            "kinds": KIND_LABELS,
            "plannable": plannable(request),
            "conversations": conversations,
            "invoices": await invoices_of(interest.id),
            "today": await money_today(),
            "default_moment": default_moment(user),
            "now": clock.now(),
            "keep": KEEP,
            "cancel": CANCEL,
        },
    )


@routes.post(r"/deals/{id:\d+}/edit")
async def deal_edit(request: web.Request) -> web.StreamResponse:
    """Title and/or amount, whichever the form sends."""
    user, interest = await _deal(request)
    form = await request.post()
    changes: dict[str, Any] = {k: forms.text(form, k) for k in ("title", "amount") if k in form}
    if changes:
        await deals.update_interest(interest.id, changes, actor=user)
        await flash(request, gettext_for(request, N_("Saved")))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/move")
async def deal_move(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    stage_id = forms.integer(form, "stage_id")
    assert stage_id is not None
    back = back_url(request, form)
    try:
        await deals.move_stage(interest.id, stage_id, actor=user)
    except NextStepRequired as exc:
        await flash(request, gettext_for(request, exc.message), "warn")
        return redirect(plan_url(interest.id, stage_id, back))
    await flash(request, gettext_for(request, N_("Stage changed")))
    return redirect(back)


@routes.get(r"/deals/{id:\d+}/plan")
async def plan_page(request: web.Request) -> web.StreamResponse:
    """The plan form on its own page: where a move waiting for the next step lands."""
    user, interest = await _deal(request)
    await interest.fetch_related("client", "stage", "scenario")
    complete = None
    if request.query.get("complete"):
        complete = await _item_of(user, interest, forms.match_int(request.query["complete"]))
    then_stage = None
    raw = request.query.get("then_stage")
    if raw:
        then_stage = next(
            (s for s in await stages_of(interest.scenario.id) if str(s.id) == raw), None
        )
        if then_stage is None:
            raise ValidationFailed.field(
                "stage_id", N_("This stage is not in the interest's scenario")
            )
    return await render(
        request,
        "deal_plan.html",
        {
            "deal": interest,
            "then_stage": then_stage,
            "complete": complete,
            "kinds": KIND_LABELS,
            "back": local_path(request.query.get("back")) or deal_url(interest.id),
            "plannable": plannable(request),
            "default_moment": default_moment(user),
        },
    )


@routes.post(r"/deals/{id:\d+}/plan")
async def plan_save(request: web.Request) -> web.StreamResponse:
    """Plan the next interaction; with `then_stage`, move the deal too (one transaction)."""
    user, interest = await _deal(request)
    form = await request.post()
    plan = plan_from(form, user)
    then_stage = forms.integer(form, "then_stage", required=False)
    complete_id = forms.integer(form, "complete", required=False)
    if complete_id is not None:
        item = await _item_of(user, interest, complete_id)
        await interactions.complete_interaction(item.id, actor=user, next_plan=plan)
        await flash(request, gettext_for(request, N_("Done, and the next step is planned")))
        return redirect(local_path(form.get("then_back")) or deal_url(interest.id))
    if then_stage is not None:
        await deals.move_with_plan(interest.id, then_stage, plan, actor=user)
        await flash(request, gettext_for(request, N_("Planned, and the deal moved to its stage")))
        return redirect(local_path(form.get("then_back")) or deal_url(interest.id))
    await interactions.plan_interaction(plan, actor=user, interest_id=interest.id)
    await flash(request, gettext_for(request, N_("Planned")))
    return redirect(local_path(form.get("then_back")) or back_url(request, form))


@routes.post(r"/deals/{id:\d+}/win")
async def deal_win(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    await deals.win(interest.id, actor=user, cancel_planned=forms.text(form, "planned") == CANCEL)
    await flash(request, gettext_for(request, N_("The deal is won")))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/lose")
async def deal_lose(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    reason_id = forms.integer(form, "loss_reason_id", required=False)
    await deals.lose(
        interest.id, reason_id, actor=user, cancel_planned=forms.text(form, "planned") != KEEP
    )
    await flash(request, gettext_for(request, N_("The deal is lost")))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/reopen")
async def deal_reopen(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    await deals.reopen(interest.id, actor=user)
    await flash(request, gettext_for(request, N_("The deal is open again.")))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/note")
async def deal_note(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    content = forms.text(form, "note")
    if not content:
        raise ValidationFailed.field("note", N_("Required"))
    if len(content) > CONTENT_MAX:
        raise ValidationFailed.field("note", N_("Too long"))
    await interactions.record_done(
        actor=user,
        kind=InteractionKind.NOTE,
        client_id=interest.client_id,  # type: ignore[attr-defined]
        interest_id=interest.id,
        content=content,
    )
    await flash(request, gettext_for(request, N_("Note saved.")))
    return redirect(back_url(request, form))


async def _item_of(user: User, interest: Interest, item_id: int) -> Interaction:
    """One of the deal's interactions (404 for another deal's)."""
    try:
        item = await interactions.access_interaction(user, item_id)
    except NotFound:
        raise web.HTTPNotFound() from None
    if item.interest_id != interest.id:  # type: ignore[attr-defined]
        raise web.HTTPNotFound()
    return item


async def _feed_item(request: web.Request) -> tuple[User, Interest, int]:
    """The deal and one of its feed's interactions (404 for another deal's)."""
    user, interest = await _deal(request)
    item = await _item_of(user, interest, forms.match_int(request.match_info["item"]))
    return user, interest, item.id


@routes.post(r"/deals/{id:\d+}/feed/{item:\d+}/done")
async def feed_done(request: web.Request) -> web.StreamResponse:
    """Mark a planned interaction done; when the scenario then wants the next step, the
    plan page first (done and planned together on saving it), as the bot does."""
    user, interest, item_id = await _feed_item(request)
    back = back_url(request, await request.post())
    try:
        await interactions.complete_interaction(item_id, actor=user)
    except NextStepRequired as exc:
        await flash(request, gettext_for(request, exc.message), "warn")
        return redirect(plan_url(interest.id, None, back, complete_id=item_id))
    await flash(request, gettext_for(request, N_("Done")))
    return redirect(back)


@routes.post(r"/deals/{id:\d+}/feed/{item:\d+}/cancel")
async def feed_cancel(request: web.Request) -> web.StreamResponse:
    user, _, item_id = await _feed_item(request)
    await interactions.cancel_interaction(item_id, actor=user)
    await flash(request, gettext_for(request, N_("Cancelled")))
    return redirect(back_url(request, await request.post()))


@routes.post(r"/deals/{id:\d+}/feed/{item:\d+}/restore")
async def feed_restore(request: web.Request) -> web.StreamResponse:
    user, _, item_id = await _feed_item(request)
    await interactions.restore_interaction(item_id, actor=user)
    await flash(request, gettext_for(request, N_("Restored")))
    return redirect(back_url(request, await request.post()))
