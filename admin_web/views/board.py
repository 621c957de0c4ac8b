"""The pipeline board `/board?scenario=<id>&manager=<id>&tag=<id>`: a scenario's open deals
in columns by stage, each column with its count and amount totals (per currency), each
card with its client, amount and next step (overdue ones marked).

Moving a card is a form per card (a stage select and a button: keyboards and browsers
without JS) posted to `/board/move`; `static/board.js` adds drag-and-drop and posts the
same form with `Accept: application/json`. A move goes through `crm.deals.move_stage`:
the deal is read through `crm.access.access_interest` first (another manager's deal is
404, as a missing one); a closed deal or a stage of another scenario is refused with its
message (the script puts the card back); when the scenario wants a planned next step, the
answer is the plan page of the deal (`deal_page.plan_url`), where saving the plan moves
the deal. Only the open deals the reader may see are shown (`crm.access.interest_filter`),
at most CARDS_MAX of them; the counts and totals cover them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from tortoise.functions import Count, Sum

from admin_web import forms
from admin_web.auth import require_user
from admin_web.errors import wants_json
from admin_web.render import back_url, flash, gettext_for, redirect, render
from admin_web.views.deal_page import KIND_LABELS, plan_url
from crm import clock, deals
from crm.access import access_interest, interest_filter, interest_owner
from crm.errors import NextStepRequired, NotFound
from crm.i18n import N_
from crm.models import (
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Scenario,
    Stage,
    Tag,
    User,
)
from crm.normalize import whole_number
from crm.rows import RowReader, query
from crm.scenarios import stages_of

routes = web.RouteTableDef()
CARDS_STEP = 30  # cards a column shows, and shows more by; its count and total cover all
CARDS_MAX = 500  # the most cards one column shows
_DEALS = RowReader(Interest)


@dataclass
class NextStep:
    kind: str
    subject: str
    planned_at: datetime
    overdue: bool


@dataclass
class Card:
    deal: Interest
    next_step: NextStep | None


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: list[tuple[str, Decimal]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    more: str = ""  # the link that shows more of this column, when it has more


def _id(request: web.Request, name: str) -> int | None:
    value = whole_number(request.query.get(name) or "", max_digits=10)
    return value if value is not None and value < 2**31 else None


async def _next_steps(ids: list[int]) -> dict[int, NextStep]:
    """The soonest planned interaction of each deal."""
    now = clock.now()
    found: dict[int, NextStep] = {}
    for row in (
        await Interaction.filter(interest_id__in=ids, state=InteractionState.PLANNED)
        .order_by("planned_at", "id")
        .values("interest_id", "kind", "subject", "planned_at")
    ):
        if row["interest_id"] not in found and row["planned_at"] is not None:
            found[row["interest_id"]] = NextStep(
                str(row["kind"]), row["subject"], row["planned_at"], row["planned_at"] < now
            )
    return found


def shown_per_column(request: web.Request) -> dict[int, int]:
    """How many cards each column shows: CARDS_STEP, or what its "Show more" asked."""
    shown = {}
    for key, raw in request.query.items():
        if key.startswith("more_") and (stage := whole_number(key[5:], max_digits=9)):
            count = whole_number(raw, max_digits=4)
            if count:
                shown[stage] = min(max(count, CARDS_STEP), CARDS_MAX)
    return shown


def more_link(request: web.Request, stage_id: int, count: int) -> str:
    query = {k: v for k, v in request.query.items() if k != f"more_{stage_id}"}
    query[f"more_{stage_id}"] = str(min(count + CARDS_STEP, CARDS_MAX))
    return "/board?" + urlencode(query) + f"#stage-{stage_id}"


async def _columns(
    user: User,
    scenario: Scenario,
    manager_id: int | None,
    tag_id: int | None,
    shown: dict[int, int],
) -> list[Column]:
    deals_of = Interest.filter(
        await interest_filter(user), scenario_id=scenario.id, status=InterestStatus.OPEN
    )
    if manager_id is not None:
        deals_of = deals_of.filter(responsible_id=manager_id)
    if tag_id is not None:
        deals_of = deals_of.filter(client__tags__id=tag_id)
    columns = {s.id: Column(s) for s in await stages_of(scenario.id)}
    figures = (
        await deals_of.annotate(n=Count("id"), total=Sum("amount"))
        .group_by("stage_id", "currency")
        .values("stage_id", "currency", "n", "total")
    )
    for row in figures:
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count += row["n"]
            if row["total"] is not None:
                column.totals.append((row["currency"], Decimal(str(row["total"]))))
    wanted = {s: shown.get(s, CARDS_STEP) for s, column in columns.items() if column.count}
    deals = await _cards(user, scenario.id, wanted, manager_id, tag_id)
    for deal in deals:
        columns[deal.stage_id].cards.append(Card(deal, None))  # type: ignore[attr-defined]
    for stage_id, column in columns.items():
        if stage_id in wanted and column.count > len(column.cards) and wanted[stage_id] < CARDS_MAX:
            column.more = str(wanted[stage_id])
    await Interest.fetch_for_list(deals, "client", "responsible")
    steps = await _next_steps([d.id for d in deals])
    for column in columns.values():
        for card in column.cards:
            card.next_step = steps.get(card.deal.id)
    return list(columns.values())


async def _cards(
    user: User,
    scenario_id: int,
    wanted: dict[int, int],
    manager_id: int | None,
    tag_id: int | None,
) -> list[Interest]:
    """Every column's newest deals in one read: a part per stage, each along the board's
    index (scenario, status, stage, updated_at) and stopped at its count. Who may see a deal
    is `crm.access.interest_filter`'s rule, here checked per row read (the deal's
    responsible, else one look at its client's by the key): a column reads a few hundred
    rows, where hashing a manager's client ids again for every column cost more."""
    if not wanted:
        return []
    params: list[Any] = [scenario_id]
    where = ["i.scenario_id = $1", f"i.status = '{InterestStatus.OPEN.value}'"]
    owner = await interest_owner(user)
    if owner is not None:
        params.append(owner)
        where.append(
            f"(i.responsible_id = ${len(params)} OR (SELECT c.responsible_id FROM clients c"
            f" WHERE c.id = i.client_id) = ${len(params)})"
        )
    if manager_id is not None:
        params.append(manager_id)
        where.append(f"i.responsible_id = ${len(params)}")
    if tag_id is not None:
        params.append(tag_id)
        tagged = f"SELECT t.clients_id FROM client_tags t WHERE t.tag_id = ${len(params)}"
        where.append(f"i.client_id IN ({tagged})")
    parts = []
    for stage_id, limit in wanted.items():
        params += [stage_id, limit]
        parts.append(
            f"SELECT * FROM (SELECT {_DEALS.select_list('i')} FROM interests i"
            f" WHERE {' AND '.join(where)} AND i.stage_id = ${len(params) - 1}"
            f" ORDER BY i.updated_at DESC, i.id DESC LIMIT ${len(params)}) s{stage_id}"
        )
    found = _DEALS.models(await query(" UNION ALL ".join(parts), params))
    found.sort(key=lambda d: (d.updated_at, d.id), reverse=True)  # the parts' order: none
    return found


