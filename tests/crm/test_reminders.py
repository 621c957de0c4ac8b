from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.models import Model

from crm import clients, deals, interactions, reminders, sql_indexes
from crm.interactions import Plan
from crm.models import Client, ContactPerson, Interaction, InteractionState
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


def _fields(obj: Any, model: type[Model]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model._meta.fields_db_projection}


async def test_claimed_reminders_are_the_models_a_query_loads(db: TortoiseContext) -> None:
    rows = await _planned(3)
    claimed = await reminders.claim_due_reminders(now=T0 + timedelta(days=1))
    loaded = await Interaction.filter(id__in=[r.id for r in rows]).order_by("remind_at", "id")
    assert [_fields(c, Interaction) for c in claimed] == [_fields(i, Interaction) for i in loaded]
    assert all(c.remind_claimed_until is not None for c in claimed)
    assert all(not c._partial and c._saved_in_db for c in claimed)
    claimed[0].subject = "Перезвонить"  # a claimed model saves like a loaded one
    await claimed[0].save()
    assert (await Interaction.get(id=claimed[0].id)).subject == "Перезвонить"
    await reminders.mark_reminded([c.id for c in claimed], now=T0)
    nags = await reminders.claim_overdue_nags(now=T0 + timedelta(days=1))
    again = await Interaction.filter(id__in=[r.id for r in rows]).order_by("planned_at", "id")
    assert [_fields(n, Interaction) for n in nags] == [_fields(i, Interaction) for i in again]


async def test_done_or_cancelled_before_the_reminder_is_never_claimed(db: TortoiseContext) -> None:
    rows = await _planned(3)
    await Interaction.filter(id=rows[0].id).update(state=InteractionState.DONE)
    await Interaction.filter(id=rows[1].id).update(state=InteractionState.CANCELLED)
    later = T0 + timedelta(days=1)
    assert [r.id for r in await reminders.claim_due_reminders(now=later)] == [rows[2].id]
    await reminders.mark_reminded([rows[0].id, rows[1].id, rows[2].id], now=T0)
    assert [r.id for r in await reminders.claim_overdue_nags(now=later)] == [rows[2].id]


async def test_claims_are_served_by_the_partial_indexes(backend: str, db: TortoiseContext) -> None:
    conn = db.db()
    await sql_indexes.ensure(conn)
    await sql_indexes.ensure(conn)  # idempotent
    claims = {
        "interactions_due_reminders": "SELECT id FROM interactions WHERE state = 'planned'"
        " AND remind_at <= '2026-03-02' AND reminded_at IS NULL ORDER BY remind_at LIMIT 5",
        "interactions_due_nags": "SELECT id FROM interactions WHERE state = 'planned'"
        " AND planned_at < '2026-03-02' AND reminded_at IS NOT NULL AND nagged_at IS NULL"
        " ORDER BY planned_at LIMIT 5",
    }
    for name, sql in claims.items():
        if backend == "postgres":
            await conn.execute_script("SET enable_seqscan = off")
            try:
                rows = await conn.execute_query_dict(f"EXPLAIN {sql}")
            finally:
                await conn.execute_script("SET enable_seqscan = on")
        else:
            rows = await conn.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}")
        plan = " ".join(str(v) for r in rows for v in r.values())
        assert name in plan, plan
    assert [i.name for i in sql_indexes.INDEXES] == list(claims)


async def test_birthdays_keep_the_attributes_of_the_models(db: TortoiseContext) -> None:
    admin = await f.admin()
    anna_s, boris_s = await f.manager(), await f.manager()
    anna = await f.client(anna_s, name="Анна", birthday="1990-03-01", region="Москва")
    firm = await f.client(
        admin,
        name="Борис",
        birthday="1991-03-01",
        kind="legal",
        inn="7707083893",
        responsible_id=boris_s.id,
    )
    person = await clients.add_person(
        firm.id, actor=admin, name="Глеб", role="Директор", birthday="1970-03-01"
    )
    found = await reminders.birthdays_on(date(2027, 3, 1))
    assert [c.id for c in found.clients] == [anna.id, firm.id]  # by name
    for record in found.clients:
        model = await Client.get(id=record.id)
        assert _fields(record, Client) == _fields(model, Client)
        assert str(record) == str(model) and record.pk == model.pk
    (p,) = found.persons
    assert _fields(p, ContactPerson) == _fields(
        await ContactPerson.get(id=person.id), ContactPerson
    )
    assert p.client.name == "Борис" and p.client.responsible_id == boris_s.id
    assert _fields(p.client, Client) == _fields(await Client.get(id=firm.id), Client)
    of_anna_s = await reminders.birthdays_on(date(2027, 3, 1), responsible_id=anna_s.id)
    assert [c.id for c in of_anna_s.clients] == [anna.id] and of_anna_s.persons == []
    of_boris_s = await reminders.birthdays_on(date(2027, 3, 1), responsible_id=boris_s.id)
    assert [c.id for c in of_boris_s.clients] == [firm.id]
    assert [p.id for p in of_boris_s.persons] == [person.id]


async def test_birthday_records_cover_every_column(db: TortoiseContext) -> None:
    """A column added to Client or ContactPerson must be added to the records too."""
    assert set(reminders.BirthdayClient._fields) == set(Client._meta.fields_db_projection)
    person = set(reminders.BirthdayPerson._fields) - {"client"}
    assert person == set(ContactPerson._meta.fields_db_projection)
