"""The panel in Russian: a deal is "сделка" (never 1C's "интерес"), and no raw English."""

from __future__ import annotations

from crm import deals
from crm.models import Role
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


async def test_deals_are_sdelki_with_plural_filters(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    await factories.scenario()
    client = await factories.client(admin, name="ООО Ромашка")
    await deals.create_interest(actor=admin, client_id=client.id, title="Диван в офис")
    await browser.login(admin.email)

    status, page = await browser.get("/deals")
    assert status == 200
    assert "<h1>Сделки</h1>" in page
    for tab in ("Открытые", "Выигранные", "Проигранные", "Все"):
        assert f">{tab}</a>" in page
    assert ">Открыть</a>" not in page  # "to open" is a button's word, not a filter's
    status, card = await browser.get(f"/clients/{client.id}")
    assert status == 200
    assert "<h2>Сделки</h2>" in card
    for text in (page, card):
        assert "нтерес" not in text
