"""A manager's pipeline in a real browser (Russian): drag a card on the board to the next
stage, plan the next step the scenario asks for and see the deal moved; drag a card that
has one and see it move at once; drag a deal closed meanwhile and see it refused and put
back; rename a deal and give it an amount in place on its page; the board on a phone
scrolls inside its columns, not the page."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from crm import clock, deals, interactions
from crm.interactions import Plan
from crm.models import Interaction, Interest, InterestStatus, Role, Stage
from crm.users import create_user
from tests.crm import factories
from tests.e2e.conftest import Shots

PASSWORD = "e2e-password-1"


async def login(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("input[name=email]")).to_have_count(0)


async def test_board_drag_and_drop_and_the_deal_page(server: TestServer, chromium: Browser) -> None:
    await create_user(
        email="admin@example.com", full_name="Анна", role=Role.ADMIN, actor=None, locale="ru"
    )
    manager = await create_user(
        email="ivan@example.com",
        full_name="Иван",
        role=Role.MANAGER,
        actor=None,
        locale="ru",
        password=PASSWORD,
    )
    scenario = await factories.scenario(is_default=True, require_next_step=True)
    first, second, third = await Stage.filter(scenario_id=scenario.id).order_by("position")
    fresh = await deals.create_interest(
        actor=manager,
        client_id=(await factories.client(manager, name="ООО Новые")).id,
        title="Без плана",
    )
    planned = await deals.create_interest(
        actor=manager,
        client_id=(await factories.client(manager, name="ООО Плановые")).id,
        title="С планом",
        amount="1500",
    )
    await interactions.plan_interaction(
        Plan(kind="call", planned_at=clock.now() - timedelta(hours=3), subject="Позвонить"),
        actor=manager,
        interest_id=planned.id,
    )
    doomed = await deals.create_interest(
        actor=manager,
        client_id=(await factories.client(manager, name="ООО Закрытые")).id,
        title="Закроют",
    )

    base = str(server.make_url("")).rstrip("/")
    shots = Shots("deal-board")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await login(page, base, manager.email)

    await page.goto(f"{base}/board?scenario={scenario.id}")
    await expect(page.locator("h1")).to_have_text("Доска сделок")
    col = page.locator(f'[data-stage="{first.id}"]')
    await expect(col.locator("[data-count]")).to_have_text("3")
    overdue = page.locator(f'[data-card="{planned.id}"] [data-next-step]')
    await expect(overdue).to_have_class("small overdue")
    await shots(page, "board")

    # a card without a planned step: the drop opens the plan form; saving moves the deal
    await page.locator(f'[data-card="{fresh.id}"]').drag_to(
        page.locator(f'[data-stage="{second.id}"]')
    )
    await expect(page.locator("#next-step")).to_be_visible()
    await expect(page.locator("#then-stage")).to_contain_text(second.name)
    await shots(page, "next-step-form")
    assert (await Interest.get(id=fresh.id)).stage_id == first.id  # type: ignore[attr-defined]
    await page.fill("input[name=planned_at]", "2031-03-02T11:30")
    await page.fill("input[name=subject]", "Отправить КП")
    await page.click("#next-step button[type=submit]")
    await expect(
        page.locator(f'[data-stage="{second.id}"] [data-card="{fresh.id}"]')
    ).to_be_visible()
    assert (await Interest.get(id=fresh.id)).stage_id == second.id  # type: ignore[attr-defined]
    assert await Interaction.filter(interest_id=fresh.id, subject="Отправить КП").exists()

    # a card with a plan moves at once
    await page.locator(f'[data-card="{planned.id}"]').drag_to(
        page.locator(f'[data-stage="{third.id}"]')
    )
    await expect(
        page.locator(f'[data-stage="{third.id}"] [data-card="{planned.id}"]')
    ).to_be_visible()
    await expect(page.locator(f'[data-stage="{third.id}"] [data-count]')).to_have_text("1")
    assert (await Interest.get(id=planned.id)).stage_id == third.id  # type: ignore[attr-defined]

    # closed in the meantime (in the bot, say): the drop is refused, the card goes back
    await deals.win(doomed.id, actor=manager)
    await page.locator(f'[data-card="{doomed.id}"]').drag_to(
        page.locator(f'[data-stage="{third.id}"]')
    )
    await expect(page.locator("#board-status")).to_be_visible()
    await expect(page.locator("#board-status")).not_to_be_empty()
    await expect(
        page.locator(f'[data-stage="{first.id}"] [data-card="{doomed.id}"]')
    ).to_be_visible()
    await shots(page, "refused")
    assert (await Interest.get(id=doomed.id)).status == InterestStatus.WON

    # the keyboard way: the card's own stage select and Move button
    await page.goto(f"{base}/board?scenario={scenario.id}")
    card = page.locator(f'[data-card="{planned.id}"]')
    await card.locator("select[name=stage_id]").select_option(str(second.id))
    await card.locator("button[type=submit]").focus()
    await page.keyboard.press("Enter")
    await expect(
        page.locator(f'[data-stage="{second.id}"] [data-card="{planned.id}"]')
    ).to_be_visible()

    # the deal page: title and amount in place
    await page.click(f'[data-card="{fresh.id}"] a.board-title')
    await expect(page.locator("#deal-stage")).to_have_text(second.name)
    await page.fill("#edit-title input[name=title]", "Бумага A4, 200 пачек")
    await page.click("#edit-title button[type=submit]")
    await expect(page.locator("#edit-title input[name=title]")).to_have_value(
        "Бумага A4, 200 пачек"
    )
    await page.fill("#edit-amount input[name=amount]", "81 700,50")
    await page.click("#edit-amount button[type=submit]")
    await expect(page.locator("#deal-amount")).to_contain_text("81")
    await expect(page.locator("#deal-amount")).to_contain_text("700,50")
    await page.fill("#edit-amount input[name=amount]", "много")
    await page.click("#edit-amount button[type=submit]")
    await expect(page.locator(".flash-error")).to_be_visible()
    await shots(page, "deal-page")
    again = await Interest.get(id=fresh.id)
    assert again.title == "Бумага A4, 200 пачек" and str(again.amount) == "81700.50"
    assert errors == []

    # on a phone: the columns scroll inside their container, the page does not
    phone = await chromium.new_context(viewport={"width": 360, "height": 740})
    small = await phone.new_page()
    await login(small, base, manager.email)
    for path in (f"/board?scenario={scenario.id}", f"/deals/{fresh.id}"):
        await small.goto(base + path)
        width = await small.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    scroller = small.locator(".board-scroll")
    await small.goto(f"{base}/board?scenario={scenario.id}")
    assert await scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    await shots(small, "board-phone")
    await phone.close()
    await context.close()
