"""My work in a real browser: a manager opens /work in Russian, sees the overdue call of a
deal whose scenario requires a next step, marks it done with a result and plans the next
step in the same form; the call leaves the overdue list and the meeting shows in the week
ahead. Also on a phone's width."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from crm import clock, deals
from crm.interactions import Plan, plan_interaction
from crm.models import Interaction, InteractionState, Role
from crm.users import create_user
from tests.crm import factories
from tests.e2e.conftest import Shots

PASSWORD = "e2e-password-1"


async def test_my_work_done_with_a_next_step(server: TestServer, chromium: Browser) -> None:
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("my-work-walk")
    manager = await create_user(
        email="ivan@example.com",
        full_name="Иван Петров",
        role=Role.MANAGER,
        password=PASSWORD,
        locale="ru",
        actor=None,
    )
    await factories.scenario(require_next_step=True, allow_past_planning=True)
    client = await factories.client(manager, name="ООО Ромашка", responsible_id=manager.id)
    deal = await deals.create_interest(actor=manager, client_id=client.id, title="Поставка")
    call = await plan_interaction(
        Plan("call", clock.now() - timedelta(hours=2), "Обсудить цену"),
        actor=manager,
        interest_id=deal.id,
    )

    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(base + "/login")
    await page.fill("input[name=email]", manager.email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.goto(base + "/work")
    overdue = page.locator("#work-overdue")
    await expect(overdue).to_contain_text("Обсудить цену")
    await expect(overdue).to_contain_text("ООО Ромашка")
    await shots(page, "my-work")

    item = overdue.locator(f'[data-interaction="{call.id}"]')
    await item.locator("summary").click()
    await expect(item.locator("legend")).to_contain_text("обязателен")
    await item.locator("textarea[name=result]").fill("Согласовали цену")
    await item.locator("select[name=next_kind]").select_option("meeting")
    day_after = (clock.now().astimezone() + timedelta(days=2)).date().isoformat()
    await item.locator("input[name=next_date]").fill(day_after)
    await item.locator("input[name=next_time]").fill("11:30")
    await item.locator("input[name=next_subject]").fill("Подписать договор")
    await shots(page, "done-form")
    await item.locator("button[type=submit].primary").click()

    await expect(page.locator("body")).to_contain_text("Отмечено как выполненное")
    await expect(page.locator("#work-overdue")).not_to_contain_text("Обсудить цену")
    await expect(page.locator("#work-week")).to_contain_text("Подписать договор")
    await shots(page, "after-done")
    assert (await Interaction.get(id=call.id)).state == InteractionState.DONE
    assert await Interaction.filter(
        interest_id=deal.id, state=InteractionState.PLANNED, subject="Подписать договор"
    ).exists()

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # fits a phone without sideways scrolling
    await shots(page, "phone")
    assert problems == []
    await context.close()
