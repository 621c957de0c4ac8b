"""The login lock-out: the same rules kept in memory or in Redis; with Redis the count is
shared by every web process and kept across a restart, and a Redis that stops answering
refuses logins rather than lets them through uncounted.

The Redis tests run against a real server: CRMHUB_TEST_REDIS_URL (CI sets it; then an
unreachable server fails the test), else redis://127.0.0.1:6379/15, skipped when nothing
answers there. Each test keeps its keys under a prefix of its own."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from admin_web.auth import LOGIN_RULES
from admin_web.forwarded import client_address
from admin_web.keys import LIMITER
from admin_web.login_limit import (
    LoginLimiter,
    MemoryLoginLimiter,
    RedisLoginLimiter,
    login_limiter,
)
from crm import clock
from crm.config import Settings, load_settings
from crm.errors import ValidationFailed
from crm.models import User
from tests.admin_web.conftest import CSRF_RE, PASSWORD, Browser

REDIS_URL = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOCKED = "Too many failed attempts. Try again in 15 min."
NOBODY = "nobody@example.com"

Limiters = Callable[[], LoginLimiter]  # another web process's limiter, same Redis keys


@asynccontextmanager
async def redis_limiters() -> AsyncIterator[Limiters]:
    """Makes limiters as separate web processes would: each its own Redis connection,
    sharing one prefix (removed afterwards)."""
    probe = Redis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except (RedisConnectionError, OSError):
        await probe.aclose()
        if "CRMHUB_TEST_REDIS_URL" in os.environ:
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"crmhub-login-test-{secrets.token_hex(4)}"
    made: list[RedisLoginLimiter] = []

    def limiter() -> LoginLimiter:
        made.append(RedisLoginLimiter(Redis.from_url(REDIS_URL), prefix=prefix, rules=LOGIN_RULES))
        return made[-1]

    try:
        yield limiter
    finally:
        keys = [key async for key in probe.scan_iter(f"{prefix}:*")]
        if keys:
            await probe.delete(*keys)
        await probe.aclose()
        for one in made:
            await one.close()


@pytest.fixture
async def shared() -> AsyncIterator[Limiters]:
    async with redis_limiters() as limiters:
        yield limiters


@pytest.fixture(params=["memory", "redis"])
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[Limiters]:
    """Both homes of the count (in memory "another process" is the same one), with the
    clock stopped."""
    with time_machine.travel(clock.now(), tick=False):
        if request.param == "memory":
            only = MemoryLoginLimiter(rules=LOGIN_RULES)
            yield lambda: only
            return
        async with redis_limiters() as made:
            yield made


@pytest.fixture
async def web_process(
    db: TortoiseContext, settings: Settings
) -> AsyncIterator[Callable[[LoginLimiter], Awaitable[Browser]]]:
    """Starts a web app (a web process) with the given limiter; a browser on it."""
    async with AsyncExitStack() as stack:

        async def start(limiter: LoginLimiter) -> Browser:
            app = create_app(settings, limiter=limiter)
            client = TestClient(TestServer(app), headers={"Accept-Language": "en"})
            await stack.enter_async_context(client)
            return Browser(client)

        yield start


# --- the rules, in memory and in Redis --------------------------------------------------------


async def test_five_failures_within_the_window_lock_the_key(limiters: Limiters) -> None:
    first, second = limiters(), limiters()
    for limiter in (first, second, first, second):
        await limiter.failed("email:a@example.com")
    assert await first.locked_for("email:a@example.com") is None
    await second.failed("email:a@example.com")
    for limiter in (first, second):
        locked = await limiter.locked_for("email:b@example.com", "email:a@example.com")
        assert locked == timedelta(minutes=15)
    assert await first.locked_for("email:b@example.com") is None
    with time_machine.travel(clock.now() + timedelta(minutes=15, seconds=1), tick=False):
        assert await second.locked_for("email:a@example.com") is None


async def test_failures_older_than_the_window_do_not_count(limiters: Limiters) -> None:
    limiter = limiters()
    start = clock.now()
    for minutes in (0, 1, 2, 3):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            await limiter.failed("ip:10.0.0.1")
    with time_machine.travel(start + timedelta(minutes=15, seconds=30), tick=False):
        await limiter.failed("ip:10.0.0.1")  # the one at minute 0 has left the window
        assert await limiter.locked_for("ip:10.0.0.1") is None
        await limiter.failed("ip:10.0.0.1")
        assert await limiter.locked_for("ip:10.0.0.1") == timedelta(minutes=15)


async def test_the_longest_lock_counts_and_a_success_forgets(limiters: Limiters) -> None:
    limiter = limiters()
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            await limiter.failed("ip:10.0.0.1")
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        for _ in range(5):
            await limiter.failed("email:a@example.com")
        locked = await limiter.locked_for("ip:10.0.0.1", "email:a@example.com")
        assert locked == timedelta(minutes=15)
        await limiter.succeeded("email:a@example.com")
        assert await limiter.locked_for("ip:10.0.0.1", "email:a@example.com") == timedelta(
            minutes=10
        )


# --- shared through Redis ---------------------------------------------------------------------


async def test_concurrent_failures_on_two_processes_are_all_counted(shared: Limiters) -> None:
    first, second = shared(), shared()
    with time_machine.travel(clock.now(), tick=False):
        await asyncio.gather(
            *(limiter.failed("email:a@example.com") for limiter in [first, second] * 2)
        )
        assert await first.locked_for("email:a@example.com") is None
        await second.failed("email:a@example.com")
        assert await first.locked_for("email:a@example.com") == timedelta(minutes=15)


async def test_two_web_processes_share_the_count(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]], shared: Limiters, admin: User
) -> None:
    one, two = await web_process(shared()), await web_process(shared())
    for browser in (one, two, one, two, one):
        status, _ = await browser.login(admin.email, "guess")
        assert status == 401
    for browser in (one, two):
        status, text = await browser.login(admin.email)  # even the right password
        assert status == 429 and LOCKED in text


async def test_the_address_is_locked_across_many_emails_and_processes(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]], shared: Limiters, admin: User
) -> None:
    """Fifty failures from one address, each at another email, lock the address: every
    account, from there, on every process."""
    one, two = await web_process(shared()), await web_process(shared())
    for n in range(49):
        status, _ = await (one, two)[n % 2].login(f"guess{n}@example.com", "guess")
        assert status == 401
    status, _ = await two.login(admin.email)
    assert status == 200
    status, _ = await one.login("guess49@example.com", "guess")
    assert status == 401
    status, text = await two.login(admin.email)
    assert status == 429 and LOCKED in text


async def test_a_restarted_process_keeps_the_lock_until_it_ends(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]], shared: Limiters, admin: User
) -> None:
    before = await web_process(shared())
    for _ in range(5):
        await before.login(admin.email, "guess")
    await before.client.close()
    after = await web_process(shared())
    status, text = await after.login(admin.email)
    assert status == 429 and LOCKED in text
    with time_machine.travel(clock.now() + timedelta(minutes=16), tick=False):
        status, _ = await after.login(admin.email)
        assert status == 200


async def test_the_lock_does_not_tell_whether_an_account_exists(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]], shared: Limiters, admin: User
) -> None:
    """A locked email answers the same whether an account has it or not (each tried from
    a fresh count), and Redis's key names do not carry the email."""
    answers = []
    for email in (admin.email, NOBODY):
        limiter = shared()
        browser = await web_process(limiter)
        for _ in range(5):
            status, text = await browser.login(email, "guess")
            answers.append((status, _page(text, email)))
        status, text = await browser.login(email, "correct horse battery")
        answers.append((status, _page(text, email)))
        assert isinstance(limiter, RedisLoginLimiter)
        names = [key async for key in limiter.redis.scan_iter(f"{limiter.prefix}:*")]
        assert names and not any(b"example" in name or b"127.0" in name for name in names)
        await limiter.succeeded(f"pair:127.0.0.1 {email}", f"account:{email}", "address:127.0.0.1")
    assert answers[:6] == answers[6:]
    assert answers[5][0] == 429 and LOCKED in answers[5][1]


