"""The head of sales in the panel: every client is listed, the admin pages are refused,
and the user form offers the role."""

from __future__ import annotations

from crm import clients
from crm.models import Role, User
from tests.admin_web.conftest import Browser, make_user


async def test_head_sees_all_clients_but_no_admin_pages(
    browser: Browser, admin: User, manager: User
) -> None:
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Helen Head")
    await clients.create_client(actor=manager, name="Ivan's client")
    status, _ = await browser.login(head.email)
    assert status == 200
    status, text = await browser.get("/clients")
    assert status == 200 and "Ivan&#39;s client" in text
    for page in ("/settings", "/users", "/channels", "/api-keys", "/fields", "/scenarios"):
        status, _ = await browser.get(page)
        assert status == 403, page
    _, text = await browser.post("/settings", {"name": "Taken over"})
    assert "You are not allowed to do this" in text


async def test_user_form_offers_the_head_role(as_admin: Browser) -> None:
    _, text = await as_admin.get("/users")
    assert '<option value="head">Head of sales</option>' in text
    await as_admin.post(
        "/users",
        {"full_name": "Helen", "email": "helen@example.com", "role": "head", "locale": "en"},
    )
    assert (await User.get(email="helen@example.com")).role == Role.HEAD
