"""Segments as the panel and the API use them: saving (admins and heads of sales, who see
every client), listing with member counts, deleting, and the composition report (who is
in and since when, who left in a period). A manager reads segments too, but only their own
clients among the members (crm.access)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from crm.access import sees_all_clients
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_, Text
from crm.models import Segment, SegmentMember, User
from crm.normalize import storable
from crm.reports.scope import Sql
from crm.rows import query
from crm.segments.compile import compile_rule
from crm.segments.rules import Rule, parse_rule

MAX_NAME = 200
MAX_DESCRIPTION = 2000
COMPOSITION_PAGE = 200


def _may_edit(actor: User | None) -> None:
    if actor is not None and not actor.sees_everything:
        raise PermissionDenied()


async def _clean(name: str, description: str, rule: Any, *, own_id: int | None) -> Rule:
    problems: dict[str, str | Text] = {}
    name, description = name.strip(), description.strip()
    if not name:
        problems["name"] = N_("Required")
    elif len(name) > MAX_NAME or not storable(name):
        problems["name"] = Text(N_("Text of at most {n} characters expected"), n=MAX_NAME)
    elif await Segment.filter(name=name).exclude(id=own_id or 0).exists():
        problems["name"] = N_("A segment with this name exists")
    if len(description) > MAX_DESCRIPTION or not storable(description):
        problems["description"] = Text(
            N_("Text of at most {n} characters expected"), n=MAX_DESCRIPTION
        )
    parsed: Rule | None = None
    try:
        parsed = parse_rule(rule)
        if not parsed.conditions():
            problems["rule"] = N_("Add at least one condition")
        else:
            await compile_rule(parsed)  # rows the rule names exist
    except ValidationFailed as error:
        problems.update(error.fields)
    if problems or parsed is None:
        raise ValidationFailed(fields=problems)
    return parsed


async def create_segment(
    name: str, rule: Any, *, description: str = "", actor: User | None
) -> Segment:
    _may_edit(actor)
    parsed = await _clean(name, description, rule, own_id=None)
    return await Segment.create(
        name=name.strip(),
        description=description.strip(),
        rule=parsed.model_dump(mode="json", exclude_defaults=True),
        author_id=actor.id if actor else None,
    )


async def update_segment(
    segment_id: int, name: str, rule: Any, *, description: str = "", actor: User | None
) -> Segment:
    """A changed rule takes effect at the next recompute (the web recomputes at once)."""
    _may_edit(actor)
    segment = await get_segment(segment_id)
    parsed = await _clean(name, description, rule, own_id=segment.id)
    segment.name, segment.description = name.strip(), description.strip()
    segment.rule = parsed.model_dump(mode="json", exclude_defaults=True)
    await segment.save()
    return segment


async def delete_segment(segment_id: int, *, actor: User | None) -> None:
    _may_edit(actor)
    segment = await get_segment(segment_id)
    async with in_transaction():
        await SegmentMember.filter(segment_id=segment.id).delete()
        await segment.delete()


async def get_segment(segment_id: int) -> Segment:
    segment = await Segment.filter(id=segment_id).first()
    if segment is None:
        raise NotFound()
    return segment


@dataclass(frozen=True)
class Listed:
    segment: Segment
    members: int  # those the reader may see


async def list_segments(actor: User) -> list[Listed]:
    """Every segment with its members' count (a manager: their own clients among them)."""
    segments = await Segment.all().order_by("name")
    if await sees_all_clients(actor):
        return [Listed(s, s.members_count) for s in segments]
    rows = await query(
        "SELECT m.segment_id, COUNT(*) FROM segment_members m JOIN clients c"
        " ON c.id = m.client_id AND c.merged_into_id IS NULL AND c.responsible_id = $1"
        " WHERE m.left_at IS NULL GROUP BY m.segment_id",
        [actor.id],
    )
    own = {int(sid): int(n) for sid, n in rows}
    return [Listed(s, own.get(s.id, 0)) for s in segments]


@dataclass(frozen=True)
class Stay:
    client_id: int
    name: str
    joined_at: datetime
    left_at: datetime | None


async def composition(
    segment_id: int, *, actor: User, since: datetime, page: int = 1
) -> tuple[list[Stay], list[Stay], bool]:
    """Who is in (the newest first) and who left since `since`, visible to the actor; and
    whether more members follow this page."""
    await get_segment(segment_id)
    sql = Sql()
    own = "" if await sees_all_clients(actor) else f" AND c.responsible_id = {sql(actor.id)}"
    head = (
        "SELECT m.client_id, c.name, m.joined_at, m.left_at FROM segment_members m"
        " JOIN clients c ON c.id = m.client_id AND c.merged_into_id IS NULL"
        f" WHERE m.segment_id = {sql(segment_id)}{own}"
    )
    offset = (max(page, 1) - 1) * COMPOSITION_PAGE
    current = await query(
        f"{head} AND m.left_at IS NULL ORDER BY m.joined_at DESC, m.client_id"
        f" LIMIT {COMPOSITION_PAGE + 1} OFFSET {offset}",
        sql.params,
    )
    left_sql = Sql()
    left_sql.params = list(sql.params)
    gone = await query(
        f"{head} AND m.left_at >= {left_sql.at(since)} ORDER BY m.left_at DESC, m.client_id"
        f" LIMIT {COMPOSITION_PAGE}",
        left_sql.params,
    )
    members = [_stay(r) for r in current[:COMPOSITION_PAGE]]
    return members, [_stay(r) for r in gone], len(current) > COMPOSITION_PAGE


def _stay(row: Any) -> Stay:
    client_id, name, joined, left = row
    return Stay(int(client_id), str(name), _moment(joined), _moment(left) if left else None)


def _moment(value: Any) -> datetime:
    """A moment read in raw SQL (SQLite gives tortoise's ISO text) as an aware datetime."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def member_ids(segment_id: int, *, actor: User, limit: int, offset: int) -> list[int]:
    """A page of the current members' ids the actor may see, by id."""
    await get_segment(segment_id)
    sql = Sql()
    own = "" if await sees_all_clients(actor) else f" AND c.responsible_id = {sql(actor.id)}"
    rows = await query(
        "SELECT m.client_id FROM segment_members m JOIN clients c ON c.id = m.client_id"
        f" AND c.merged_into_id IS NULL WHERE m.segment_id = {sql(segment_id)}"
        f" AND m.left_at IS NULL{own} ORDER BY m.client_id"
        f" LIMIT {int(limit)} OFFSET {int(offset)}",
        sql.params,
    )
    return [int(r[0]) for r in rows]
