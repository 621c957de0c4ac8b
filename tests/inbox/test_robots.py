"""Stage robots run once per stage entry: the template message is queued once, the task
created once, even when two runners race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from crm import channels, deals, scenarios
from crm.models import (
    Client,
    Interaction,
    InteractionKind,
    Message,
    MessageStatus,
    StageChange,
)
from inbox import hub, robots
from inbox.channels.base import InboundMessage
from tests.crm import factories


async def test_a_stage_robot_sends_its_message_once(db: object) -> None:
    admin = await factories.admin()
    anna = await factories.manager(full_name="Анна Петрова")
    sc = await factories.scenario(require_next_step=False)
    stages = await scenarios.stages_of(sc.id)
    await scenarios.add_stage_action(
        stages[1].id,
        "send_message",
        {
            "template": "{client_name}, {manager_name} подготовила предложение: "
            "{interest_title}. {unknown}"
        },
        actor=admin,
    )
    await scenarios.add_stage_action(
        stages[1].id, "create_task", {"subject": "Позвонить", "due_in_hours": 2}, actor=admin
    )
    tg = await channels.create_channel(
        kind="telegram", name="Бот", credentials={"token": "1:x"}, actor=admin
    )
    await hub.ingest(
        tg,
        InboundMessage("1:1", "501", "Привет", datetime(2026, 11, 27, tzinfo=UTC), "Олег"),
    )
    client = await Client.get(name="Олег")
    await Client.filter(id=client.id).update(responsible_id=anna.id)
    interest = await deals.create_interest(
        client_id=client.id, title="Поставка <b>кабеля</b>", scenario_id=sc.id, actor=anna
    )
    assert await robots.run_due() == 1  # entering the first stage: no actions there
    await deals.move_stage(interest.id, stages[1].id, actor=anna)
    handled = await asyncio.gather(robots.run_due(), robots.run_due())
    assert sorted(handled) == [0, 1]
    assert await robots.run_due() == 0
    queued = await Message.filter(direction="out")
    assert len(queued) == 1
    assert queued[0].status == MessageStatus.QUEUED
    assert queued[0].text == (
        "Олег, Анна Петрова подготовила предложение: Поставка <b>кабеля</b>. {unknown}"
    )
    tasks = await Interaction.filter(kind=InteractionKind.TASK, interest_id=interest.id)
    assert [t.subject for t in tasks] == ["Позвонить"]
    assert tasks[0].responsible_id == anna.id  # type: ignore[attr-defined]
    assert not await StageChange.filter(robots_done=False).exists()


async def test_a_robot_without_a_channel_leaves_a_note(db: object) -> None:
    admin = await factories.admin()
    sc = await factories.scenario(require_next_step=False)
    stages = await scenarios.stages_of(sc.id)
    await scenarios.add_stage_action(
        stages[0].id, "send_message", {"template": "Спасибо!"}, actor=admin
    )
    client = await factories.client(admin, name="ООО Без каналов")
    interest = await deals.create_interest(
        client_id=client.id, title="Т", scenario_id=sc.id, actor=admin
    )
    assert await robots.run_due() == 1
    assert not await Message.exists()
    note = await Interaction.get(interest_id=interest.id, kind=InteractionKind.NOTE)
    assert "Спасибо!" in note.content


async def test_a_robot_that_keeps_failing_is_given_up_with_a_note(db: object) -> None:
    import time_machine

    from crm import clock

    admin = await factories.admin()
    sc = await factories.scenario(require_next_step=False)
    stages = await scenarios.stages_of(sc.id)
    await scenarios.add_stage_action(
        stages[0].id, "send_message", {"template": "{interest_amount}"}, actor=admin
    )
    tg = await channels.create_channel(
        kind="telegram", name="Бот", credentials={"token": "1:x"}, actor=admin
    )
    await hub.ingest(tg, InboundMessage("1:1", "9", "?", datetime(2026, 11, 27, tzinfo=UTC), "Ия"))
    client = await Client.get(name="Ия")
    interest = await deals.create_interest(
        client_id=client.id, title="Без суммы", scenario_id=sc.id, actor=admin
    )
    start = clock.now()
    for attempt in range(robots.MAX_ATTEMPTS):
        with time_machine.travel(start + attempt * (robots.LEASE + robots.LEASE), tick=False):
            assert await robots.run_due() == 1  # an empty message is refused every time
    change = await StageChange.get(interest_id=interest.id)
    assert change.robots_done and change.robots_attempts == robots.MAX_ATTEMPTS
    assert not await Message.filter(direction="out").exists()
    note = await Interaction.get(interest_id=interest.id, kind=InteractionKind.NOTE)
    assert "given up" in note.content
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert await robots.run_due() == 0
