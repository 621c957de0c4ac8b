"""The pipeline board /board: columns with counts and totals, cards with their next step,
filters by manager and tag, and moving a card by its form and as the script does (JSON):
moved, sent to plan the next step first, or refused (closed deal, another scenario's stage,
another manager's deal)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crm import clients, clock, deals, interactions
from crm.interactions import Plan
from crm.models import Interest, InterestStatus, Role, Scenario, Stage, Tag, User
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories

JSON = {"Accept": "application/json"}


@pytest.fixture
async def scenario(admin: User) -> Scenario:
    return await factories.scenario(is_default=True, require_next_step=True)


async def stages(scenario: Scenario) -> list[Stage]:
    return list(await Stage.filter(scenario_id=scenario.id).order_by("position"))


async def deal_of(
    owner: User, title: str, amount: object = None, client_name: str = "", tags: Any = ()
) -> Interest:
    client = await clients.create_client(
        actor=owner, name=client_name or f"Клиент {title}", tags=list(tags)
    )
    return await deals.create_interest(actor=owner, client_id=client.id, title=title, amount=amount)


async def plan(deal: Interest, actor: User, days: float) -> None:
    await interactions.plan_interaction(
        Plan(kind="call", planned_at=clock.now() + timedelta(days=days)),
        actor=actor,
        interest_id=deal.id,
    )


def column(text: str, stage: Stage) -> str:
    start = text.index(f'data-stage="{stage.id}"')
    end = text.find("data-stage=", start + 10)
    return text[start : end if end != -1 else len(text)]


async def test_columns_counts_totals_and_next_steps(
    as_admin: Browser, admin: User, manager: User, scenario: Scenario
) -> None:
    first, second, third = await stages(scenario)
    late = await deal_of(manager, "Просроченная", "1000", tags=["VIP"])
    await plan(late, manager, days=-2)
    calm = await deal_of(manager, "Спокойная", "250.50")
    await plan(calm, manager, days=2)
    mine = await deal_of(admin, "Админская")
    won = await deal_of(admin, "Выигранная", "5")
    await deals.win(won.id, actor=admin)
    await plan(mine, admin, days=1)
    await deals.move_stage(mine.id, second.id, actor=admin)

    status, text = await as_admin.get(f"/board?scenario={scenario.id}")
    assert status == 200 and 'src="/static/board.js"' in text
    one = column(text, first)
    assert "data-count>2<" in one and "RUB\u00a01,250.50" in one
    assert "Просроченная" in one and "Спокойная" in one and "Выигранная" not in text
    late_card = one[one.index(f'data-card="{late.id}"') :]
    assert 'class="small overdue" data-next-step' in late_card[: late_card.index("</li>")]
    calm_card = one[one.index(f'data-card="{calm.id}"') :]
    assert "overdue" not in calm_card[: calm_card.index("</li>")]
    assert "Админская" in column(text, second) and "data-count>1<" in column(text, second)
    assert "data-count>0<" in column(text, third)

    _, text = await as_admin.get(f"/board?scenario={scenario.id}&manager={admin.id}")
    assert "Админская" in text and "Просроченная" not in text
    vip = await Tag.get(name="VIP")
    _, text = await as_admin.get(f"/board?tag={vip.id}")  # the default scenario
    assert "Просроченная" in text and "Спокойная" not in text and "Админская" not in text
    # nonsense filters are ignored, not errors
    status, _ = await as_admin.get("/board?scenario=abc&manager=-1&tag=99999999999999")
    assert status == 200


async def test_board_of_a_manager_shows_only_their_deals(
    as_manager: Browser, admin: User, manager: User, scenario: Scenario
) -> None:
    await deal_of(manager, "Моя сделка", "10")
    await deal_of(admin, "Чужая сделка", "99")
    _, text = await as_manager.get("/board")
    assert "Моя сделка" in text and "Чужая сделка" not in text
    assert "RUB\u00a099" not in text  # the totals count only what they may see


async def test_moving_a_card(as_manager: Browser, manager: User, scenario: Scenario) -> None:
    first, second, third = await stages(scenario)
    deal = await deal_of(manager, "Сделка")
    board = f"/board?scenario={scenario.id}"
    await as_manager.get(board)

    # the scenario wants a next step: the form goes on to the plan page, nothing moves yet
    _, text = await as_manager.post("/board/move", {"interest_id": deal.id, "stage_id": second.id})
    assert as_manager.page.startswith(f"/deals/{deal.id}/plan?then_stage={second.id}")
    assert "Plan the next step" in text
    assert (await Interest.get(id=deal.id)).stage_id == first.id  # type: ignore[attr-defined]
    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {
            "kind": "call",
            "planned_at": "2031-05-05T09:00",
            "then_stage": second.id,
            "then_back": board,
        },
    )
    assert as_manager.page == board
    assert (await Interest.get(id=deal.id)).stage_id == second.id  # type: ignore[attr-defined]

    # as the script does: JSON answers
    token = await as_manager.csrf()
    form = {"interest_id": str(deal.id), "stage_id": str(third.id), "_back": board}
    resp = await as_manager.client.post(
        "/board/move", data=form, headers={**JSON, "X-CSRF-Token": token}
    )
    assert resp.status == 200 and await resp.json() == {"moved": True}
    assert (await Interest.get(id=deal.id)).stage_id == third.id  # type: ignore[attr-defined]

    other = await deal_of(manager, "Без плана")
    resp = await as_manager.client.post(
        "/board/move",
        data={"interest_id": str(other.id), "stage_id": str(second.id), "_back": board},
        headers={**JSON, "X-CSRF-Token": token},
    )
    answer = await resp.json()
    assert resp.status == 200 and answer["moved"] is False
    assert answer["plan"].startswith(f"/deals/{other.id}/plan?then_stage={second.id}")

    # refused: a closed deal, a stage of another scenario
    await deals.win(deal.id, actor=manager)
    resp = await as_manager.client.post(
        "/board/move",
        data={"interest_id": str(deal.id), "stage_id": str(first.id)},
        headers={**JSON, "X-CSRF-Token": token},
    )
    assert resp.status == 409
    assert (await resp.json())["error"]["message"] == "The interest is closed"
    foreign = (await stages(await factories.scenario("Другой", ("А", "Б"))))[1]
    await plan(other, manager, days=1)
    resp = await as_manager.client.post(
        "/board/move",
        data={"interest_id": str(other.id), "stage_id": str(foreign.id)},
        headers={**JSON, "X-CSRF-Token": token},
    )
    assert resp.status == 422
    assert (await Interest.get(id=other.id)).stage_id == first.id  # type: ignore[attr-defined]
    # without JS the refusal comes back to the board as a message
    _, text = await as_manager.post("/board/move", {"interest_id": deal.id, "stage_id": first.id})
    assert as_manager.page == board and "The interest is closed" in text
    assert (await Interest.get(id=deal.id)).status == InterestStatus.WON


async def test_move_refuses_bad_input_and_anothers_deal(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    first, second, _ = await stages(scenario)
    other = await make_user(Role.MANAGER, email="petr@example.com", full_name="Petr Other")
    theirs = await deal_of(other, "Чужая")
    await plan(theirs, other, days=1)
    token = await as_manager.csrf()
    for headers in ({}, {**JSON}):
        resp = await as_manager.client.post(
            "/board/move",
            data={"interest_id": str(theirs.id), "stage_id": str(second.id), "_csrf": token},
            headers=headers,
            allow_redirects=False,
        )
        assert resp.status == 404
    assert (await Interest.get(id=theirs.id)).stage_id == first.id  # type: ignore[attr-defined]
    resp = await as_manager.client.post(
        "/board/move",
        data={"interest_id": "x", "stage_id": ""},
        headers={**JSON, "X-CSRF-Token": token},
    )
    assert resp.status == 422
    assert set((await resp.json())["error"]["fields"]) == {"interest_id"}
    # without the session's token nothing moves
    resp = await as_manager.client.post(
        "/board/move",
        data={"interest_id": str(theirs.id), "stage_id": str(second.id)},
        headers=JSON,
    )
    assert resp.status == 403


async def test_no_scenario_yet(as_admin: Browser) -> None:
    status, text = await as_admin.get("/board")
    assert status == 200 and "Create a sales scenario first" in text


async def test_a_long_column_shows_its_newest_cards_and_more_on_request(
    as_admin: Browser, admin: User, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from admin_web.views import board

    monkeypatch.setattr(board, "CARDS_STEP", 2)
    first, second, _ = await stages(scenario)
    made = [await deal_of(admin, f"Сделка {n}", "1") for n in range(5)]
    await plan(made[0], admin, days=1)
    await deals.move_stage(made[0].id, second.id, actor=admin)
    _, text = await as_admin.get(f"/board?scenario={scenario.id}")
    one = column(text, first)
    # the count and total cover all four; the cards are the two changed last
    assert "data-count>4<" in one and "RUB\u00a04" in one
    assert "Сделка 4" in one and "Сделка 3" in one and "Сделка 2" not in one
    assert "2 of 4 most recently changed" in one
    link = one.split("board-more", 1)[1].split('<a href="', 1)[1].split('"', 1)[0]
    link = link.replace("&amp;", "&")
    assert f"more_{first.id}=4" in link
    assert "Show more" not in column(text, second)  # a column shown whole has no link
    _, text = await as_admin.get(link)
    one = column(text, first)
    assert all(f"Сделка {n}" in one for n in (1, 2, 3, 4)) and "most recently changed" not in one
    # junk in the counts is ignored; a huge one is capped
    status, _ = await as_admin.get(f"/board?more_{first.id}=abc&more_x=3&more_{second.id}=99999")
    assert status == 200
