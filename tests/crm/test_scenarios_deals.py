from __future__ import annotations

from datetime import timedelta

import pytest

from crm import clock, deals, history, interactions, scenarios
from crm.errors import Conflict, NextStepRequired, NotFound, ValidationFailed
from crm.interactions import Plan
from crm.models import InterestStatus, ReasonKind, Stage, StageChange
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_stages_add_rename_reorder() -> None:
    s = await f.scenario(stages=("A", "B"))
    c = await scenarios.add_stage(s.id, "Между", position=1, actor=None)
    await scenarios.rename_stage(c.id, "Переговоры", actor=None)
    names = [st.name for st in await scenarios.stages_of(s.id)]
    assert names == ["A", "Переговоры", "B"]
    ids = [st.id for st in await scenarios.stages_of(s.id)]
    await scenarios.reorder_stages(s.id, list(reversed(ids)), actor=None)
    assert [st.name for st in await scenarios.stages_of(s.id)] == ["B", "Переговоры", "A"]
    with pytest.raises(ValidationFailed):
        await scenarios.reorder_stages(s.id, ids[:2], actor=None)


async def test_stage_in_use_cannot_be_deleted() -> None:
    admin = await f.admin()
    s = await f.scenario()
    client = await f.client(admin)
    await deals.create_interest(actor=admin, client_id=client.id, title="Сделка")
    first, _second, third = await scenarios.stages_of(s.id)
    with pytest.raises(Conflict) as err:
        await scenarios.delete_stage(first.id, actor=admin)
    assert err.value.code == "stage_in_use"
    assert "Квалификация" in err.value.render("ru")
    await scenarios.delete_stage(third.id, actor=admin)
    assert await Stage.filter(scenario_id=s.id).count() == 2


async def test_stage_actions_stored_as_data() -> None:
    s = await f.scenario()
    stage = (await scenarios.stages_of(s.id))[1]
    robot = await scenarios.add_stage_action(
        stage.id, "send_message", {"template": "Здравствуйте, {client_name}!"}, actor=None
    )
    task = await scenarios.add_stage_action(
        stage.id, "create_task", {"subject": "Позвонить", "due_in_hours": "4"}, actor=None
    )
    assert robot.params == {"template": "Здравствуйте, {client_name}!"}
    assert task.params == {"subject": "Позвонить", "due_in_hours": 4}
    with pytest.raises(ValidationFailed):
        await scenarios.add_stage_action(stage.id, "send_message", {}, actor=None)


async def test_next_step_required_blocks_stage_move_until_planned() -> None:
    manager = await f.manager()
    s = await f.scenario(require_next_step=True)
    client = await f.client(manager)
    interest = await deals.create_interest(actor=manager, client_id=client.id, title="Поставка")
    stages = await scenarios.stages_of(s.id)
    with pytest.raises(NextStepRequired) as err:
        await deals.move_stage(interest.id, stages[1].id, actor=manager)
    assert err.value.render("en").startswith("Plan the next interaction first")
    assert (await deals.get_interest(interest.id)).stage_id == stages[0].id  # type: ignore[attr-defined]
    await interactions.plan_interaction(
        Plan("call", clock.now() + timedelta(days=1), "Созвон"),
        actor=manager,
        interest_id=interest.id,
    )
    moved = await deals.next_stage(interest.id, actor=manager)
    assert moved.stage_id == stages[1].id  # type: ignore[attr-defined]
    changes = await StageChange.filter(interest_id=interest.id).order_by("id")
    assert [(c.from_stage_id, c.to_stage_id) for c in changes] == [  # type: ignore[attr-defined]
        (None, stages[0].id),
        (stages[0].id, stages[1].id),
    ]
    fields_changed = {c.field for c in await history.list_changes("interest", interest.id)}
    assert "stage_id" in fields_changed


async def test_win_and_lose_with_reason() -> None:
    manager = await f.manager()
    await f.scenario(require_next_step=False)
    client = await f.client(manager)
    a = await deals.create_interest(
        actor=manager, client_id=client.id, title="A", amount="1 500,50"
    )
    b = await deals.create_interest(actor=manager, client_id=client.id, title="B")
    won = await deals.win(a.id, actor=manager)
    assert won.status == InterestStatus.WON and won.closed_at is not None
    assert str(won.amount) == "1500.50"
    with pytest.raises(ValidationFailed):
        await deals.lose(b.id, 12345, actor=manager)
    price = await scenarios.add_reason(ReasonKind.LOSS, "Дорого", actor=None)
    lost = await deals.lose(b.id, price.id, actor=manager)
    assert lost.status == InterestStatus.LOST
    with pytest.raises(Conflict):
        await deals.win(b.id, actor=manager)
    with pytest.raises(Conflict):
        await deals.move_stage(b.id, lost.stage_id, actor=manager)  # type: ignore[attr-defined]


async def test_other_managers_interest_is_not_found() -> None:
    m1, m2 = await f.manager(), await f.manager()
    await f.scenario(require_next_step=False)
    client = await f.client(m1)
    interest = await deals.create_interest(actor=m1, client_id=client.id, title="A")
    with pytest.raises(NotFound):
        await deals.win(interest.id, actor=m2)
    with pytest.raises(NotFound):
        await deals.create_interest(actor=m2, client_id=client.id, title="B")


async def test_my_open_interests_by_stage_then_newest() -> None:
    s = await f.scenario(stages=("Lead", "Offer"), require_next_step=False)
    offer = (await scenarios.stages_of(s.id))[1]
    m1, m2 = await f.manager(), await f.manager()
    client = await f.client(m1, name="Ромашка")
    made = {}
    for title in ("first", "second", "third", "won"):
        made[title] = await deals.create_interest(actor=m1, client_id=client.id, title=title)
    await deals.create_interest(actor=m2, client_id=(await f.client(m2)).id, title="someone else's")
    await deals.move_stage(made["first"].id, offer.id, actor=m1)
    await deals.win(made["won"].id, actor=m1)
    await deals.update_interest(made["second"].id, {"title": "second!"}, actor=m1)  # newer

    mine = await deals.open_interests_of(m1)

    assert [i.title for i in mine] == ["second!", "third", "first"]
    assert [i.stage.name for i in mine] == ["Lead", "Lead", "Offer"]
    assert {i.client.name for i in mine} == {"Ромашка"}
    assert all(i.status == InterestStatus.OPEN and i.client_id == client.id for i in mine)  # type: ignore[attr-defined]
