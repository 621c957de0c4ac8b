"""A desk under test: the panel and the inbox's webhooks in one app (as `crmhub run` mounts
them), a Telegram channel on its loopback fake, customers writing through the webhook, and
helpers that type a reply into the page's form. Test modules import the fixtures they use."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from admin_web.views.desk import WAKE_OUTBOX
from admin_web.views.desk_live import inbox_listener
from crm import channels
from crm.config import Settings
from crm.models import Channel, Conversation, User
from inbox import events
from inbox.service import Inbox
from tests.admin_web.conftest import Browser
from tests.crm import factories
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI

_SENT = itertools.count()
TG_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
async def inbox(db: TortoiseContext) -> AsyncIterator[Inbox]:
    hub = Inbox(channel_ttl=0.0)
    yield hub
    await hub.adapters.close()


@pytest.fixture
async def app(
    db: TortoiseContext, settings: Settings, inbox: Inbox
) -> AsyncIterator[web.Application]:
    application = create_app(settings)
    inbox.mount(application)
    application[WAKE_OUTBOX] = inbox.wake_outbox
    unlisten = events.subscribe(inbox_listener(application))  # as the runtime wires it
    yield application
    unlisten()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


@pytest.fixture
async def tg(admin: User, telegram: TelegramAPI) -> Channel:
    await factories.scenario(require_next_step=False)
    return await channels.create_channel(
        kind="telegram",
        name="Магазин",
        credentials={"token": TG_TOKEN},
        api_base=telegram.base_url,
        actor=admin,
    )


async def customer_writes(
    browser: Browser,
    inbox: Inbox,
    tg: Channel,
    text: str = "",
    chat_id: int | None = None,
    at: int | None = None,
) -> tuple[dict[str, Any], Conversation]:
    """A customer's Telegram message through the webhook, processed; its conversation.
    `at`: the message's date (Unix seconds), the fixture's otherwise."""
    update = load_fixture("telegram", "message_text")
    n = next(_SENT)  # every call a message of its own (the same ids would be a redelivery)
    update["update_id"] += n * 1000
    update["message"]["message_id"] += n * 1000
    if text:
        update["message"]["text"] = text
    if at is not None:
        update["message"]["date"] = at
    if chat_id is not None:
        update["update_id"] += chat_id
        update["message"]["message_id"] += chat_id
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    response = await browser.client.post(
        f"/webhooks/telegram/{tg.id}",
        data=json.dumps(update, ensure_ascii=False).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": tg.credentials["webhook_secret"],
        },
    )
    assert response.status == 200
    await inbox.process()
    chat = update["message"]["chat"]["id"]
    conversation = await Conversation.get(identity__external_id=str(chat))
    return update, conversation


async def type_reply(
    browser: Browser,
    conversation_id: int,
    text: str,
    files: list[tuple[str, bytes, str]] | None = None,
) -> tuple[int, str]:
    """Open the conversation page and send its reply form (multipart, as the browser does)."""
    status, _ = await browser.get(f"/inbox/{conversation_id}")
    if status != 200:  # a page the reader may not see: post with the session's token anyway
        await browser.csrf()
    form = aiohttp.FormData()
    form.add_field("_csrf", browser.token)
    form.add_field("_back", f"/inbox/{conversation_id}")
    form.add_field("text", text)
    for name, content, mime in files or []:
        form.add_field("files", content, filename=name, content_type=mime)
    response = await browser.client.post(f"/inbox/{conversation_id}/reply", data=form)
    return response.status, await response.text()
