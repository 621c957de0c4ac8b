"""Moments given with a UTC offset other than +00:00 (the admin API's ISO 8601 times, an
email's Date header, a `now` in the manager's zone) are stored and compared as the moments
they are. On SQLite tortoise keeps datetimes as ISO text, so a value stored or bound as
`14:00+03:00` compared with `11:30+00:00` compared strings, not moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm import deals, interactions, reminders
from crm.interactions import Plan
from crm.models import Client, Interaction, User
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")

MOSCOW = ZoneInfo("Europe/Moscow")  # +03:00
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")  # +10:00
# 21:00 UTC on 2 March is 07:00 on 3 March in Vladivostok and midnight in Moscow
NOW = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
DATETIMES = (
    "planned_at",
    "done_at",
    "sort_at",
    "remind_at",
    "reminded_at",
    "remind_claimed_until",
    "nagged_at",
    "nag_claimed_until",
)


async def _manager(tz: ZoneInfo) -> tuple[User, Client]:
    manager = await f.manager(timezone=str(tz))
    return manager, await f.client(manager)


async def _plan(manager: User, client: Client, at: datetime, subject: str = "") -> Interaction:
    return await interactions.plan_interaction(
        Plan("call", at, subject=subject), actor=manager, client_id=client.id
    )


async def _stored(column: str, interaction_id: int) -> str:
    """The column's value as the database holds it, as text."""
    conn = Interaction._meta.db
    _, rows = await conn.execute_query(
        f"SELECT CAST({column} AS TEXT) FROM interactions WHERE id = {int(interaction_id)}"
    )
    return str(rows[0][0])


async def _assert_stored_in_utc(backend: str, interaction_id: int) -> None:
    """SQLite's text of every moment ends in +00:00 (PostgreSQL keeps no offset: its
    timestamptz is a moment)."""
    if backend != "sqlite":
        return
    for column in DATETIMES:
        text = await _stored(column, interaction_id)
        assert text == "None" or text.endswith("+00:00"), (column, text)


