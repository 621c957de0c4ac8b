"""Server-side sessions: a copy of the panel's cookie stops working once the session ends
(logout, a new password, deactivation, an admin's "end all sessions")."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import aiohttp
import pytest
import time_machine
from cryptography.fernet import Fernet
from tortoise.context import TortoiseContext

from admin_web.app import session_key
from crm import clock, sessions
from crm.config import Settings
from crm.models import User, WebSession
from tests.admin_web.conftest import Browser, make_user

Copy = Callable[[str], Awaitable[int]]  # GET a path with the copied cookie: its status


def _cookie(browser: Browser) -> str:
    jar = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/"))
    return jar["crmhub_session"].value


@pytest.fixture
async def stolen(browser: Browser) -> AsyncIterator[Callable[[Browser], Copy]]:
    """Another browser holding a copy of a browser's session cookie as it is now."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:

        def copy(of: Browser) -> Copy:
            value = _cookie(of)

            async def get(path: str) -> int:
                async with http.get(
                    of.client.make_url(path),
                    headers={"Cookie": f"crmhub_session={value}", "Accept-Language": "en"},
                    allow_redirects=False,
                ) as resp:
                    return resp.status

            return get

        yield copy


async def test_a_cookie_copied_before_logout_stops_working(
    as_admin: Browser, stolen: Callable[[Browser], Copy]
) -> None:
    copy = stolen(as_admin)
    assert await copy("/settings") == 200
    _status, text = await as_admin.post("/logout")
    assert "You have logged out" in text
    assert await copy("/settings") == 303  # to the login page
    assert not await WebSession.exists()


EDIT = {"full_name": "Ivan Manager", "locale": "en", "timezone": "Europe/Moscow"}


async def test_a_new_password_ends_every_session(
    browser: Browser, admin: User, manager: User, stolen: Callable[[Browser], Copy]
) -> None:
    await browser.login(manager.email)
    copy = stolen(browser)
    assert await copy("/clients") == 200
    await browser.login(admin.email)
    admins_copy = stolen(browser)
    # Other changes leave sessions alone.
    await browser.post(f"/users/{manager.id}", {**EDIT, "role": "manager", "password": ""})
    assert await copy("/clients") == 200
    status, text = await browser.post(
        f"/users/{manager.id}", {**EDIT, "role": "manager", "password": "another secret"}
    )
    assert status == 200 and "Saved" in text
    assert await copy("/clients") == 303
    # An admin's own new password: this browser goes on, every other one asks again.
    status, text = await browser.post(
        f"/users/{admin.id}", {**EDIT, "full_name": "Anna Boss", "password": "my new secret"}
    )
    assert status == 200 and "Saved" in text
    assert await admins_copy("/settings") == 303
    assert (await browser.client.get("/settings", allow_redirects=False)).status == 200
    await browser.post("/logout")
    status, _ = await browser.login(manager.email, "another secret")
    assert status == 200


async def test_deactivation_ends_the_users_sessions(
    browser: Browser, admin: User, manager: User, stolen: Callable[[Browser], Copy]
) -> None:
    await browser.login(manager.email)
    copy = stolen(browser)
    assert await copy("/clients") == 200
    await browser.post("/logout")
    await browser.login(admin.email)
    status, _ = await browser.post(f"/users/{manager.id}/deactivate")
    assert status == 200
    assert await copy("/clients") == 303
    assert not await WebSession.filter(user_id=manager.id).exists()


async def test_an_admin_ends_all_sessions_of_a_user(
    admin: User, manager: User, stolen: Callable[[Browser], Copy], browser: Browser
) -> None:
    await browser.login(manager.email)
    first = stolen(browser)
    await browser.login(manager.email)  # a second login: both sessions live
    second = stolen(browser)
    assert (await first("/clients"), await second("/clients")) == (200, 200)
    await browser.login(admin.email)
    status, text = await browser.get(f"/users/{manager.id}")
    assert "Open sessions: 2" in text and "End all sessions" in text
    # Without the CSRF token the button does nothing.
    resp = await browser.client.post(f"/users/{manager.id}/sessions/end", allow_redirects=False)
    assert resp.status == 403
    assert await second("/clients") == 200
    status, text = await browser.post(f"/users/{manager.id}/sessions/end")
    assert status == 200
    assert "Ivan Manager is logged out everywhere" in text
    assert "Open sessions: 0" in text
    assert (await first("/clients"), await second("/clients")) == (303, 303)
    # The admin's own session goes on.
    assert (await browser.client.get("/settings", allow_redirects=False)).status == 200


async def test_an_admin_ending_their_own_sessions_is_logged_out(
    as_admin: Browser, admin: User, stolen: Callable[[Browser], Copy]
) -> None:
    copy = stolen(as_admin)
    _status, _text = await as_admin.post(f"/users/{admin.id}/sessions/end")
    assert as_admin.page.startswith("/login")
    assert await copy("/settings") == 303


async def test_a_manager_cannot_end_sessions(as_manager: Browser, admin: User) -> None:
    await sessions.start_session(admin)  # the admin logged in elsewhere
    await as_manager.get("/")
    _status, text = await as_manager.post(f"/users/{admin.id}/sessions/end")
    assert "You are not allowed to do this" in text
    assert await WebSession.filter(user_id=admin.id).count() == 1


async def test_a_session_ends_after_fourteen_days(as_admin: Browser) -> None:
    with time_machine.travel(clock.now() + timedelta(days=13, hours=23), tick=False):
        assert (await as_admin.client.get("/settings", allow_redirects=False)).status == 200
    with time_machine.travel(clock.now() + timedelta(days=14, minutes=1), tick=False):
        resp = await as_admin.client.get("/settings", allow_redirects=False)
        assert resp.status == 303
        # the next login deletes the rows of sessions that ended by age
        other = await make_user(email="other@example.com")
        await as_admin.login(other.email)
        assert await WebSession.all().values_list("user_id", flat=True) == [other.id]


async def test_a_cookie_naming_a_user_without_a_session_is_refused(
    db: TortoiseContext, browser: Browser, admin: User, settings: Settings
) -> None:
    """Cookies made before sessions were rows said only which user; one forged with the
    install's key (or kept from then) logs nobody in."""
    fernet = Fernet(base64.urlsafe_b64encode(session_key(settings.secret_key or "")))
    body = json.dumps({"created": int(time.time()), "session": {"uid": admin.id}})
    cookie = fernet.encrypt(body.encode()).decode()
    resp = await browser.client.get(
        "/settings", headers={"Cookie": f"crmhub_session={cookie}"}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
