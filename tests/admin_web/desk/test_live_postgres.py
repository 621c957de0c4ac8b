"""The live desk on PostgreSQL without Redis: two web processes (two apps, each with its
own LISTEN connection) both deliver an event published by either; a stream reopened with
Last-Event-ID on the other process, or on a process started later, reads what it missed
from the table; a reader behind the kept events is told to reset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tortoise import connections

from admin_web.app import create_app
from admin_web.views import desk_live
from crm.config import Settings
from crm.models import Channel, DeskEvent, User
from inbox.desk_feed import PostgresFeed
from inbox.service import Inbox
from tests.admin_web.conftest import Browser
from tests.admin_web.desk.conftest import customer_writes, type_reply
from tests.admin_web.desk.test_live import next_event


@pytest.fixture(autouse=True)
def postgres_only(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend != "postgres":
        pytest.skip("LISTEN/NOTIFY: the PostgreSQL pass")
    monkeypatch.setattr(desk_live, "KEEP_ALIVE", 0.5)


async def other_process(settings: Settings, admin: User) -> AsyncIterator[Browser]:
    """Another web process on the same database: an app of its own, logged in."""
    async with TestClient(
        TestServer(create_app(settings)), headers={"Accept-Language": "en"}
    ) as client:
        browser = Browser(client)
        await browser.login(admin.email)
        yield browser


async def test_two_web_processes_both_deliver_and_resume_across_them(
    as_admin: Browser, inbox: Inbox, tg: Channel, settings: Settings, admin: User
) -> None:
    assert isinstance(as_admin.app[desk_live.DESK_FEED], PostgresFeed)
    async for second in other_process(settings, admin):
        assert isinstance(second.app[desk_live.DESK_FEED], PostgresFeed)
        here = await as_admin.client.get("/inbox/events")
        there = await second.client.get("/inbox/events")
        # a customer writes: the worker side (the first app's inbox) publishes once
        _, conversation = await customer_writes(as_admin, inbox, tg, "Привет", chat_id=7701)
        heard = [await next_event(here), await next_event(there)]
        assert [e["event"] for e in heard] == ["message", "message"]
        assert heard[0]["id"] == heard[1]["id"]  # one event, one id, everywhere
        assert heard[0]["data"] == f'{{"conversation_id": {conversation.id}}}'
        # a reply typed on the second process reaches the first one's desk
        await type_reply(second, conversation.id, "Здравствуйте")
        assert (await next_event(here))["event"] == "message"
        assert (await next_event(there))["event"] == "message"
        here.close()
        # while the first desk is away two more messages come; it reconnects to the other
        # process with its last id and reads exactly those
        seen = heard[0]["id"]
        await customer_writes(as_admin, inbox, tg, "Ещё", chat_id=7701)
        await customer_writes(as_admin, inbox, tg, "И ещё", chat_id=7701)
        again = await second.client.get("/inbox/events", headers={"Last-Event-ID": seen})
        missed = [await next_event(again) for _ in range(3)]  # the reply and the two
        ids = [int(e["id"]) for e in missed]
        assert ids == sorted(ids) and ids[0] > int(seen)
        again.close()
        there.close()
        # a process started later (it heard none of them) reads them from the table
        async for third in other_process(settings, admin):
            late = await third.client.get("/inbox/events", headers={"Last-Event-ID": seen})
            assert [int((await next_event(late))["id"]) for _ in range(3)] == ids
            late.close()
            # a reader behind what the table keeps is told to reload what it shows
            await connections.get("default").execute_query(
                "DELETE FROM desk_events WHERE id <= $1", [ids[1]]
            )
            behind = await third.client.get("/inbox/events", headers={"Last-Event-ID": seen})
            assert (await next_event(behind))["event"] == "reset"
            behind.close()
    assert await DeskEvent.all().count() >= 1
