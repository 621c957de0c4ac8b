"""With CRMHUB_REDIS_URL the bot keeps what a manager is in the middle of in Redis: a note
half-typed before a restart is saved by the bot that comes back (and by any webhook
process); without it, state lives in the process's memory.

Runs against a real Redis: CRMHUB_TEST_REDIS_URL (CI sets it; then an unreachable server
fails the test), else redis://127.0.0.1:6379/15, skipped when nothing answers there."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app import build_dispatcher, check_storage, create_bot, fsm_storage
from bot.callbacks import Signer
from bot.middleware import BoundUsers
from bot.notify import Notifier
from crm import deals
from crm.config import Settings
from crm.models import Interaction, InteractionKind, Scenario
from tests.bot.conftest import MANAGER_TOKEN, SECRET_KEY, BotHarness, Clock, bound_manager
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI

ANNA = 690001
REDIS_URL = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        if "CRMHUB_TEST_REDIS_URL" in os.environ:
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield REDIS_URL
    keys = [key async for key in client.scan_iter("crmhub-bot:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def started_bot(api: TelegramAPI, storage: object) -> BotHarness:
    """One bot process: its own Bot, dispatcher and caches, the given FSM storage."""
    bot = create_bot(MANAGER_TOKEN, api.base_url)
    signer = Signer(SECRET_KEY)
    notifier = Notifier(bot, signer)
    clock = Clock()
    dp, _ = build_dispatcher(
        signer=signer,
        notifier=notifier,
        wake_outbox=lambda: None,
        storage=storage,  # type: ignore[arg-type]
        bound_users=BoundUsers(clock=clock),
    )
    return BotHarness(api, bot, dp, notifier, signer, clock=clock)


async def test_a_note_typed_across_a_restart_is_saved(
    db: object, manager_api: TelegramAPI, redis_url: str
) -> None:
    await factories.scenario("Sales", ("Lead", "Offer"), require_next_step=False)
    anna = await bound_manager(ANNA)
    client = await factories.client(anna, name="Romashka LLC")
    interest = await deals.create_interest(actor=anna, client_id=client.id, title="Sofa")

    first = started_bot(manager_api, fsm_storage(redis_url))
    assert isinstance(first.dp.storage, RedisStorage)
    await first.send(ANNA, "/deals")
    await first.press(ANNA, first.last_to(ANNA), "Sofa")
    await first.press(ANNA, first.last_to(ANNA), "Note")
    assert "Send the note" in first.last_to(ANNA)["text"]
    await first.dp.storage.close()
    await first.bot.session.close()

    second = started_bot(manager_api, fsm_storage(redis_url))  # the bot after a restart
    try:
        await second.send(ANNA, "Called: they want a blue one")
        assert "Note saved." in second.last_to(ANNA)["text"]
    finally:
        await second.dp.storage.close()
        await second.bot.session.close()
    note = await Interaction.get(interest_id=interest.id, kind=InteractionKind.NOTE)
    assert note.content == "Called: they want a blue one"


async def test_without_redis_state_is_kept_in_memory(db: object, sales: Scenario) -> None:
    assert isinstance(fsm_storage(None), MemoryStorage)
    assert isinstance(fsm_storage(""), MemoryStorage)


@pytest.fixture
async def sales(db: object) -> Scenario:
    return await factories.scenario("Sales", ("Lead",), require_next_step=False)


async def test_an_unreachable_or_malformed_redis_url_is_refused(unused_tcp_port: int) -> None:
    url = f"redis://:s3cret@127.0.0.1:{unused_tcp_port}/0"
    with pytest.raises(SystemExit) as refused:
        await check_storage(fsm_storage(url), url)
    message = str(refused.value)
    assert f"CRMHUB_REDIS_URL: no Redis answers at 127.0.0.1:{unused_tcp_port}" in message
    assert "s3cret" not in message
    await check_storage(fsm_storage(None), None)  # memory: nothing to reach
    with pytest.raises(ValidationError, match="redis_url"):
        Settings(redis_url="http://127.0.0.1:6379")
    assert Settings(redis_url="rediss://cache.example:6380/2").redis_url
