"""A new user's first hour in the panel: an over-long value is refused with its limit (never
cut), inputs carry the models' `maxlength`, and overdue planned interactions are marked on
the client card, in the client list and in the deals list."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from crm import clock, deals
from crm.interactions import Plan, plan_interaction
from crm.models import Client, User
from tests.admin_web.conftest import Browser
from tests.crm import factories


async def test_a_10000_character_name_is_refused_with_its_limit(as_admin: Browser) -> None:
    _status, text = await as_admin.get("/clients/new")
    assert re.search(r'name="name"[^>]*maxlength="300"', text)
    assert re.search(r'name="legal_name"[^>]*maxlength="500"', text)
    long_name = {"kind": "individual", "name": "Я" * 10_000}
    _status, text = await as_admin.post("/clients/new", long_name)
    assert "Too long: at most 300 characters" in text
    assert not await Client.exists()
    client = await factories.client(await User.get(), name="Анна")
    _status, text = await as_admin.post(
        f"/clients/{client.id}", {"kind": "individual", "name": "x" * 301, "relation_type": "buyer"}
    )
    assert "at most 300 characters" in text
    assert (await Client.get(id=client.id)).name == "Анна"
    _status, text = await as_admin.get(f"/clients/{client.id}")
    assert re.search(r'name="role"[^>]*maxlength="100"', text)


async def test_overdue_planned_interactions_are_marked(as_manager: Browser, manager: User) -> None:
    await factories.scenario()
    late = await factories.client(manager, name="Опоздавший")
    fine = await factories.client(manager, name="Вовремя")
    late_deal = await deals.create_interest(actor=manager, client_id=late.id, title="Поставка")
    fine_deal = await deals.create_interest(actor=manager, client_id=fine.id, title="Монтаж")
    soon = clock.now() + timedelta(hours=2)
    await plan_interaction(
        Plan("call", soon, subject="Позвонить"), actor=manager, interest_id=late_deal.id
    )
    await plan_interaction(
        Plan("call", soon + timedelta(days=3), subject="Замер"),
        actor=manager,
        interest_id=fine_deal.id,
    )
    _status, text = await as_manager.get(f"/clients/{late.id}")
    assert "data-overdue" not in text
    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        _status, text = await as_manager.get(f"/clients/{late.id}")
        feed = text.split('id="feed"')[1].split("</section>")[0]
        assert "data-overdue" in feed and "Overdue" in feed
        _status, text = await as_manager.get(f"/clients/{fine.id}")
        assert "data-overdue" not in text
        _status, text = await as_manager.get("/deals")
        rows = {row.split("</td>")[0]: row for row in text.split("<tr")[1:]}
        (late_row,) = [r for r in rows.values() if "Поставка" in r]
        (fine_row,) = [r for r in rows.values() if "Монтаж" in r]
        assert "data-overdue" in late_row and "data-overdue" not in fine_row
        _status, text = await as_manager.get("/clients")
        late_cell = text.split("Опоздавший</a>")[1].split("</td>")[0]
        fine_cell = text.split("Вовремя</a>")[1].split("</td>")[0]
        assert "data-overdue" in late_cell and "data-overdue" not in fine_cell


# Text inputs of POST forms that hold a list or a value checked another way, not one column.
NO_COLUMN = {
    "phones",  # comma-separated: each one normalized
    "emails",
    "tags",
    "timezone",  # an IANA name from a list
    "default_timezone",
    "inn",  # digits checked by their checksum (a form may type spaces)
    "kpp",
    "imap_port",
    "smtp_port",
    "group_id",
}


async def test_every_text_input_of_the_panel_forms_has_a_maxlength(
    as_admin: Browser, admin: User
) -> None:
    await factories.scenario()
    client = await factories.client(admin)
    await factories.manager()
    scenario_id = (await factories.scenario(name="Второй")).id
    pages = [
        "/clients/new",
        f"/clients/{client.id}",
        "/tags",
        "/reasons",
        "/fields",
        "/scenarios",
        f"/scenarios/{scenario_id}",
        "/settings",
        "/users",
        f"/users/{admin.id}",
        "/api-keys",
        "/channels/new/telegram",
        "/channels/new/vk",
        "/channels/new/viber",
        "/channels/new/email",
    ]
    missing = []
    for page in pages:
        status, text = await as_admin.get(page)
        assert status == 200, page
        for form in re.findall(r'<form[^>]*method="post".*?</form>', text, re.S):
            for tag in re.findall(r"<input\b[^>]*>", form):
                kind = re.search(r'type="([^"]+)"', tag)
                if kind and kind.group(1) not in ("text", "email", "tel"):
                    continue
                name = re.search(r'name="([^"]+)"', tag)
                if name and name.group(1) in NO_COLUMN:
                    continue
                if "maxlength=" not in tag:
                    missing.append((page, tag))
    assert not missing, missing
