"""A manager's planned work as the panel's "My work" page shows it: the planned interactions
already overdue, those due later today and those of the next seven days (in the reader's
time zone), each with its client, deal and responsible; at most SECTION_MAX per part,
with the part's full count.

A manager reads their own interactions only; an admin or a head of sales
(`User.sees_everything`) reads every manager's, or one manager's when asked. The plans of a
closed deal are left out, as in the bot's /today. `needs_next_step` tells which of the shown
interactions are the last plan of a deal whose scenario requires a next step (completing
one needs the next plan in the same step, crm.interactions.complete_interaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.functions import Count

from crm import clock
from crm.errors import PermissionDenied
from crm.interactions import utc
from crm.models import Interaction, InteractionState, InterestStatus, User

SECTION_MAX = 200
WEEK_DAYS = 7


@dataclass
class Section:
    rows: list[Interaction] = field(default_factory=list)
    total: int = 0


@dataclass
class Work:
    overdue: Section
    today: Section
    week: Section
    manager_id: int | None  # whose work: None for every manager's


def whose(actor: User, manager_id: int | None) -> int | None:
    """Whose work `actor` reads: their own unless they see everything (then the asked
    manager's, or everyone's); a manager asking for another's is refused."""
    if actor.sees_everything:
        return manager_id
    if manager_id not in (None, actor.id):
        raise PermissionDenied()
    return actor.id


def bounds(tz: str, now: datetime) -> tuple[datetime, datetime]:
    """The end of today and of the week ahead in `tz`, as UTC moments."""
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    day_end = datetime.combine(tomorrow, time(), zone)
    week_end = datetime.combine(tomorrow + timedelta(days=WEEK_DAYS), time(), zone)
    return utc(day_end), utc(week_end)


async def _section(base: Q, condition: Q) -> Section:
    query = Interaction.filter(base, condition)
    rows = (
        await query.order_by("planned_at", "id")
        .limit(SECTION_MAX)
        .prefetch_related("client", "interest", "responsible")
    )
    total = len(rows) if len(rows) < SECTION_MAX else await query.count()
    return Section(rows=list(rows), total=total)


async def work_of(actor: User, *, manager_id: int | None = None, tz: str | None = None) -> Work:
    """`actor`'s view of the planned work (see the module's docstring)."""
    owner = whose(actor, manager_id)
    now = clock.now()
    day_end, week_end = bounds(tz or actor.timezone, now)
    base = Q(state=InteractionState.PLANNED) & (
        Q(interest_id__isnull=True) | Q(interest__status=InterestStatus.OPEN)
    )
    if owner is not None:
        base &= Q(responsible_id=owner)
    return Work(
        overdue=await _section(base, Q(planned_at__lt=now)),
        today=await _section(base, Q(planned_at__gte=now, planned_at__lt=day_end)),
        week=await _section(base, Q(planned_at__gte=day_end, planned_at__lt=week_end)),
        manager_id=owner,
    )


async def needs_next_step(rows: Sequence[Interaction]) -> set[int]:
    """The interactions of `rows` that are their open deal's only plan where the deal's
    scenario requires a next step."""
    deals = {
        r.interest_id: r.id  # type: ignore[attr-defined]
        for r in rows
        if r.interest_id  # type: ignore[attr-defined]
        and r.interest is not None
        and r.interest.status == InterestStatus.OPEN
    }
    if not deals:
        return set()
    requiring = (
        await Interaction.filter(
            interest_id__in=list(deals),
            state=InteractionState.PLANNED,
            interest__scenario__require_next_step=True,
        )
        .annotate(n=Count("id"))
        .group_by("interest_id")
        .values_list("interest_id", "n")
    )
    only = {interest_id for interest_id, n in requiring if n == 1}
    return {r.id for r in rows if r.interest_id in only}  # type: ignore[attr-defined]
