"""An inquiry's kept figures (crm.reports.kept_minutes) through the real paths: a reply a
person writes in the web, the managers' bot or the API gives the inquiry its first reply
and working minutes once the worker's tick or a report settles them; a robot's message
(here the unsubscribe confirmation, written with no author) does not; the inquiries report
read in the panel settles what the worker has not."""

from __future__ import annotations

import pytest

from crm.apikeys import create_key
from crm.company import get_company, work_calendar
from crm.models import Channel, Inquiry, Message, User
from crm.reports import kept_minutes
from crm.working_time import working_minutes
from inbox.service import Inbox
from tests.admin_web.conftest import Browser
from tests.admin_web.desk.conftest import customer_writes, type_reply
from tests.admin_web.desk.test_bot_cards_and_once import ANNA, BORIS, bound, inquiry_with_cards
from tests.bot import conftest as bot_side
from tests.bot.conftest import BotHarness

harness, manager_api = bot_side.harness, bot_side.manager_api  # the bot tests' fixtures


async def _settled(inquiry_id: int) -> Inquiry:
    """The worker's tick, then the inquiry as it keeps its figures."""
    await kept_minutes.settle_tick()
    return await Inquiry.get(id=inquiry_id)


async def _assert_first_reply(inquiry: Inquiry, reply: Message) -> None:
    calendar = work_calendar(await get_company())
    assert inquiry.first_reply_at == reply.created_at
    assert inquiry.first_reply_minutes == pytest.approx(
        working_minutes(inquiry.first_message_at, reply.created_at, calendar)
    )
    assert inquiry.kept_calendar == kept_minutes.calendar_stamp(calendar)


async def test_a_reply_in_the_web_sets_the_figures_once_settled(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg, "Есть доставка?")
    inquiry = await Inquiry.get(conversation_id=conversation.id)
    status, _ = await as_admin.post(f"/inquiries/{inquiry.id}/accept")
    assert status == 200
    status, _ = await type_reply(as_admin, conversation.id, "Да, завтра")
    assert status == 200
    unsettled = await Inquiry.get(id=inquiry.id)
    assert unsettled.kept_calendar is None  # the write paths only mark it
    # the report read in the panel settles it first
    status, _ = await as_admin.get("/reports/inquiries")
    assert status == 200
    kept = await Inquiry.get(id=inquiry.id)
    await _assert_first_reply(kept, await Message.get(direction="out"))
    assert kept.decided_at is not None and kept.accept_minutes == pytest.approx(
        working_minutes(kept.first_message_at, kept.decided_at, work_calendar(await get_company()))
    )


async def test_a_reply_in_the_bot_sets_the_figures(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness
) -> None:
    anna = await bound(ANNA, "Anna Manager")
    await bound(BORIS, "Boris Manager")
    inquiry = await inquiry_with_cards(browser, inbox, tg, harness, 7901)
    await browser.login(anna.email)
    await browser.post(f"/inquiries/{inquiry.id}/accept")
    await harness.notifier.drain()
    await harness.press(ANNA, harness.current(harness.last_to(ANNA)), "Reply")
    await harness.send(ANNA, "Здравствуйте, сейчас посчитаю")
    reply = await Message.get(direction="out")
    assert reply.author_id == anna.id  # type: ignore[attr-defined]
    await _assert_first_reply(await _settled(inquiry.id), reply)


async def test_a_reply_in_the_api_sets_the_figures_a_robots_message_does_not(
    browser: Browser, inbox: Inbox, tg: Channel, admin: User
) -> None:
    _, conversation = await customer_writes(browser, inbox, tg, "стоп")
    inquiry = await Inquiry.get(conversation_id=conversation.id)
    robot = await Message.get(direction="out")  # the unsubscribe confirmation
    assert robot.author_id is None  # type: ignore[attr-defined]
    kept = await _settled(inquiry.id)
    assert (kept.first_reply_at, kept.first_reply_minutes) == (None, None)
    key = (await create_key("k", admin.id, actor=None))[1]
    response = await browser.client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "Чем можем помочь?"},
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"},
    )
    assert response.status == 201
    reply = await Message.get(id=(await response.json())["id"])
    await _assert_first_reply(await _settled(inquiry.id), reply)
