"""My work in the panel: overdue, today's and the week's planned interactions per manager
(a head of sales or an admin sees everyone's, with a manager filter), done with a result
and the next step a scenario requires, moved by an hour or to tomorrow; a manager never
sees or touches another's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crm import deals
from crm.interactions import Plan, plan_interaction
from crm.models import Client, Interaction, InteractionState, Role, User
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories

# Wednesday 10:00 in Moscow (the users' time zone)
NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
SECTION_RE = r'<section class="card work-section" id="work-{}">(.*?)</section>'


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def shown(text: str, section: str) -> list[int]:
    match = re.search(SECTION_RE.format(section), text, re.S)
    assert match, section
    return [int(n) for n in re.findall(r'data-interaction="(\d+)"', match.group(1))]


async def _plan(actor: User, client: Client, at: datetime, subject: str) -> Interaction:
    # planned while the clock stood before `at`, as it was when the plan was made
    with time_machine.travel(min(at, NOW) - timedelta(days=1), tick=False):
        return await plan_interaction(Plan("call", at, subject), actor=actor, client_id=client.id)


async def _worlds(admin: User, manager: User) -> dict[str, Interaction]:
    other = await make_user(Role.MANAGER, email="olga@example.com", full_name="Olga Other")
    mine = await factories.client(admin, name="Мой клиент", responsible_id=manager.id)
    theirs = await factories.client(admin, name="Чужой клиент", responsible_id=other.id)
    return {
        "overdue": await _plan(manager, mine, NOW - timedelta(days=2), "Просрочено"),
        "today": await _plan(manager, mine, NOW + timedelta(hours=3), "Сегодня"),
        "week": await _plan(manager, mine, NOW + timedelta(days=3), "На неделе"),
        "later": await _plan(manager, mine, NOW + timedelta(days=30), "Через месяц"),
        "other": await _plan(other, theirs, NOW - timedelta(hours=1), "Чужое"),
        "other_week": await _plan(other, theirs, NOW + timedelta(days=2), "Чужое на неделе"),
    }


async def test_a_manager_sees_only_their_own_work(
    as_manager: Browser, admin: User, manager: User
) -> None:
    w = await _worlds(admin, manager)
    status, text = await as_manager.get("/work")
    assert status == 200
    assert shown(text, "overdue") == [w["overdue"].id]
    assert shown(text, "today") == [w["today"].id]
    assert shown(text, "week") == [w["week"].id]
    assert "Чужое" not in text and "Чужой клиент" not in text and "Через месяц" not in text
    other = await User.get(email="olga@example.com")
    status, _ = await as_manager.get(f"/work?manager_id={other.id}")
    assert status == 403
    # another's interaction can be neither completed nor moved
    status, text = await as_manager.post(f"/work/{w['other'].id}/done", {"result": "x"})
    assert "Not found" in text
    status, text = await as_manager.post(f"/work/{w['other'].id}/snooze", {"until": "hour"})
    assert "Not found" in text
    stored = await Interaction.get(id=w["other"].id)
    assert stored.state == InteractionState.PLANNED and stored.planned_at == w["other"].planned_at


async def test_a_head_sees_every_manager_and_filters(
    browser: Browser, admin: User, manager: User
) -> None:
    w = await _worlds(admin, manager)
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Helen Head")
    await browser.login(head.email)
    _, text = await browser.get("/work")
    assert shown(text, "overdue") == [w["overdue"].id, w["other"].id]
    assert shown(text, "week") == [w["other_week"].id, w["week"].id]
    assert "Olga Other" in text and "Ivan Manager" in text
    _, text = await browser.get(f"/work?manager_id={manager.id}")
    assert shown(text, "overdue") == [w["overdue"].id]
    assert f'<option value="{manager.id}" selected>' in text
    status, text = await browser.get("/work?manager_id=abc")
    assert status == 422 and "Unknown choice" in text


async def test_done_with_a_result_and_the_required_next_step(
    as_manager: Browser, admin: User, manager: User
) -> None:
    await factories.scenario(require_next_step=True)
    client = await factories.client(admin, name="Сделочный", responsible_id=manager.id)
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        deal = await deals.create_interest(actor=manager, client_id=client.id, title="Поставка")
        call = await plan_interaction(
            Plan("call", NOW - timedelta(hours=2), "Созвон"), actor=manager, interest_id=deal.id
        )
    plain = await _plan(manager, client, NOW + timedelta(hours=1), "Без сделки")
    _, text = await as_manager.get("/work")
    assert "this scenario requires one" in text and "data-needs-next" in text
    # without the next step: refused, nothing changes
    _, text = await as_manager.post(f"/work/{call.id}/done", {"result": "Договорились"})
    assert "Plan the next interaction first" in text
    assert (await Interaction.get(id=call.id)).state == InteractionState.PLANNED
    # a next step in the past or of an unknown kind is refused
    _, text = await as_manager.post(
        f"/work/{call.id}/done", {"result": "x", "next_date": "2026-03-01", "next_time": "10:00"}
    )
    assert "This moment has already passed" in text
    _, text = await as_manager.post(
        f"/work/{call.id}/done", {"next_date": "2026-03-05", "next_kind": "note"}
    )
    assert "Unknown kind of interaction" in text
    _, text = await as_manager.post(
        f"/work/{call.id}/done",
        {
            "result": "Договорились о встрече",
            "next_kind": "meeting",
            "next_date": "2026-03-05",
            "next_time": "11:30",
            "next_subject": "Встреча в офисе",
        },
    )
    assert "Marked done" in text
    done = await Interaction.get(id=call.id)
    assert done.state == InteractionState.DONE and "Договорились о встрече" in done.content
    following = await Interaction.get(interest_id=deal.id, state=InteractionState.PLANNED)
    assert following.subject == "Встреча в офисе"
    assert following.planned_at == datetime(2026, 3, 5, 8, 30, tzinfo=UTC)  # 11:30 Moscow
    assert shown(text, "week") == [following.id]
    # an interaction of no deal: a result is enough
    _, text = await as_manager.post(f"/work/{plain.id}/done", {"result": "Перезвонил"})
    assert (await Interaction.get(id=plain.id)).state == InteractionState.DONE
    assert shown(text, "today") == []


async def test_snooze_an_hour_or_to_tomorrow(
    as_manager: Browser, admin: User, manager: User
) -> None:
    client = await factories.client(admin, name="Клиент", responsible_id=manager.id)
    late = await _plan(manager, client, NOW - timedelta(hours=5), "Опоздал")
    await as_manager.get("/work")
    _, text = await as_manager.post(f"/work/{late.id}/snooze", {"until": "hour"})
    moved = await Interaction.get(id=late.id)
    assert moved.planned_at == NOW + timedelta(hours=1) and moved.reminded_at is None
    assert shown(text, "overdue") == [] and shown(text, "today") == [late.id]
    _, text = await as_manager.post(f"/work/{late.id}/snooze", {"until": "tomorrow"})
    moved = await Interaction.get(id=late.id)
    assert moved.planned_at == NOW + timedelta(days=1, hours=1)  # tomorrow, same time
    assert shown(text, "week") == [late.id]
    _, text = await as_manager.post(f"/work/{late.id}/snooze", {"until": "forever"})
    assert "Unknown choice" in text


async def test_forms_need_the_csrf_token(as_manager: Browser, admin: User, manager: User) -> None:
    client = await factories.client(admin, name="Клиент", responsible_id=manager.id)
    item = await _plan(manager, client, NOW + timedelta(hours=2), "Звонок")
    _, text = await as_manager.get("/work")
    assert text.count('name="_csrf"') >= 2
    for action, data in (("done", {"result": "x"}), ("snooze", {"until": "hour"})):
        status, _ = await as_manager.post(f"/work/{item.id}/{action}", data, csrf=False)
        assert status == 403
    assert (await Interaction.get(id=item.id)).state == InteractionState.PLANNED


async def test_russian_page(browser: Browser, db: object) -> None:
    boss = await make_user(Role.ADMIN, email="ru@example.com", locale="ru")
    client = await factories.client(boss, name="Клиент", responsible_id=boss.id)
    await _plan(boss, client, NOW - timedelta(hours=2), "Звонок")
    await browser.login(boss.email)
    _, text = await browser.get("/work")
    for words in ("Мои дела", "Просрочено", "Сегодня", "Неделя вперёд", "Выполнено", "+1 час"):
        assert words in text, words
    for english in ("My work", "The week ahead", "Mark done", "Next step", "every manager"):
        assert english not in text, english
