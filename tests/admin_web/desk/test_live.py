"""The live desk's stream, /inbox/events, with the feed in memory and in Redis: a customer
writing reaches a connected desk as an event naming the conversation, never a desk whose
reader may not see it; a stream reopened with Last-Event-ID reads on from there."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from admin_web.views import desk_live
from crm import inquiries
from crm.apikeys import create_key
from crm.config import Settings
from crm.models import Channel, Inquiry, Role
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes

REDIS_URL = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["memory", "redis"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    redis_url = None
    if request.param == "redis":
        probe = Redis.from_url(REDIS_URL)
        try:
            await probe.ping()
        except Exception:
            if "CRMHUB_TEST_REDIS_URL" in os.environ:
                raise
            pytest.skip(f"no Redis at {REDIS_URL}")
        finally:
            await probe.aclose()
        redis_url = REDIS_URL
    yield Settings(secret_key="s" * 48, data_dir=tmp_path / "data", redis_url=redis_url)


@pytest.fixture(autouse=True)
def quick_keep_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk_live, "KEEP_ALIVE", 0.5)  # a closed stream ends soon after


async def next_event(response: Any) -> dict[str, str]:
    """The next dispatched event of an SSE stream (comments and retry lines skipped)."""
    event: dict[str, str] = {}
    async with asyncio.timeout(20):  # keep-alives come on; an event that never does fails
        while True:
            raw = await response.content.readline()
            assert raw, "the stream ended"
            line = raw.decode().rstrip("\n")
            if not line:
                if "event" in event:
                    return event
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                event[key] = value


async def test_a_desk_hears_only_what_its_reader_may_see_and_resumes(
    browser: Browser, inbox: Inbox, tg: Channel
) -> None:
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    _, annas = await customer_writes(browser, inbox, tg, "Здравствуйте", chat_id=7001)
    inquiry = await Inquiry.get(conversation_id=annas.id)
    await inquiries.accept_inquiry(inquiry.id, actor=anna)  # Anna's client from now on
    await browser.login(boris.email)
    stream = await browser.client.get("/inbox/events")
    assert stream.status == 200 and stream.content_type == "text/event-stream"
    await customer_writes(browser, inbox, tg, "Это Анне", chat_id=7001)
    _, new = await customer_writes(browser, inbox, tg, "Новое обращение", chat_id=7002)
    event = await next_event(stream)
    assert event["event"] == "message"
    assert event["data"] == f'{{"conversation_id": {new.id}}}'  # Anna's never reached Boris
    stream.close()
    # while Boris is away the new customer writes twice; he reconnects where he left off
    await customer_writes(browser, inbox, tg, "Ещё", chat_id=7002)
    await customer_writes(browser, inbox, tg, "И ещё", chat_id=7002)
    again = await browser.client.get("/inbox/events", headers={"Last-Event-ID": event["id"]})
    missed = [await next_event(again), await next_event(again)]
    assert [e["data"] for e in missed] == [f'{{"conversation_id": {new.id}}}'] * 2
    assert len({event["id"], *(e["id"] for e in missed)}) == 3
    again.close()


async def test_a_client_handed_to_another_manager_is_heard_by_them(
    browser: Browser, inbox: Inbox, tg: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from admin_web import desk_fanout
    from crm.models import Client, Conversation

    monkeypatch.setattr(desk_fanout, "FACTS_TTL", 0.0)  # no second of grace in a test
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    _, annas = await customer_writes(browser, inbox, tg, "Здравствуйте", chat_id=7101)
    await inquiries.accept_inquiry((await Inquiry.get(conversation_id=annas.id)).id, actor=anna)
    await browser.login(boris.email)
    stream = await browser.client.get("/inbox/events")
    await customer_writes(browser, inbox, tg, "Это Анне", chat_id=7101)  # not Boris's
    conversation = await Conversation.get(id=annas.id)
    await Client.filter(id=conversation.client_id).update(responsible_id=boris.id)  # type: ignore[attr-defined]
    await customer_writes(browser, inbox, tg, "Теперь Борису", chat_id=7101)
    event = await next_event(stream)
    assert event["data"] == f'{{"conversation_id": {annas.id}}}'
    stream.close()


async def test_a_reply_and_a_taken_inquiry_reach_the_open_desks(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg)
    inquiry = await Inquiry.get(conversation_id=conversation.id)
    stream = await as_admin.client.get("/inbox/events")
    await as_admin.get(f"/inbox/{conversation.id}")
    await as_admin.post(f"/inquiries/{inquiry.id}/accept")
    assert (await next_event(stream))["event"] == "inquiry"
    data = aiohttp_form(as_admin.token, "Ответ")
    await as_admin.client.post(f"/inbox/{conversation.id}/reply", data=data)
    assert (await next_event(stream))["event"] == "message"
    await inbox.send()
    assert (await next_event(stream))["event"] == "status"
    stream.close()


async def test_a_reply_sent_through_the_api_reaches_the_open_desks(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg)
    admin = await make_user(Role.ADMIN, full_name="Api Admin")
    key = (await create_key("k", admin.id, actor=None))[1]
    stream = await as_admin.client.get("/inbox/events")
    answer = await as_admin.client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "Ответ из API"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status == 201
    event = await next_event(stream)
    assert event["event"] == "message"
    assert event["data"] == f'{{"conversation_id": {conversation.id}}}'
    stream.close()


async def test_the_stream_needs_a_login(browser: Browser) -> None:
    response = await browser.client.get("/inbox/events", allow_redirects=False)
    assert response.status == 303


def aiohttp_form(token: str, text: str) -> Any:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("_csrf", token)
    form.add_field("text", text)
    return form
