"""The managers' plans page: admins and heads set a month's plans, managers may not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crm.models import ManagerPlan, Role, User
from tests.admin_web.conftest import Browser, make_user


async def test_head_sets_the_months_plans(browser: Browser, admin: User, manager: User) -> None:
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Helen Head")
    await browser.login(head.email)
    status, text = await browser.get("/plans?month=2026-03")
    assert status == 200 and "Ivan Manager" in text and 'href="/plans"' in text
    _, text = await browser.post(
        "/plans",
        {
            "month": "2026-03",
            f"amount-{manager.id}": "150 000,50",
            f"wins-{manager.id}": "4",
            f"amount-{head.id}": "",
            f"wins-{head.id}": "",
        },
    )
    assert "Plans saved" in text
    plan = await ManagerPlan.get(user_id=manager.id)
    assert (plan.month, plan.amount, plan.wins) == (date(2026, 3, 1), Decimal("150000.50"), 4)
    assert 'value="150000.50"' in text
    assert not await ManagerPlan.filter(user_id=head.id).exists()
    _, text = await browser.post(
        "/plans", {"month": "2026-03", f"amount-{manager.id}": "a lot", f"wins-{manager.id}": "-2"}
    )
    assert f'id="err-amount-{manager.id}"' in text and f'id="err-wins-{manager.id}"' in text
    assert (await ManagerPlan.get(user_id=manager.id)).wins == 4  # nothing written


async def test_managers_cannot_set_plans(as_manager: Browser, manager: User) -> None:
    status, _ = await as_manager.get("/plans")
    assert status == 403
    _, text = await as_manager.post("/plans", {"month": "2026-03", f"wins-{manager.id}": "99"})
    assert "You are not allowed to do this" in text
    assert not await ManagerPlan.exists()