def _day_end(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(local, datetime.min.time(), tz).astimezone(UTC)


async def test_every_moment_of_a_planned_interaction_is_stored_in_utc(backend: str) -> None:
    manager, client = await _manager(MOSCOW)
    with time_machine.travel(NOW, tick=False):
        planned = await _plan(manager, client, datetime(2026, 3, 3, 10, 0, tzinfo=MOSCOW))
    if backend == "sqlite":
        assert await _stored("planned_at", planned.id) == "2026-03-03 07:00:00+00:00"
    await _assert_stored_in_utc(backend, planned.id)
    loaded = await Interaction.get(id=planned.id)
    assert loaded.planned_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def test_overdue_around_midnight_in_vladivostok() -> None:
    """07:00 on 3 March in Vladivostok: 03:00 local (17:00 UTC on 2 March) is overdue,
    08:00 local (22:00 UTC) is later today; as text, `2026-03-03 03:00+10:00` sorted after
    `2026-03-02 21:00+00:00`."""
    manager, client = await _manager(VLADIVOSTOK)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        early = await _plan(manager, client, datetime(2026, 3, 3, 3, 0, tzinfo=VLADIVOSTOK))
        later = await _plan(manager, client, datetime(2026, 3, 3, 8, 0, tzinfo=VLADIVOSTOK))
        tomorrow = await _plan(manager, client, datetime(2026, 3, 4, 0, 30, tzinfo=VLADIVOSTOK))
    local_now = NOW.astimezone(VLADIVOSTOK)
    for now in (NOW, local_now):
        assert [i.id for i in await reminders.overdue_of(manager.id, now=now)] == [early.id]
        plan = await reminders.day_plan(manager.id, now, _day_end(now, VLADIVOSTOK), limit=15)
        assert [i.id for i in plan.overdue] == [early.id]
        assert [i.id for i in plan.later] == [later.id]
    assert tomorrow.id not in [i.id for i in plan.overdue + plan.later]


async def test_overdue_and_today_around_now_in_moscow() -> None:
    """A Moscow plan half an hour ago is overdue, one in half an hour is later, whether it
    was planned in UTC or in Moscow time and whether `now` is given in UTC or Moscow."""
    manager, client = await _manager(MOSCOW)
    with time_machine.travel(NOW - timedelta(hours=3), tick=False):
        past_local = await _plan(manager, client, (NOW - timedelta(minutes=30)).astimezone(MOSCOW))
        past_utc = await _plan(manager, client, NOW - timedelta(minutes=20))
        soon_local = await _plan(manager, client, (NOW + timedelta(minutes=30)).astimezone(MOSCOW))
        soon_utc = await _plan(manager, client, NOW + timedelta(minutes=40))
    end = NOW + timedelta(hours=2)
    for now in (NOW, NOW.astimezone(MOSCOW), NOW.astimezone(VLADIVOSTOK)):
        overdue = await reminders.overdue_of(manager.id, now=now)
        assert [i.id for i in overdue] == [past_local.id, past_utc.id]
        plan = await reminders.day_plan(manager.id, now, end.astimezone(MOSCOW), limit=15)
        assert [i.id for i in plan.overdue] == [past_local.id, past_utc.id]
        assert [i.id for i in plan.later] == [soon_local.id, soon_utc.id]


async def test_due_reminders_and_nags_planned_in_local_time(backend: str) -> None:
    """Reminders are due 15 minutes before their time, nags an hour after it, in moments."""
    manager, client = await _manager(MOSCOW)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        due = await _plan(manager, client, (NOW + timedelta(minutes=10)).astimezone(MOSCOW))
        not_yet = await _plan(manager, client, (NOW + timedelta(minutes=20)).astimezone(MOSCOW))
        old = await _plan(manager, client, (NOW - timedelta(hours=2)).astimezone(VLADIVOSTOK))
    for now in (NOW, NOW.astimezone(VLADIVOSTOK)):
        claimed = await reminders.claim_due_reminders(now=now)
        assert [i.id for i in claimed] == [old.id, due.id]
        await Interaction.all().update(remind_claimed_until=None)  # claim again
    await reminders.mark_reminded([old.id, due.id, not_yet.id], now=NOW.astimezone(MOSCOW))
    nags = await reminders.claim_overdue_nags(now=NOW.astimezone(MOSCOW))
    assert [i.id for i in nags] == [old.id]
    await reminders.mark_nagged([old.id], now=NOW.astimezone(VLADIVOSTOK))
    await _assert_stored_in_utc(backend, old.id)


async def test_moved_and_snoozed_in_local_time_are_due_at_their_moment(backend: str) -> None:
    manager, client = await _manager(VLADIVOSTOK)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        moved = await _plan(manager, client, NOW + timedelta(days=5))
        snoozed = await _plan(manager, client, NOW + timedelta(days=5))
        await interactions.reschedule(
            moved.id, (NOW + timedelta(minutes=5)).astimezone(VLADIVOSTOK), actor=manager
        )
        await reminders.snooze(
            snoozed.id, (NOW - timedelta(minutes=1)).astimezone(VLADIVOSTOK), actor=manager
        )
    claimed = await reminders.claim_due_reminders(now=NOW)
    assert [i.id for i in claimed] == [moved.id, snoozed.id]  # remind_at 20:50, 20:59 UTC
    for row in (moved, snoozed):
        await _assert_stored_in_utc(backend, row.id)


async def test_the_feed_orders_moments_recorded_with_offsets(backend: str) -> None:
    """An email's Date header keeps the sender's offset; the feed still puts the newest
    first and its limit keeps the newest."""
    manager, client = await _manager(MOSCOW)
    await f.scenario(require_next_step=False)
    interest = await deals.create_interest(actor=manager, client_id=client.id, title="Поставка")
    ids = []
    # oldest to newest: 12:00, 13:00 (23:00 in Vladivostok), 14:00, 14:30 UTC (17:30 in Moscow)
    for at in (
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 0, tzinfo=VLADIVOSTOK),
        datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 17, 30, tzinfo=MOSCOW),
    ):
        done = await interactions.record_done(
            actor=manager, kind="email", client_id=client.id, interest_id=interest.id, at=at
        )
        ids.append(done.id)
        await _assert_stored_in_utc(backend, done.id)
    feed = await interactions.feed(interest_id=interest.id, limit=2)
    assert [i.id for i in feed] == [ids[3], ids[2]]
    feed = await interactions.feed(interest_id=interest.id)
    assert [i.id for i in feed] == [ids[3], ids[2], ids[1], ids[0]]
