from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.context import TortoiseContext

from crm import clients, deals, interactions, reminders
from crm.interactions import Plan
from crm.models import Interaction
from tests.crm import factories as f

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _planned(n: int) -> list[Interaction]:
    manager = await f.manager()
    await f.scenario(require_next_step=False)
    client = await f.client(manager)
    interest = await deals.create_interest(actor=manager, client_id=client.id, title="A")
    return [
        await interactions.plan_interaction(
            Plan("call", T0 + timedelta(minutes=10 * i)), actor=manager, interest_id=interest.id
        )
        for i in range(n)
    ]


async def test_due_reminders_are_claimed_once_and_reclaimed_after_a_crash(
    db: TortoiseContext,
) -> None:
    rows = await _planned(3)
    assert await reminders.claim_due_reminders(now=T0 - timedelta(hours=1)) == []
    first = await reminders.claim_due_reminders(now=T0)
    assert [r.id for r in first] == [rows[0].id, rows[1].id]  # remind_at = planned - 15 min
    assert await reminders.claim_due_reminders(now=T0) == []
    await reminders.mark_reminded([first[0].id], now=T0)
    # the worker died before marking the second one: after the lease it comes back once
    again = await reminders.claim_due_reminders(now=T0 + timedelta(minutes=10))
    assert [r.id for r in again] == [rows[1].id, rows[2].id]


async def test_two_racing_ticks_never_claim_the_same_reminder(db: TortoiseContext) -> None:
    rows = await _planned(40)
    now = T0 + timedelta(days=1)
    results = await asyncio.gather(
        *(reminders.claim_due_reminders(now=now, limit=7) for _ in range(8))
    )
    claimed = [i.id for batch in results for i in batch]
    assert sorted(claimed) == sorted(r.id for r in rows)
    assert len(claimed) == len(set(claimed))


async def test_racing_ticks_from_two_processes_on_postgres(
    backend: str, db_url: str, db: TortoiseContext
) -> None:
    """Two separate connection pools (as two processes have) claim concurrently."""
    if backend != "postgres":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    rows = await _planned(60)
    from crm.db import tortoise_config

    async def other_process() -> list[int]:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(db_url))
            try:
                got = []
                for _ in range(10):
                    got += [
                        i.id
                        for i in await reminders.claim_due_reminders(
                            now=T0 + timedelta(days=1), limit=5
                        )
                    ]
                return got
            finally:
                await ctx.close_connections()

    async def this_process() -> list[int]:
        got = []
        for _ in range(10):
            got += [
                i.id
                for i in await reminders.claim_due_reminders(now=T0 + timedelta(days=1), limit=5)
            ]
        return got

    a, b = await asyncio.gather(other_process(), this_process())
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(r.id for r in rows)


async def test_overdue_nag_once(db: TortoiseContext) -> None:
    rows = await _planned(1)
    await reminders.mark_reminded([rows[0].id], now=T0)
    assert await reminders.claim_overdue_nags(now=T0 + timedelta(minutes=30)) == []
    nag = await reminders.claim_overdue_nags(now=T0 + timedelta(hours=2))
    assert [n.id for n in nag] == [rows[0].id]
    await reminders.mark_nagged([rows[0].id])
    assert await reminders.claim_overdue_nags(now=T0 + timedelta(hours=9)) == []


async def test_birthdays_on_a_local_date_including_29_february(db: TortoiseContext) -> None:
    admin = await f.admin()
    a = await f.client(admin, name="Анна", birthday="1990-03-01")
    leap = await f.client(admin, name="Виктор", birthday="1988-02-29")
    await f.client(admin, name="Борис", birthday="1990-03-02")
    firm = await f.client(admin, name="Фирма", kind="legal", inn="7707083893")
    person = await clients.add_person(firm.id, actor=admin, name="Глеб", birthday="1970-02-28")
    on_feb28 = await reminders.birthdays_on(date(2027, 2, 28))
    assert [c.id for c in on_feb28.clients] == [leap.id]
    assert [p.id for p in on_feb28.persons] == [person.id]
    assert [c.id for c in (await reminders.birthdays_on(date(2028, 2, 28))).clients] == []
    assert [c.id for c in (await reminders.birthdays_on(date(2027, 3, 1))).clients] == [a.id]


async def test_birthday_query_is_served_by_an_index(backend: str, db: TortoiseContext) -> None:
    conn = db.db()
    if backend == "postgres":
        await conn.execute_script("SET enable_seqscan = off")
        rows = await conn.execute_query_dict(
            "EXPLAIN SELECT id FROM clients WHERE birthday_md IN (301, 229)"
        )
        plan = " ".join(str(v) for r in rows for v in r.values())
        await conn.execute_script("SET enable_seqscan = on")
    else:
        rows = await conn.execute_query_dict(
            "EXPLAIN QUERY PLAN SELECT id FROM clients WHERE birthday_md IN (301, 229)"
        )
        plan = " ".join(str(v) for r in rows for v in r.values())
    assert "birthday_md" in plan and ("Index" in plan or "INDEX" in plan), plan
