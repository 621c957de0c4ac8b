"""The mailing pages over HTTP: a draft with a file and an audience from the client list's
filter, its preview (what each rule removed, what is wrong), the start, pause, resume and
cancel; a started mailing's form is gone; managers are kept out; the one-click
unsubscribe link needs no login and no CSRF token."""

from __future__ import annotations

import aiohttp

from crm import channels
from crm.company import get_company
from crm.models import (
    ChannelIdentity,
    Client,
    Conversation,
    Mailing,
    MailingRecipient,
    MailingStatus,
    Role,
    Tag,
)
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


async def test_a_mailing_from_draft_to_results(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    await factories.scenario(require_next_step=False)
    channel = await channels.create_channel(
        kind="telegram",
        name="Бот",
        credentials={"token": "1:abc"},
        actor=admin,
        api_base="http://127.0.0.1:9",
    )
    tag = await Tag.create(name="Опт")
    reached = await factories.client(admin, "Ирина", tags=["Опт"])
    unreachable = await factories.client(admin, "Пётр", tags=["Опт"])
    identity = await ChannelIdentity.create(channel=channel, external_id="77", client=reached)
    await Conversation.create(channel=channel, identity=identity, client=reached)
    await browser.login(admin.email)
    status, page = await browser.get("/mailings/new")
    assert status == 200 and "Новая рассылка" in page
    form = aiohttp.FormData()
    for key, value in {
        "name": "Акция для опта",
        "kind": "info",
        "channel_mode": "auto",
        "text": "Здравствуйте, {client_name}! Скидка {discount}",
        "tag_ids": str(tag.id),
        "filter": "q=Пётр",
        "reply_days": "3",
        "_csrf": await browser.csrf(),
    }.items():
        form.add_field(key, value)
    form.add_field("file", b"%PDF-1.4 price", filename="price.pdf", content_type="application/pdf")
    response = await browser.client.post("/mailings", data=form)
    page = await response.text()
    mailing = await Mailing.get()
    assert mailing.attachment["name"] == "price.pdf" and mailing.attachment["size"] == 14
    assert mailing.audience["tag_ids"] == [tag.id] and mailing.audience["filter"]["q"] == "Пётр"
    assert "Неизвестная подстановка: {discount}" in page
    assert "Telegram" in page and "никто не писал" not in page
    # Starting is refused with the reason; nothing queued.
    status, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert "Неизвестная подстановка" in page and not await MailingRecipient.exists()
    status, page = await browser.post(
        f"/mailings/{mailing.id}",
        {
            "name": "Акция для опта",
            "kind": "info",
            "channel_mode": "auto",
            "text": "Здравствуйте, {client_name}!",
            "tag_ids": str(tag.id),
            "reply_days": "3",
        },
    )
    assert status == 200 and "Неизвестная подстановка" not in page
    assert (await Mailing.get()).attachment["name"] == "price.pdf"  # kept when no new file
    assert "ни один канал до них не доходит — 1" in page  # Пётр is removed, with why
    status, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert status == 200 and "Рассылка запущена" in page
    assert [r.client_id for r in await MailingRecipient.all()] == [reached.id]  # type: ignore[attr-defined]
    assert 'id="mailing-form"' not in page and 'id="mailing-results"' in page
    status, page = await browser.post(f"/mailings/{mailing.id}/pause")
    assert (await Mailing.get()).status == MailingStatus.PAUSED
    status, page = await browser.post(f"/mailings/{mailing.id}/resume")
    assert (await Mailing.get()).status == MailingStatus.SCHEDULED
    # A started mailing cannot be edited.
    status, page = await browser.post(
        f"/mailings/{mailing.id}", {"name": "Другое", "text": "x", "reply_days": "3"}
    )
    assert (await Mailing.get()).name == "Акция для опта"
    status, page = await browser.post(f"/mailings/{mailing.id}/cancel")
    assert (await Mailing.get()).status == MailingStatus.CANCELLED
    status, page = await browser.get("/mailings")
    assert status == 200 and "Акция для опта" in page and "Отменена" in page
    assert await Client.filter(id=unreachable.id).exists()


async def test_managers_see_no_mailings(browser: Browser) -> None:
    manager = await make_user(Role.MANAGER, locale="ru")
    await browser.login(manager.email)
    for path in ("/mailings", "/mailings/new"):
        status, _ = await browser.get(path)
        assert status == 403
    status, page = await browser.get("/")
    assert "/mailings" not in page


async def test_mailing_hours_are_set_in_settings(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    await browser.login(admin.email)
    _, page = await browser.get("/settings")
    assert 'value="09:00"' in page and 'value="21:00"' in page
    form = {
        "name": "Мебельный дом",
        "default_locale": "ru",
        "default_timezone": "Europe/Moscow",
        "reminder_lead_minutes": "15",
        "client_visibility": "all",
        "calendar": "1",
        "work_days": "1",
        "mailing_from_minute": "10:00",
        "mailing_until_minute": "20:30",
    }
    _, page = await browser.post("/settings", form)
    company = await get_company()
    assert (company.mailing_from_minute, company.mailing_until_minute) == (600, 1230)
    _, page = await browser.post("/settings", {**form, "mailing_until_minute": "10:00"})
    assert "Часы рассылок не могут быть пустыми" in page
    assert (await get_company()).mailing_until_minute == 1230
