"""The deal page /deals/{id}: in-place title and amount, stage moves (the next step the
scenario asks for planned first), won/lost/reopen with the deal's plans, notes, the feed,
and what another manager's deal looks like (404); PATCH /api/v1/interests/{id}."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm import clock, deals, interactions
from crm.apikeys import create_key
from crm.interactions import Plan
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    InterestStatus,
    Reason,
    ReasonKind,
    Role,
    Scenario,
    Stage,
    User,
)
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


@pytest.fixture
async def scenario(admin: User) -> Scenario:
    return await factories.scenario(require_next_step=True)


async def deal_of(owner: User, title: str = "Поставка бумаги", **kw: object) -> Interest:
    client = await factories.client(owner, name=f"Клиент {owner.full_name}")
    return await deals.create_interest(actor=owner, client_id=client.id, title=title, **kw)  # type: ignore[arg-type]


async def stages(scenario: Scenario) -> list[Stage]:
    return list(await Stage.filter(scenario_id=scenario.id).order_by("position"))


async def plan_call(deal: Interest, actor: User, days: float = 1) -> Interaction:
    return await interactions.plan_interaction(
        Plan(kind="call", planned_at=clock.now() + timedelta(days=days), subject="Позвонить"),
        actor=actor,
        interest_id=deal.id,
    )


async def test_page_links_and_in_place_edits(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    _, text = await as_manager.get("/deals")
    assert f'href="/deals/{deal.id}"' in text
    _, text = await as_manager.get(f"/clients/{deal.client_id}")  # type: ignore[attr-defined]
    assert f'href="/deals/{deal.id}"' in text
    status, text = await as_manager.get(f"/deals/{deal.id}")
    assert status == 200
    assert 'value="Поставка бумаги"' in text and "Клиент Ivan Manager" in text
    assert 'placeholder="No amount yet"' in text  # a deal from an inquiry has none

    _, text = await as_manager.post(f"/deals/{deal.id}/edit", {"title": "  Бумага A4  "})
    assert "Saved" in text and 'value="Бумага A4"' in text
    _, text = await as_manager.post(f"/deals/{deal.id}/edit", {"amount": "81 700,50"})
    assert (await Interest.get(id=deal.id)).amount == Decimal("81700.50")
    assert "RUB\u00a081,700.50" in text

    # refused: nothing changes, the message and the typed value come back
    _, text = await as_manager.post(f"/deals/{deal.id}/edit", {"amount": "восемь"})
    assert "Not an amount of money" in text and 'value="восемь"' in text
    _, text = await as_manager.post(f"/deals/{deal.id}/edit", {"title": "   "})
    assert "Required" in text
    again = await Interest.get(id=deal.id)
    assert (again.title, again.amount) == ("Бумага A4", Decimal("81700.50"))
    # an empty amount clears it
    await as_manager.post(f"/deals/{deal.id}/edit", {"amount": ""})
    assert (await Interest.get(id=deal.id)).amount is None


async def test_page_lists_the_deals_conversations(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    client_id = deal.client_id  # type: ignore[attr-defined]
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот продаж", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="7", client_id=client_id)
    talk = await Conversation.create(
        channel=channel, identity=identity, client_id=client_id, interest=deal
    )
    other = await deal_of(manager, "Другая")
    second = await ChannelIdentity.create(channel=channel, external_id="8", client_id=client_id)
    elsewhere = await Conversation.create(
        channel=channel, identity=second, client_id=client_id, interest=other
    )
    _, text = await as_manager.get(f"/deals/{deal.id}")
    part = text[text.index('id="conversations"') :]
    assert f'href="/inbox/{talk.id}"' in part and "Бот продаж" in part
    assert f'href="/inbox/{elsewhere.id}"' not in part  # another deal's
    assert f'href="/clients/{client_id}"' in text


async def test_move_waits_for_the_next_step_then_moves_on_save(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    first, second, _ = await stages(scenario)
    status, text = await as_manager.post(f"/deals/{deal.id}/move", {"stage_id": second.id})
    assert status == 200 and as_manager.page.startswith(f"/deals/{deal.id}/plan?then_stage=")
    assert "Plan the next step" in text and "“Предложение”" in text
    assert (await Interest.get(id=deal.id)).stage_id == first.id  # type: ignore[attr-defined]

    # a refused plan (no time) moves nothing and plans nothing; the form comes back
    plan_page = as_manager.page
    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {"kind": "call", "planned_at": "", "then_stage": second.id, "subject": "Звонок"},
    )
    assert as_manager.page == plan_page and "Required" in text
    assert not await Interaction.filter(interest_id=deal.id).exists()

    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {
            "kind": "meeting",
            "planned_at": "2031-03-02T11:30",
            "then_stage": second.id,
            "subject": "Встреча",
            "then_back": f"/deals/{deal.id}",
        },
    )
    assert as_manager.page == f"/deals/{deal.id}" and "the deal moved" in text
    moved = await Interest.get(id=deal.id)
    assert moved.stage_id == second.id  # type: ignore[attr-defined]
    planned = await Interaction.get(interest_id=deal.id)
    assert planned.kind == InteractionKind.MEETING and planned.state == InteractionState.PLANNED
    # 11:30 in the manager's timezone (Moscow), stored in UTC
    assert planned.planned_at is not None and planned.planned_at.hour == 8

    # with a plan in place, a move is immediate
    _, text = await as_manager.post(f"/deals/{deal.id}/move", {"stage_id": first.id})
    assert "Stage changed" in text
    assert (await Interest.get(id=deal.id)).stage_id == first.id  # type: ignore[attr-defined]


async def test_a_stage_of_another_scenario_is_refused(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    other = await factories.scenario("Другой", ("Один", "Два"))
    foreign = (await stages(other))[1]
    await plan_call(deal, manager)
    _, text = await as_manager.post(f"/deals/{deal.id}/move", {"stage_id": foreign.id})
    assert "This stage is not in the interest&#39;s scenario" in text
    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {"kind": "call", "planned_at": "2031-01-01T10:00", "then_stage": foreign.id},
    )
    assert "This stage is not in the interest&#39;s scenario" in text
    assert await Interaction.filter(interest_id=deal.id).count() == 1  # nothing more planned
    status, _ = await as_manager.get(f"/deals/{deal.id}/plan?then_stage={foreign.id}")
    assert status == 422
    _, text = await as_manager.post(f"/deals/{deal.id}/move", {"stage_id": "два"})
    assert "Not a number" in text


async def test_won_lost_and_reopen_ask_about_the_plans(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    call = await plan_call(deal, manager)
    _, text = await as_manager.get(f"/deals/{deal.id}")
    assert "Close the deal as won?" in text
    assert "Won, keep 1 planned" in text and "Won, cancel 1 planned" in text
    await as_manager.post(f"/deals/{deal.id}/win", {"planned": "cancel"})
    won = await Interest.get(id=deal.id)
    assert won.status == InterestStatus.WON
    assert (await Interaction.get(id=call.id)).state == InteractionState.CANCELLED
    _, text = await as_manager.get(f"/deals/{deal.id}")
    assert 'id="reopen"' in text and f'action="/deals/{deal.id}/win"' not in text
    # closed: a second close is refused with its reason
    _, text = await as_manager.post(f"/deals/{deal.id}/lose", {})
    assert "The interest is closed" in text or "The deal is closed" in text

    _, text = await as_manager.post(f"/deals/{deal.id}/reopen", {})
    assert "The deal is open again." in text
    assert (await Interest.get(id=deal.id)).status == InterestStatus.OPEN

    reason = await Reason.create(kind=ReasonKind.LOSS, text="Дорого")
    await interactions.restore_interaction(call.id, actor=manager)
    _, text = await as_manager.get(f"/deals/{deal.id}")
    assert "Дорого" in text and "Lost, keep 1 planned" in text
    _, text = await as_manager.post(f"/deals/{deal.id}/lose", {"planned": "keep"})
    assert "Choose a reason from the list" in text
    assert (await Interest.get(id=deal.id)).status == InterestStatus.OPEN
    await as_manager.post(
        f"/deals/{deal.id}/lose", {"loss_reason_id": reason.id, "planned": "keep"}
    )
    lost = await Interest.get(id=deal.id)
    assert lost.status == InterestStatus.LOST and lost.loss_reason_id == reason.id  # type: ignore[attr-defined]
    assert (await Interaction.get(id=call.id)).state == InteractionState.PLANNED  # kept


async def test_note_feed_filter_cancel_and_restore(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    call = await plan_call(deal, manager, days=-1)  # overdue
    later = await plan_call(deal, manager, days=3)
    await as_manager.get(f"/deals/{deal.id}")
    note = {"note": "Клиент <b>просит</b> скидку"}
    _, text = await as_manager.post(f"/deals/{deal.id}/note", note)
    assert "Note saved." in text
    assert "Клиент &lt;b&gt;просит&lt;/b&gt; скидку" in text  # customer text escaped
    _, text = await as_manager.post(f"/deals/{deal.id}/note", {"note": "  "})
    assert "Required" in text

    _, text = await as_manager.get(f"/deals/{deal.id}")
    feed = text[text.index('id="feed"') :]
    # planned first (soonest first), then the note
    assert feed.index(f'data-feed-item="{call.id}"') < feed.index(f'data-feed-item="{later.id}"')
    assert feed.index(f'data-feed-item="{later.id}"') < feed.index("просит")
    assert "overdue" in feed[: feed.index(f'data-feed-item="{later.id}"')]
    _, text = await as_manager.get(f"/deals/{deal.id}?kind=note")
    feed = text[text.index('id="feed"') :]
    assert "просит" in feed and f'data-feed-item="{call.id}"' not in feed

    await as_manager.post(f"/deals/{deal.id}/feed/{call.id}/cancel", {})
    assert (await Interaction.get(id=call.id)).state == InteractionState.CANCELLED
    _, text = await as_manager.get(f"/deals/{deal.id}")
    assert f'/feed/{call.id}/restore"' in text
    await as_manager.post(f"/deals/{deal.id}/feed/{call.id}/restore", {})
    assert (await Interaction.get(id=call.id)).state == InteractionState.PLANNED

    # an interaction of another deal is not this deal's to cancel
    other = await deal_of(manager, "Другая сделка")
    elsewhere = await plan_call(other, manager)
    status, _ = await as_manager.post(f"/deals/{deal.id}/feed/{elsewhere.id}/cancel", {})
    assert status == 404
    assert (await Interaction.get(id=elsewhere.id)).state == InteractionState.PLANNED


async def test_another_managers_deal_is_not_found(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    other = await make_user(Role.MANAGER, email="petr@example.com", full_name="Petr Other")
    theirs = await deal_of(other, "Чужая сделка")
    call = await plan_call(theirs, other)
    second = (await stages(scenario))[1]
    status, text = await as_manager.get(f"/deals/{theirs.id}")
    assert status == 404 and "Чужая сделка" not in text
    for path, data in (
        (f"/deals/{theirs.id}/edit", {"title": "Моё"}),
        (f"/deals/{theirs.id}/move", {"stage_id": second.id}),
        (f"/deals/{theirs.id}/win", {}),
        (f"/deals/{theirs.id}/lose", {}),
        (f"/deals/{theirs.id}/note", {"note": "x"}),
        (
            f"/deals/{theirs.id}/plan",
            {"kind": "call", "planned_at": "2031-01-01T10:00", "then_stage": second.id},
        ),
        (f"/deals/{theirs.id}/feed/{call.id}/cancel", {}),
    ):
        status, _ = await as_manager.post(path, data)
        assert status == 404, path
    status, _ = await as_manager.get(f"/deals/{theirs.id}/plan?then_stage={second.id}")
    assert status == 404
    same = await Interest.get(id=theirs.id)
    assert same.title == "Чужая сделка" and same.status == InterestStatus.OPEN
    assert same.stage_id != second.id  # type: ignore[attr-defined]
    assert await Interaction.filter(interest_id=theirs.id).count() == 1
    status, _ = await as_manager.get("/deals/99999999999")
    assert status == 404


async def test_admin_and_head_open_any_deal(browser: Browser, admin: User, manager: User) -> None:
    await factories.scenario()
    deal = await deal_of(manager)
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Helen Head")
    await browser.login(head.email)
    status, _ = await browser.get(f"/deals/{deal.id}")
    assert status == 200
    await browser.post(f"/deals/{deal.id}/edit", {"title": "Переименована"})
    assert (await Interest.get(id=deal.id)).title == "Переименована"


async def test_api_patch_interest(browser: Browser, admin: User, manager: User) -> None:
    await factories.scenario()
    deal = await deal_of(manager)
    other = await make_user(Role.MANAGER, email="petr@example.com", full_name="Petr Other")
    _, key = await create_key("m", manager.id, actor=None)
    _, other_key = await create_key("o", other.id, actor=None)

    async def patch(body: object, which: str = key) -> tuple[int, dict[str, object]]:
        resp = await browser.client.patch(
            f"/api/v1/interests/{deal.id}",
            json=body,
            headers={"Authorization": f"Bearer {which}", "Accept-Language": "en"},
        )
        return resp.status, await resp.json()

    status, data = await patch({"title": "Новое имя", "amount": "81700,50"})
    assert status == 200 and data["title"] == "Новое имя" and data["amount"] == "81700.5"
    status, data = await patch({"amount": 1200})
    assert status == 200 and data["amount"] == "1200"
    status, data = await patch({"amount": None})
    assert status == 200 and data["amount"] is None
    status, data = await patch({"amount": "много", "title": ""})
    assert status == 422
    error = data["error"]
    assert isinstance(error, dict) and error["code"] == "validation_failed"
    assert "amount" in error["fields"] or "title" in error["fields"]
    status, data = await patch({"stage_id": 1})  # moves go through /move
    assert status == 422 and "stage_id" in data["error"]["fields"]  # type: ignore[index]
    status, data = await patch({"title": "Чужое"}, other_key)
    assert status == 404
    assert (await Interest.get(id=deal.id)).title == "Новое имя"


async def test_done_in_the_feed_asks_for_the_next_step_when_it_was_the_last(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    call = await plan_call(deal, manager, days=1)
    later = await plan_call(deal, manager, days=2)
    await as_manager.get(f"/deals/{deal.id}")
    _, text = await as_manager.post(f"/deals/{deal.id}/feed/{call.id}/done", {})
    assert as_manager.page == f"/deals/{deal.id}" and "Done" in text
    assert (await Interaction.get(id=call.id)).state == InteractionState.DONE

    # the last planned one: the plan page first, nothing done until the plan is saved
    _, text = await as_manager.post(f"/deals/{deal.id}/feed/{later.id}/done", {})
    assert as_manager.page.startswith(f"/deals/{deal.id}/plan?")
    assert f"complete={later.id}" in as_manager.page
    assert "“Позвонить” is marked done when the next step is saved." in text
    assert (await Interaction.get(id=later.id)).state == InteractionState.PLANNED
    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {"kind": "email", "planned_at": "2031-04-01T10:00", "complete": later.id},
    )
    assert "Done, and the next step is planned" in text
    assert (await Interaction.get(id=later.id)).state == InteractionState.DONE
    assert await Interaction.filter(
        interest_id=deal.id, kind=InteractionKind.EMAIL, state=InteractionState.PLANNED
    ).exists()

    # another deal's interaction cannot be completed through this deal's plan page
    other = await deal_of(manager, "Другая")
    theirs = await plan_call(other, manager)
    status, _ = await as_manager.get(f"/deals/{deal.id}/plan?complete={theirs.id}")
    assert status == 404
    status, _ = await as_manager.post(
        f"/deals/{deal.id}/plan",
        {"kind": "call", "planned_at": "2031-04-01T10:00", "complete": theirs.id},
    )
    assert status == 404
    assert (await Interaction.get(id=theirs.id)).state == InteractionState.PLANNED


async def test_pages_read_russian(browser: Browser, admin: User, scenario: Scenario) -> None:
    ivan = await make_user(Role.MANAGER, email="ru@example.com", full_name="Иван", locale="ru")
    deal = await deal_of(ivan)
    await plan_call(deal, ivan, days=-1)
    await Reason.create(kind=ReasonKind.LOSS, text="Дорого")
    second = (await stages(scenario))[1]
    await browser.login(ivan.email)
    english = (
        "Pipeline board", "Move", "Plan an interaction", "Add a note", "Feed", "Save",
        "Loss reason", "In progress", "Planned", "Cancel", "overdue", "No next step",
        "Close the deal", "Won, keep", "Lost, cancel", "All managers", "Plan the next step",
        "The deal moves to", "Call", "Details", "Conversations",
    )  # fmt: skip
    for path in (
        f"/deals/{deal.id}",
        f"/board?scenario={scenario.id}",
        f"/deals/{deal.id}/plan?then_stage={second.id}",
    ):
        status, text = await browser.get(path)
        assert status == 200, path
        body = text[text.index("<main>") :]
        assert [word for word in english if f">{word}" in body or f"{word}<" in body] == [], path
    _, text = await browser.get(f"/deals/{deal.id}")
    assert "Доска сделок" in text and ">Открыта<" in text  # the board in the menu; crm.labels
    assert "Запланировать взаимодействие" in text
    priced = await deal_of(ivan, title="С суммой", amount="81700.50")
    _, text = await browser.get(f"/deals/{priced.id}")
    assert 'name="amount" value="81700,50"' in text  # as a Russian reader types it, not 81700.50


async def test_bad_plans_are_refused_and_plan_nothing(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    deal = await deal_of(manager)
    await as_manager.get(f"/deals/{deal.id}")
    for form, message in (
        ({"kind": "call", "planned_at": "2031-13-01T10:00"}, "A date and time expected"),
        ({"kind": "call", "planned_at": "0001-01-01T00:00"}, "Out of range"),
        ({"kind": "teleport", "planned_at": "2031-01-01T10:00"}, "Unknown kind of interaction"),
        ({"kind": "call", "planned_at": "2031-01-01T10:00", "subject": "x" * 301}, "Too long"),
        ({"kind": "call", "planned_at": "2031-01-01T10:00", "then_stage": "1e3"}, "Not a number"),
    ):
        _, text = await as_manager.post(f"/deals/{deal.id}/plan", form)
        assert message in text, form
        assert as_manager.page == f"/deals/{deal.id}"
    assert not await Interaction.filter(interest_id=deal.id).exists()
    _, text = await as_manager.post(
        f"/deals/{deal.id}/plan", {"kind": "call", "planned_at": "2031-01-01T10:00"}
    )
    assert "Planned" in text
    assert await Interaction.filter(interest_id=deal.id).count() == 1
