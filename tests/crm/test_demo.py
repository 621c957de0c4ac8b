"""`crm.demo.generate`: realistic, valid, consistent demo data, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from stdnum.ru import inn as ru_inn
from tortoise import connections
from tortoise.context import TortoiseContext

from crm import clients, demo, interactions, reminders
from crm.demo import rows as demo_rows
from crm.demo import words as demo_words
from crm.models import (
    Client,
    ClientContact,
    ContactPerson,
    FieldValue,
    Interaction,
    InteractionState,
    Interest,
    Scenario,
    Stage,
    StageChange,
    Tag,
    User,
)
from crmhub.cli import DEMO_TABLES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 300


async def _rows(sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(sql)
    return rows


def _e164(value: str) -> bool:
    number = phonenumbers.parse(value, None)
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value
    )


async def test_generate_makes_valid_consistent_data(db: TortoiseContext) -> None:
    ticks: list[tuple[int, int]] = []
    stats = await demo.generate(N, seed=3, progress=lambda d, t: ticks.append((d, t)), now=T0)

    assert ticks[-1] == (N, N)
    assert stats["users"] == 1 + len(demo_words.MANAGER_NAMES)
    assert stats["clients"] == await Client.all().count() == N
    assert set(stats) - set(DEMO_TABLES) == set()  # every count said in words, not table names
    assert stats["client_contacts"] == await ClientContact.all().count()
    assert stats["contact_persons"] == await ContactPerson.all().count() > 0
    assert stats["interests"] == await Interest.all().count() > N / 2
    assert stats["stage_changes"] == await StageChange.all().count() >= stats["interests"]
    assert stats["interactions"] == await Interaction.all().count() > N
    assert stats["field_values"] == await FieldValue.all().count() > 0
    tagged = await _rows("SELECT COUNT(*) AS n FROM client_tags")
    assert stats["client_tags"] == tagged[0]["n"] > 0
    assert await Tag.all().count() == len(demo_words.TAGS)

    # both kinds, every INN checksum-valid and of its kind's length, KPP with it
    kinds = Counter[str]()
    for c in await Client.all():
        kinds[c.kind] += 1
        assert c.name and c.region and c.timezone
        if c.inn is not None:
            assert ru_inn.is_valid(c.inn), c.inn
            assert len(c.inn) == (10 if c.kind == "legal" else 12)
        if c.kind == "legal":
            assert c.inn is not None and c.kpp is not None and len(c.kpp) == 9
            assert c.birthday is None
        assert c.birthday_md == clients.birthday_key(c.birthday)
    assert kinds["legal"] > 0 and kinds["individual"] > 0

    # phones E.164, emails lowercase; identifiers unique across clients
    contacts = await ClientContact.all()
    phones = [x.value for x in contacts if x.kind == "phone"]
    emails = [x.value for x in contacts if x.kind == "email"]
    assert phones and emails
    assert all(_e164(p) and p.startswith("+7") for p in phones)
    assert all("@" in e and e == e.lower() and e.isascii() for e in emails)
    assert len(set(phones)) == len(phones) and len(set(emails)) == len(emails)
    inns = [c.inn for c in await Client.filter(inn__isnull=False)]
    assert len(set(inns)) == len(inns)

    persons = await ContactPerson.all()
    assert all(_e164(p.phone) for p in persons if p.phone)
    assert all(p.birthday_md == clients.birthday_key(p.birthday) for p in persons)
    assert any(p.birthday for p in persons)


async def test_references_point_at_existing_rows_of_the_right_scenario(
    db: TortoiseContext,
) -> None:
    await demo.generate(N, seed=5, now=T0)
    stage_scenario = {s.id: s.scenario_id for s in await Stage.all()}  # type: ignore[attr-defined]
    scenario_ids = set(await Scenario.all().values_list("id", flat=True))
    assert len(scenario_ids) == len(demo_words.SCENARIOS)
    for interest in await Interest.all():
        assert stage_scenario[interest.stage_id] == interest.scenario_id  # type: ignore[attr-defined]
        assert interest.status in ("open", "won", "lost")
        assert (interest.closed_at is None) == (interest.status == "open")
        assert (interest.loss_reason_id is not None) == (interest.status == "lost")  # type: ignore[attr-defined]
    # the PostgreSQL path writes with foreign key triggers off: check integrity by hand
    orphans = await _rows(
        "SELECT "
        "(SELECT COUNT(*) FROM interactions i LEFT JOIN interests t ON t.id = i.interest_id"
        " WHERE i.interest_id IS NOT NULL AND t.id IS NULL) AS interactions,"
        "(SELECT COUNT(*) FROM interactions i LEFT JOIN interests t ON t.id = i.interest_id"
        " WHERE t.client_id <> i.client_id) AS foreign_client,"
        "(SELECT COUNT(*) FROM interests t LEFT JOIN clients c ON c.id = t.client_id"
        " WHERE c.id IS NULL) AS interests,"
        "(SELECT COUNT(*) FROM stage_changes s JOIN interests t ON t.id = s.interest_id"
        " JOIN stages g ON g.id = s.to_stage_id WHERE g.scenario_id <> t.scenario_id) AS stages,"
        "(SELECT COUNT(*) FROM client_contacts x LEFT JOIN clients c ON c.id = x.client_id"
        " WHERE c.id IS NULL) AS contacts,"
        "(SELECT COUNT(*) FROM contact_persons x LEFT JOIN clients c ON c.id = x.client_id"
        " WHERE c.id IS NULL) AS persons,"
        "(SELECT COUNT(*) FROM field_values v LEFT JOIN field_definitions d"
        " ON d.id = v.definition_id WHERE d.id IS NULL) AS field_values,"
        "(SELECT COUNT(*) FROM clients c LEFT JOIN users u ON u.id = c.responsible_id"
        " WHERE c.responsible_id IS NOT NULL AND u.id IS NULL) AS responsible"
    )
    assert all(v == 0 for v in orphans[0].values()), orphans


async def test_reminders_birthdays_and_feed_work_on_the_generated_data(
    db: TortoiseContext,
) -> None:
    await demo.generate(N, seed=7, now=T0)

    planned = await Interaction.filter(state=InteractionState.PLANNED)
    assert planned and all(p.remind_at and p.planned_at and p.interest_id for p in planned)  # type: ignore[attr-defined]
    assert any(p.planned_at and p.planned_at > T0 for p in planned)
    due = [p.id for p in planned if p.remind_at and p.remind_at <= T0 and p.reminded_at is None]
    assert due, "some reminders must be due at generation time"
    claimed = await reminders.claim_due_reminders(now=T0, limit=10_000)
    assert sorted(c.id for c in claimed) == sorted(due)

    born = await Client.filter(birthday__isnull=False).order_by("id").first()
    assert born is not None and born.birthday is not None
    day = born.birthday.replace(year=2028)  # a leap year: 29 February exists
    found = await reminders.birthdays_on(day)
    assert born.id in {c.id for c in found.clients}
    assert all(c.birthday and (c.birthday.month, c.birthday.day) == (day.month, day.day)
               for c in found.clients)  # fmt: skip
    person = await ContactPerson.filter(birthday__isnull=False).order_by("id").first()
    assert person is not None and person.birthday is not None
    on_person_day = await reminders.birthdays_on(person.birthday.replace(year=2028))
    assert person.id in {p.id for p in on_person_day.persons}

    admin = await User.get(email="admin@demo.local")
    interest_id = planned[0].interest_id  # type: ignore[attr-defined]
    feed = await interactions.interest_feed(interest_id, actor=admin)
    states = [i.state for i in feed]
    assert states[0] == InteractionState.PLANNED
    assert states == sorted(states, key=lambda s: s != InteractionState.PLANNED)
    done = [i.sort_at for i in feed if i.state != InteractionState.PLANNED]
    assert done == sorted(done, reverse=True)
    assert all(i.interest_id == interest_id for i in feed)  # type: ignore[attr-defined]


async def test_a_fresh_demo_has_sent_its_past_reminders_and_nags(db: TortoiseContext) -> None:
    """As in a CRM whose worker runs: every reminder whose time has come was sent, every
    step an hour overdue was nagged about, but for a handful of steps starting within the
    reminder lead, which the bot's first tick shows (not thousands at once)."""
    await demo.generate(600, seed=11, now=T0)
    lead = timedelta(seconds=demo_rows.LEAD)
    due = await reminders.claim_due_reminders(now=T0, limit=10_000)
    assert 1 <= len(due) <= demo_rows.DUE_REMINDERS
    assert all(T0 < i.planned_at <= T0 + lead for i in due)  # type: ignore[operator]
    assert await reminders.claim_overdue_nags(now=T0, limit=10_000) == []

    planned = await Interaction.filter(state=InteractionState.PLANNED)
    overdue = [i for i in planned if i.planned_at < T0]  # type: ignore[operator]
    assert overdue and all(i.reminded_at is not None for i in overdue)
    assert all(i.nagged_at for i in overdue if i.planned_at < T0 - timedelta(hours=1))  # type: ignore[operator]
    coming = [i for i in planned if i.planned_at > T0 + lead]  # type: ignore[operator]
    assert coming and all(i.reminded_at is None and i.nagged_at is None for i in coming)
    had_plan = await Interaction.filter(
        state__in=[InteractionState.DONE, InteractionState.CANCELLED], planned_at__isnull=False
    )
    assert had_plan and all(i.reminded_at is not None for i in had_plan)
    moments = [m for i in await Interaction.all() for m in (i.reminded_at, i.nagged_at) if m]
    assert moments and max(moments) <= T0


