"""/api/v1/segments: the saved segments (crm.segments) with their rules and member counts,
a segment's current members in pages (a manager's key: their own clients among them), and
a recompute on demand (admins and heads of sales)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Id, Page, PerPage, Query
from crm.models import Client
from crm.segments import service
from crm.segments.members import recompute_now

api = Api("segments")


class Segment(Answer):
    id: Id
    name: str
    description: str
    rule: dict[str, Any]
    members: int  # those the key's user may see
    computed_at: datetime | None


class Segments(Answer):
    items: list[Segment]


class Member(Answer):
    client_id: Id
    name: str


class Members(Answer):
    items: list[Member]
    page: int
    per_page: int
    has_more: bool


class Recomputed(Answer):
    members: int
    joined: int
    left: int


class MembersQuery(Query):
    page: Page = 1
    per_page: PerPage = 50


async def _segments(call: Call[Any, Any]) -> list[Segment]:
    return [
        Segment(
            id=s.segment.id,
            name=s.segment.name,
            description=s.segment.description,
            rule=s.segment.rule,
            members=s.members,
            computed_at=s.segment.computed_at,
        )
        for s in await service.list_segments(call.user)
    ]


@api.get("/segments", "Segments with their rules and member counts", answers={200: Segments})
async def list_segments(call: Call[None, None]) -> web.StreamResponse:
    return json(Segments(items=await _segments(call)))


@api.get("/segments/{id}", "A segment", answers={200: Segment})
async def get_segment(call: Call[None, None]) -> web.StreamResponse:
    await service.get_segment(call.id)  # 404 for no such segment
    found = [s for s in await _segments(call) if s.id == call.id]
    return json(found[0])


@api.get("/segments/{id}/members", "A segment's current members", query=MembersQuery,
         answers={200: Members})  # fmt: skip
async def members(call: Call[None, MembersQuery]) -> web.StreamResponse:
    per_page, page_no = call.query.per_page, call.query.page
    ids = await service.member_ids(
        call.id, actor=call.user, limit=per_page + 1, offset=(page_no - 1) * per_page
    )
    names = dict(await Client.filter(id__in=ids[:per_page]).values_list("id", "name"))
    items = [Member(client_id=i, name=str(names.get(i, ""))) for i in ids[:per_page]]
    return json(Members(items=items, page=page_no, per_page=per_page, has_more=len(ids) > per_page))


@api.post("/segments/{id}/recompute", "Recompute a segment's members now",
          answers={200: Recomputed}, errors=(403,))  # fmt: skip
async def recompute(call: Call[None, None]) -> web.StreamResponse:
    outcome = await recompute_now(call.id, actor=call.user)
    return json(Recomputed(members=outcome.members, joined=outcome.joined, left=outcome.left))
