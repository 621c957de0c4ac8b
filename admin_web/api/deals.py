"""/api/v1/interests (create, change title and amount, move stage, win, lose) and
/api/v1/interactions (plan, complete, cancel)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AwareDatetime, ConfigDict, Field

from admin_web.api import answers
from admin_web.api.base import interaction_json, interest_json, page
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Amount, Body, Id, Page, PerPage, Query, named, text_of
from crm import deals, interactions
from crm.access import access_client, access_interest, interest_filter
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.interactions import Plan, access_interaction
from crm.models import Client, Interest

api = Api("interests")
feed = Api("interactions")


class NewInterest(Body):
    """A new interest (deal) of a client, at the first stage of its scenario (the default
    one unless `scenario_id` names another active scenario); `responsible_id` an active
    user (the key's user by default)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"client_id": 1, "title": "Поставка", "amount": 150000}]}
    )

    client_id: Id
    title: Annotated[str, named(300)]
    scenario_id: Id | None = None
    amount: Amount | None = None
    responsible_id: Id | None = None


class Move(Body):
    stage_id: Id = Field(description="a stage of the interest's scenario")


class Lose(Body):
    reason_id: Id = Field(description="a loss reason (Settings → Lists)")


class Nothing(Body):
    """No fields: send `{}` or no body at all."""


class NextPlan(Body):
    """The next interaction; `planned_at` has a time zone and a year from 1900 to 2200,
    and is not in the past where the interest's scenario forbids it."""

    kind: answers.InteractionKind
    planned_at: AwareDatetime = Field(description="with a time zone; a year from 1900 to 2200")
    subject: Annotated[str, text_of(300)] | None = None
    content: Annotated[str, text_of(4000)] | None = None
    responsible_id: Id | None = None


class NewPlan(NextPlan):
    """A planned interaction with a client, or within one of its interests."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"client_id": 1, "kind": "call", "planned_at": "2030-12-01T10:00:00+03:00"}
            ]
        }
    )

    client_id: Id | None = Field(None, description="required unless interest_id is given")
    interest_id: Id | None = None


class Completion(Body):
    result: Annotated[str, text_of(4000)] | None = None
    next: NextPlan | None = None


class InterestQuery(Query):
    status: Literal["open", "won", "lost"] | None = None
    client_id: Id | None = None
    page: Page = 1
    per_page: PerPage = 50


class FeedQuery(Query):
    client_id: Id | None = Field(None, description="give client_id or interest_id")
    interest_id: Id | None = None


def _plan(data: NextPlan) -> Plan:
    planned_at: datetime = data.planned_at
    return Plan(
        kind=data.kind,
        planned_at=planned_at,
        subject=data.subject or "",
        content=data.content or "",
        responsible_id=data.responsible_id,
    )


@api.get(
    "/interests",
    "Interests (deals)",
    query=InterestQuery,
    answers={200: answers.PageOf[answers.Interest]},
)
async def list_interests(call: Call[None, InterestQuery]) -> web.StreamResponse:
    query = call.query
    client = None
    if query.client_id is not None:  # one client's deals: its responsible decides
        client = await Client.filter(id=query.client_id).first() or Client(responsible_id=None)
    rows_query = Interest.filter(await interest_filter(call.user, client=client))
    if query.status is not None:
        rows_query = rows_query.filter(status=query.status)
    if query.client_id is not None:
        rows_query = rows_query.filter(client_id=query.client_id)
    offset = (query.page - 1) * query.per_page
    rows = await rows_query.order_by("-id").offset(offset).limit(query.per_page + 1)
    items = [interest_json(i) for i in rows[: query.per_page]]
    return page(items, query.page, query.per_page, len(rows) > query.per_page)


@api.post("/interests", "Open an interest", body=NewInterest, answers={201: answers.Interest})
async def create_interest(call: Call[NewInterest, None]) -> web.StreamResponse:
    data = call.body
    interest = await deals.create_interest(
        actor=call.user,
        client_id=data.client_id,
        title=data.title,
        scenario_id=data.scenario_id,
        amount=data.amount,
        responsible_id=data.responsible_id,
        source="api",
    )
    return json(interest_json(interest), status=201)


@api.get("/interests/{id}", "An interest", answers={200: answers.Interest})
async def get_interest(call: Call[None, None]) -> web.StreamResponse:
    return json(interest_json(await access_interest(call.user, call.id)))


class InterestChanges(Body):
    """A deal's title or amount; a field left out stays as it is, `"amount": null` clears
    the amount."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "81700.50"}]})

    title: Annotated[str, named(300)] | None = None
    amount: Amount | None = None