async def test_rerun_appends_without_collisions_and_services_still_work(
    db: TortoiseContext,
) -> None:
    first = await demo.generate(120, seed=1, now=T0)
    again = await demo.generate(120, seed=1, now=T0)  # the same seed: the hardest case
    assert again["users"] == 0
    assert await Client.all().count() == 240
    assert await User.all().count() == first["users"]
    assert await Scenario.all().count() == len(demo_words.SCENARIOS)
    assert await Interaction.all().count() == first["interactions"] + again["interactions"]
    inns = [c.inn for c in await Client.filter(inn__isnull=False)]
    assert len(set(inns)) == len(inns)
    values = await ClientContact.all().values_list("value", flat=True)
    assert len(set(values)) == len(values)
    # id sequences moved past the bulk rows: services insert without clashes
    admin = await User.get(email="admin@demo.local")
    created = await clients.create_client(actor=admin, name="ООО Новая", phones=["+79161234567"])
    assert created.id == 241


def test_demo_data_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CRMHUB_DATA_DIR": str(tmp_path / "data"),
        "CRMHUB_DATABASE_URL": "",
        "CRMHUB_DEFAULT_LOCALE": "ru",
    }
    done = subprocess.run(
        [sys.executable, "-m", "crmhub.cli", "demo-data", "--clients", "50"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "50/50" in done.stdout and "Клиенты: 50" in done.stdout  # the installation's language
    assert "clients" not in done.stdout and " INFO " not in done.stdout
    with sqlite3.connect(tmp_path / "data" / "crmhub.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM clients").fetchone() == (50,)
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 21
        bad = conn.execute(
            "SELECT COUNT(*) FROM interests i JOIN stages s ON s.id = i.stage_id"
            " WHERE s.scenario_id <> i.scenario_id"
        ).fetchone()
        assert bad == (0,)