@routes.get("/board")
async def board_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    scenarios = await Scenario.filter(is_active=True).order_by("name", "id")
    wanted = _id(request, "scenario")
    scenario = (
        next((s for s in scenarios if s.id == wanted), None)
        or next((s for s in scenarios if s.is_default), None)
        or (scenarios[0] if scenarios else None)
    )
    manager_id, tag_id = _id(request, "manager"), _id(request, "tag")
    context: dict[str, Any] = {
        "scenarios": [(s.id, s.name) for s in scenarios],
        "scenario": scenario,
        "managers": [
            (u.id, u.full_name) for u in await User.filter(is_active=True).order_by("full_name")
        ],
        "tags": [(t.id, t.name) for t in await Tag.all().order_by("name")],
        "manager_id": manager_id or "",
        "tag_id": tag_id or "",
        "columns": [],
        "cards_max": CARDS_MAX,
        "kinds": KIND_LABELS,
    }
    if scenario is not None:
        shown = shown_per_column(request)
        columns = await _columns(user, scenario, manager_id, tag_id, shown)
        for column in columns:
            if column.more:
                column.more = more_link(request, column.stage.id, int(column.more))
        context["columns"] = columns
    return await render(request, "board.html", context)


@routes.post("/board/move")
async def board_move(request: web.Request) -> web.StreamResponse:
    """Move a card: a form's post goes back to the board (or on to the plan page); the
    script's (Accept: application/json) gets `{moved}` or `{plan}` or the error body."""
    user = require_user(request)
    form = await request.post()
    interest_id = forms.integer(form, "interest_id")
    stage_id = forms.integer(form, "stage_id")
    assert interest_id is not None and stage_id is not None
    back = back_url(request, form)
    try:
        interest = await access_interest(user, interest_id)
    except NotFound:
        raise web.HTTPNotFound() from None
    try:
        await deals.move_stage(interest.id, stage_id, actor=user)
    except NextStepRequired as exc:
        url = plan_url(interest.id, stage_id, back)
        message = gettext_for(request, exc.message)
        if wants_json(request):
            return web.json_response({"moved": False, "plan": url, "message": message})
        await flash(request, message, "warn")
        return redirect(url)
    if wants_json(request):
        return web.json_response({"moved": True})
    await flash(request, gettext_for(request, N_("Stage changed")))
    return redirect(back)
