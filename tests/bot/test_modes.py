"""How updates reach the bot: long polling by default, a webhook with a secret token header
when a public URL is configured; and `crmhub run` starting and stopping the bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import WEBHOOK_PATH, ManagerBot, webhook_secret
from crm.config import Settings
from crm.models import Channel, Inquiry
from crmhub.runtime import serve
from inbox.webhooks import MAX_BODY
from tests.bot.conftest import (
    MANAGER_TOKEN,
    SECRET_KEY,
    bound_manager,
    customer_writes,
    tg_user,
)
from tests.fakes.chunked_post import stream_post
from tests.fakes.telegram_api import TelegramAPI

ANNA, STRANGER = 680001, 680099


def update(user_id: int, text: str, update_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 500 + update_id,
            "from": tg_user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": "M"},
            "date": int(time.time()),
            "text": text,
        },
    }


@pytest.fixture
async def polling_bot(db: object, manager_api: TelegramAPI) -> AsyncIterator[ManagerBot]:
    bot = ManagerBot(
        token=MANAGER_TOKEN,
        secret_key=SECRET_KEY,
        wake_outbox=lambda: None,
        api_base=manager_api.base_url,
    )
    await bot.start()
    yield bot
    await bot.stop()


async def test_long_polling_answers_and_pushes_inbox_cards(
    polling_bot: ManagerBot, manager_api: TelegramAPI, shop: Channel
) -> None:
    await bound_manager(ANNA)
    assert not polling_bot.webhook_mode
    manager_api.push_update(update(ANNA, "/help"))
    (answer,) = await manager_api.wait_for_calls("sendMessage", 1, within=5)
    assert answer.params["chat_id"] == ANNA and "/deals" in answer.params["text"]
    commands = manager_api.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "ru", "en"}

    await customer_writes(shop, "Hi from the shop")
    calls = await manager_api.wait_for_calls("sendMessage", 2, within=5)
    assert "Hi from the shop" in calls[-1].params["text"]
    assert await Inquiry.exists()


async def test_the_webhook_checks_the_secret_token(db: object, manager_api: TelegramAPI) -> None:
    await bound_manager(ANNA)
    bot = ManagerBot(
        token=MANAGER_TOKEN,
        secret_key=SECRET_KEY,
        wake_outbox=lambda: None,
        api_base=manager_api.base_url,
        public_url="https://crm.example.com/",
    )
    app = web.Application()
    bot.mount(app)
    await bot.start()
    try:
        assert manager_api.webhook["url"] == "https://crm.example.com" + WEBHOOK_PATH
        assert manager_api.webhook["secret_token"] == webhook_secret(SECRET_KEY)
        async with TestClient(TestServer(app)) as http:
            body = update(ANNA, "/help")
            missing = await http.post(WEBHOOK_PATH, json=body)
            wrong = await http.post(
                WEBHOOK_PATH, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            assert (missing.status, wrong.status) == (401, 401)
            assert not manager_api.calls_to("sendMessage")
            right = await http.post(
                WEBHOOK_PATH,
                json=body,
                headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(SECRET_KEY)},
            )
            assert right.status == 200
        (answer,) = manager_api.calls_to("sendMessage")
        assert answer.params["chat_id"] == ANNA
    finally:
        await bot.stop()


async def test_the_webhook_refuses_a_body_past_the_cap(
    db: object, manager_api: TelegramAPI
) -> None:
    """Chunked and genuine, 45 MB under the app's 50 MB limit: 413 once it passes 5 MB."""
    bot = ManagerBot(
        token=MANAGER_TOKEN,
        secret_key=SECRET_KEY,
        wake_outbox=lambda: None,
        api_base=manager_api.base_url,
        public_url="https://crm.example.com/",
    )
    app = web.Application(client_max_size=50 * 1024**2)  # as admin_web.app builds it
    bot.mount(app)
    async with TestClient(TestServer(app)) as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(SECRET_KEY)}
        status, sent = await stream_post(http.server, WEBHOOK_PATH, headers, 45 * 1024**2)
    assert status == 413
    assert sent < 4 * MAX_BODY


async def test_crmhub_run_starts_and_stops_the_bot(
    tmp_path: Path, manager_api: TelegramAPI
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite://{tmp_path / 'crm.sqlite3'}",
        web_port=0,
        manager_bot_token=MANAGER_TOKEN,
        telegram_api_base=manager_api.base_url,
        secret_key=SECRET_KEY,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop=stop))
    try:
        await manager_api.wait_for_calls("deleteWebhook", 1, within=20)
        manager_api.push_update(update(STRANGER, "/deals"))
        (answer,) = await manager_api.wait_for_calls("sendMessage", 1, within=5)
        assert answer.params["text"].startswith("This bot is for the company's managers")
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