def _page(text: str, email: str) -> str:
    """The page without what differs by design: the email typed, the session's token."""
    return CSRF_RE.sub("CSRF", text.replace(email, "EMAIL"))


async def test_redis_lost_after_start_refuses_logins(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]],
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing is let through uncounted: the login page says to try again later."""
    limiter = RedisLoginLimiter(Redis.from_url("redis://127.0.0.1:1/0"))
    monkeypatch.setattr(limiter, "check", MemoryLoginLimiter().check)  # it did answer then
    browser = await web_process(limiter)
    status, text = await browser.login(admin.email)
    assert status == 503
    assert "Logging in is not possible right now. Try again in a minute." in text
    assert await User.filter(id=admin.id).exists()


async def test_an_unreachable_redis_stops_the_web_app_at_start(
    db: TortoiseContext, tmp_path: Path
) -> None:
    settings = Settings(
        secret_key="s" * 48,
        data_dir=tmp_path / "data",
        redis_url="redis://:hunter2@127.0.0.1:1/0",
    )
    app = create_app(settings)
    assert isinstance(app[LIMITER], RedisLoginLimiter)
    runner = web.AppRunner(app)
    with pytest.raises(SystemExit) as exc:
        await runner.setup()
    assert "CRMHUB_REDIS_URL: no Redis answers at 127.0.0.1:1" in str(exc.value)
    assert "hunter2" not in str(exc.value)
    await runner.cleanup()


def test_without_redis_the_count_stays_in_the_process() -> None:
    assert isinstance(login_limiter(None), MemoryLoginLimiter)
    assert isinstance(login_limiter("redis://127.0.0.1:6379/0"), RedisLoginLimiter)


# --- the kinds of key: a pair, an account, an address ----------------------------------------


async def test_each_kind_of_key_has_its_own_limits(limiters: Limiters) -> None:
    """An (address, account) pair locks at 5, an account from anywhere at 10, an address
    across accounts at 50."""
    limiter = limiters()
    for _ in range(5):
        await limiter.failed("pair:10.0.0.1 a@x.ru", "account:a@x.ru", "address:10.0.0.1")
    assert await limiter.locked_for("pair:10.0.0.1 a@x.ru") == timedelta(minutes=15)
    assert await limiter.locked_for("account:a@x.ru", "address:10.0.0.1") is None
    for n in range(5):
        await limiter.failed(f"pair:10.0.0.{n + 2} a@x.ru", "account:a@x.ru")
    assert await limiter.locked_for("account:a@x.ru") == timedelta(minutes=15)
    for _ in range(44):
        await limiter.failed("address:10.0.0.1")
    assert await limiter.locked_for("address:10.0.0.1") is None
    await limiter.failed("address:10.0.0.1")
    assert await limiter.locked_for("address:10.0.0.1") == timedelta(minutes=15)


async def test_one_persons_typos_do_not_lock_out_the_office(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]],
    limiters: Limiters,
    admin: User,
    manager: User,
) -> None:
    """Everyone logs in from one address (an office's NAT): five typos lock that account
    from there, not a colleague's."""
    browser = await web_process(limiters())
    for _ in range(5):
        status, _ = await browser.login(manager.email, "typo")
        assert status == 401
    status, text = await browser.login(manager.email)
    assert status == 429 and LOCKED in text
    status, _ = await browser.login(admin.email)
    assert status == 200


async def _login_from(browser: Browser, forwarded: str, email: str, password: str) -> int:
    await browser.get("/login")
    status, _ = await browser.post(
        "/login",
        {"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded},
    )
    return status


async def test_an_untrusted_peers_forwarded_for_is_not_believed(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]], limiters: Limiters, admin: User
) -> None:
    browser = await web_process(limiters())
    for n in range(5):
        assert await _login_from(browser, f"203.0.113.{n}", admin.email, "guess") == 401
    assert await _login_from(browser, "198.51.100.7", admin.email, PASSWORD) == 429


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    web_process: Callable[[LoginLimiter], Awaitable[Browser]],
    limiters: Limiters,
    settings: Settings,
    admin: User,
    manager: User,
) -> None:
    """CRMHUB_TRUSTED_PROXIES names the proxy: the address it forwards for is the client's.
    Guesses at one account from ten addresses lock the account everywhere; a colleague at
    one of those addresses still logs in."""
    settings.trusted_proxies = "127.0.0.1"
    browser = await web_process(limiters())
    for n in range(5):  # a client's own header lies left of what the proxy appended
        status = await _login_from(browser, f"192.0.2.1, 203.0.113.{n}", admin.email, "guess")
        assert status == 401
    assert await _login_from(browser, "203.0.113.9", admin.email, PASSWORD) == 200
    await browser.post("/logout")
    for n in range(10):
        assert await _login_from(browser, f"203.0.113.{n}", admin.email, "guess") == 401
    assert await _login_from(browser, "198.51.100.7", admin.email, PASSWORD) == 429
    assert await _login_from(browser, "203.0.113.3", manager.email, PASSWORD) == 200


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.1", "203.0.113.5", "198.51.100.1"),  # not a trusted proxy
        ("127.0.0.1", "", "127.0.0.1"),  # a trusted proxy forwarding for nobody
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client wrote 6.6.6.6
        ("127.0.0.1", "203.0.113.5, 10.1.2.3", "203.0.113.5"),  # two proxies
        ("127.0.0.1", "10.0.0.9, 10.1.2.3", "10.0.0.9"),  # trusted all the way
        ("127.0.0.1", "203.0.113.5:51234", "203.0.113.5"),
        ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("::1", "2001:db8::2", "2001:db8::2"),
    ],
)
def test_the_client_address_behind_trusted_proxies(peer: str, forwarded: str, client: str) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/login", headers=headers, transport=_Transport(peer))
    trusted = Settings(trusted_proxies="127.0.0.1, ::1,10.0.0.0/8").trusted_networks()
    assert client_address(request, trusted) == client


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMHUB_TRUSTED_PROXIES", "127.0.0.1,proxy.local")
    with pytest.raises(ValidationFailed) as refused:
        load_settings()
    assert list(refused.value.field_messages("en")) == ["CRMHUB_TRUSTED_PROXIES"]
    assert Settings(trusted_proxies="").trusted_networks() == ()