@api.patch(
    "/interests/{id}",
    "Change an interest's title or amount",
    body=InterestChanges,
    answers={200: answers.Interest},
    errors=(403,),
)
async def update_interest(call: Call[InterestChanges, None]) -> web.StreamResponse:
    await access_interest(call.user, call.id)
    changes = call.body.model_dump(exclude_unset=True)
    if changes.get("title", "") is None:
        raise ValidationFailed.field("title", N_("Required"))
    return json(interest_json(await deals.update_interest(call.id, changes, actor=call.user)))


@api.post(
    "/interests/{id}/move",
    "Move to a stage",
    body=Move,
    answers={200: answers.Interest},
    errors=(403, 409),
)
async def move_interest(call: Call[Move, None]) -> web.StreamResponse:
    await access_interest(call.user, call.id)
    moved = await deals.move_stage(call.id, call.body.stage_id, actor=call.user)
    return json(interest_json(moved))


@api.post(
    "/interests/{id}/win",
    "Mark won",
    body=Nothing,
    optional_body=True,
    answers={200: answers.Interest},
    errors=(403, 409),
)
async def win_interest(call: Call[Nothing, None]) -> web.StreamResponse:
    await access_interest(call.user, call.id)
    return json(interest_json(await deals.win(call.id, actor=call.user)))


@api.post(
    "/interests/{id}/lose",
    "Mark lost with a reason",
    body=Lose,
    answers={200: answers.Interest},
    errors=(403, 409),
)
async def lose_interest(call: Call[Lose, None]) -> web.StreamResponse:
    await access_interest(call.user, call.id)
    lost = await deals.lose(call.id, call.body.reason_id, actor=call.user)
    return json(interest_json(lost))


@feed.get(
    "/interactions",
    "The feed of a client or an interest",
    query=FeedQuery,
    answers={200: answers.Items[answers.Interaction]},
)
async def list_interactions(call: Call[None, FeedQuery]) -> web.StreamResponse:
    client_id, interest_id = call.query.client_id, call.query.interest_id
    if interest_id is not None:
        await access_interest(call.user, interest_id)
    elif client_id is not None:
        await access_client(call.user, client_id)
    else:
        raise ValidationFailed.field("client_id", N_("Give client_id or interest_id"))
    rows = await interactions.feed(client_id=client_id, interest_id=interest_id, limit=200)
    return json({"items": [interaction_json(x) for x in rows]})


@feed.post(
    "/interactions",
    "Plan an interaction",
    body=NewPlan,
    answers={201: answers.Interaction},
    errors=(403,),
)
async def plan_interaction(call: Call[NewPlan, None]) -> web.StreamResponse:
    data = call.body
    planned = await interactions.plan_interaction(
        _plan(data), actor=call.user, client_id=data.client_id, interest_id=data.interest_id
    )
    return json(interaction_json(planned), status=201)


@feed.post(
    "/interactions/{id}/complete",
    "Complete, and plan the next one",
    body=Completion,
    optional_body=True,
    answers={200: answers.Completed},
    errors=(403, 409),
)
async def complete_interaction(call: Call[Completion, None]) -> web.StreamResponse:
    await access_interaction(call.user, call.id)
    data = call.body
    done, planned = await interactions.complete_interaction(
        call.id,
        actor=call.user,
        result=data.result or "",
        next_plan=_plan(data.next) if data.next is not None else None,
    )
    return json(
        {"done": interaction_json(done), "next": interaction_json(planned) if planned else None}
    )


@feed.post(
    "/interactions/{id}/cancel",
    "Cancel (restorable)",
    body=Nothing,
    optional_body=True,
    answers={200: answers.Interaction},
    errors=(403, 409),
)
async def cancel_interaction(call: Call[Nothing, None]) -> web.StreamResponse:
    await access_interaction(call.user, call.id)
    cancelled = await interactions.cancel_interaction(call.id, actor=call.user)
    return json(interaction_json(cancelled))
