"""The panel under aiohttp's test client: an app on the test database, a browser-like
client that keeps cookies and sends the CSRF token, and logged-in admins and managers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from crm.config import Settings
from crm.models import Company, Role, User
from crm.users import create_user

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


class Browser:
    """A test client that behaves like a browser on the panel: cookies, CSRF, redirects."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.token = ""
        self.page = "/"

    @property
    def app(self) -> web.Application:
        return self.client.app  # type: ignore[return-value]

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        resp = await self.client.get(path, **kw)
        self.page = resp.url.path_qs
        text = await resp.text()
        if match := CSRF_RE.search(text):
            self.token = match.group(1)
        return resp.status, text

    async def csrf(self) -> str:
        if not self.token:
            await self.get("/login")
        return self.token

    async def post(
        self,
        path: str,
        data: dict[str, Any] | list[tuple[str, Any]] | None = None,
        *,
        csrf: bool = True,
        follow: bool = True,
        **kw: Any,
    ) -> tuple[int, str]:
        """POST a form (with the session's CSRF token unless `csrf=False`); follows the
        redirect like a browser, so the text is the page shown next."""
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            items.append(("_csrf", await self.csrf()))
        if not any(key == "_back" for key, _ in items):
            items.append(("_back", self.page))  # as the page's form would
        resp = await self.client.post(path, data=items, allow_redirects=follow, **kw)
        if resp.method == "GET":
            self.page = resp.url.path_qs
        text = await resp.text()
        if match := CSRF_RE.search(text):
            self.token = match.group(1)
        return resp.status, text

    async def post_raw(self, path: str, **kw: Any) -> Any:
        return await self.client.post(path, allow_redirects=False, **kw)

    async def login(self, email: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/login")
        return await self.post("/login", {"email": email, "password": password})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(secret_key="s" * 48, data_dir=tmp_path / "data")


@pytest.fixture
async def app(db: TortoiseContext, settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def browser(app: web.Application) -> AsyncIterator[Browser]:
    async with TestClient(TestServer(app), headers={"Accept-Language": "en"}) as client:
        yield Browser(client)


async def make_user(role: Role = Role.ADMIN, **kw: Any) -> User:
    n = len(await User.all()) + 1
    kw.setdefault("email", f"{role.value}{n}@example.com")
    kw.setdefault("full_name", f"{role.value.title()} {n}")
    kw.setdefault("locale", "en")
    return await create_user(role=role, password=PASSWORD, actor=None, **kw)


@pytest.fixture
async def admin(db: TortoiseContext) -> User:
    """The admin of an install set up by onboarding (its company given: logging in leads to
    Settings, not to the company step of an install made by `crmhub createadmin`)."""
    user = await make_user(Role.ADMIN, email="boss@example.com", full_name="Anna Boss")
    await Company.update_or_create(id=1, defaults={"onboarded": True})
    return user


@pytest.fixture
async def manager(db: TortoiseContext, admin: User) -> User:
    return await make_user(Role.MANAGER, email="ivan@example.com", full_name="Ivan Manager")


@pytest.fixture
async def as_admin(browser: Browser, admin: User) -> Browser:
    status, _ = await browser.login(admin.email)
    assert status == 200
    return browser


@pytest.fixture
async def as_manager(browser: Browser, manager: User) -> Browser:
    status, _ = await browser.login(manager.email)
    assert status == 200
    return browser


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: the tests log in often; production keeps the defaults."""
    from argon2 import PasswordHasher

    from crm import users

    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
