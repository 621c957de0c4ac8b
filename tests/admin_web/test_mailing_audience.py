"""Where a mailing's author used to stumble, over HTTP into the panel and the API: a
selection of 40,000 clients (more than PostgreSQL binds in one statement), segments as the
audience (a deleted one refused), a survey by email without CRMHUB_PUBLIC_URL refused with
the reason, and "Send a test to me" to the author's own chat with the managers' bot (the
Bot API fake) and mailbox (SMTP on loopback), outside the results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import channels
from crm.config import Settings
from crm.models import (
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Mailing,
    MailingRecipient,
    Message,
    Role,
    Tag,
    User,
)
from crm.segments import service as segments
from crm.segments.members import recompute
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.test_api import Api, api  # noqa: F401  (fixtures)
from tests.crm import factories
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI

MANAGER_BOT = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
QUESTIONS = "Как мы работаем?\nОтлично\nПлохо"


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, telegram: TelegramAPI) -> Settings:
    """The panel with the managers' bot configured (its API: the fake); no public URL."""
    return Settings(
        secret_key="s" * 48,
        data_dir=tmp_path / "data",
        manager_bot_token=MANAGER_BOT,
        telegram_api_base=telegram.base_url,
    )


async def on_vk(admin: User, name: str, external_id: str, **kw: object) -> Client:
    """A client reachable in VK (the channel's API never called by a preview or a start)."""
    channel = await Channel.filter(kind="vk").first()
    if channel is None:
        channel = await channels.create_channel(
            kind="vk",
            name="Сообщество",
            credentials={"token": "vk1.a.t", "secret": "s", "confirmation": "c"},
            settings={"group_id": 1},
            actor=admin,
            api_base="http://127.0.0.1:9",
        )
    client = await factories.client(admin, name, **kw)
    identity = await ChannelIdentity.create(channel=channel, external_id=external_id, client=client)
    await Conversation.create(channel=channel, identity=identity, client=client)
    return client


async def a_mailbox(admin: User, smtp_port: int = 9) -> Channel:
    return await channels.create_channel(
        kind="email",
        name="Отдел продаж",
        credentials={"password": "secret"},
        settings={
            "address": "shop@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 9,
            "imap_ssl": False,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_ssl": False,
            "timeout": 5,
        },
        actor=admin,
    )


def form(**values: str) -> dict[str, str]:
    return {
        "name": "Акция",
        "kind": "info",
        "channel_mode": "auto",
        "text": "Здравствуйте, {client_name}!",
        "reply_days": "3",
        **values,
    }


async def test_a_selection_of_40000_clients_previews_and_starts(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    real = [(await on_vk(admin, f"Клиент {n}", str(n))).id for n in range(3)]
    absent = range(10_000_000, 10_040_000)  # numbers of no client: a pure read of them
    await browser.login(admin.email)
    chosen = " ".join(str(i) for i in [*real, *absent])
    status, page = await browser.post("/mailings", form(client_ids=chosen))
    assert status == 200 and 'id="mailing-problems"' not in page
    assert "Получатели: 3 · Получателей: 3" in page
    mailing = await Mailing.get()
    status, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert status == 200 and "Рассылка запущена" in page
    got = await MailingRecipient.filter(mailing_id=mailing.id).values_list("client_id", flat=True)
    assert sorted(got) == real


async def test_segments_are_an_audience_and_a_deleted_one_is_refused(
    browser: Browser,
    api: Api,  # noqa: F811
    admin: User,
) -> None:
    await User.filter(id=admin.id).update(locale="ru")
    tag = await Tag.create(name="Опт")
    for n in range(2):
        await on_vk(admin, f"Оптовик {n}", f"o{n}", tags=["Опт"])
    await on_vk(admin, "Розница", "r1")
    rule = {"op": "and", "items": [{"field": "tag", "op": "any", "values": [str(tag.id)]}]}
    segment = await segments.create_segment("Оптовики", rule, actor=admin)
    await recompute(segment)
    await browser.login(admin.email)
    _, page = await browser.get("/mailings/new")
    assert 'name="segment_ids"' in page and "Оптовики (2)" in page
    _, page = await browser.post("/mailings", form(segment_ids=str(segment.id)))
    assert "Получатели: 2 · Получателей: 2" in page and 'id="mailing-problems"' not in page
    mailing = await Mailing.get()
    assert mailing.audience["segment_ids"] == [segment.id]
    # The API takes segments too, and counts their current members in the preview.
    status, body = await api.call(
        "POST", "/mailings", {"name": "Из API", "text": "Привет", "segment_ids": [segment.id]}
    )
    assert status == 201 and body["segment_ids"] == [segment.id]
    assert body["preview"]["audience"] == 2 and body["preview"]["problems"] == {}
    # Deleted since: the preview says so, and nothing starts.
    await segments.delete_segment(segment.id, actor=admin)
    _, page = await browser.get(f"/mailings/{mailing.id}")
    assert f"Сегмент аудитории удалён (номер {segment.id})" in page
    _, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert not await MailingRecipient.exists()
    _, body = await api.call("GET", f"/mailings/{body['id']}")
    assert "segments" in body["preview"]["problems"]
    # Saving a segment that does not exist is refused on the field.
    _, page = await browser.post(f"/mailings/{mailing.id}", form(segment_ids="999999"))
    assert 'id="err-segment_ids"' in page


async def test_an_email_survey_without_a_public_url_is_refused(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    await a_mailbox(admin)
    by_mail = await factories.client(admin, "Почтовый", emails=["client@example.net"])
    on_vk_id = (await on_vk(admin, "ВКшный", "v1")).id
    await browser.login(admin.email)
    survey = form(kind="survey", questions=QUESTIONS, client_ids=f"{by_mail.id} {on_vk_id}")
    _, page = await browser.post("/mailings", survey)
    assert "CRMHUB_PUBLIC_URL" in page and "без неё в письмах не будет ссылок" in page
    mailing = await Mailing.get()
    _, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert not await MailingRecipient.exists() and not await Message.exists()
    # By messengers only, it goes.
    _, page = await browser.post(f"/mailings/{mailing.id}", {**survey, "channel_mode": "vk"})
    assert "CRMHUB_PUBLIC_URL" not in page and 'id="mailing-problems"' not in page
    # Not a survey: the letter needs no links.
    _status, page = await browser.post(f"/mailings/{mailing.id}", {**survey, "kind": "info"})
    assert "CRMHUB_PUBLIC_URL" not in page


async def test_a_test_goes_to_the_authors_bot_chat_and_mailbox(
    browser: Browser, telegram: TelegramAPI, db: TortoiseContext
) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    client = await on_vk(admin, "Ирина", "i1")
    await browser.login(admin.email)
    await browser.post(
        "/mailings", form(kind="survey", questions=QUESTIONS, client_ids=str(client.id))
    )
    mailing = await Mailing.get()
    # Not bound to the bot and no mailbox: refused with the reason.
    _, page = await browser.post(f"/mailings/{mailing.id}/test")
    assert "привяжите аккаунт к боту менеджеров или подключите почтовый ящик" in page
    assert not telegram.delivered
    # Bound to the bot: the survey's message with its buttons, marked, in the author's chat.
    await User.filter(id=admin.id).update(telegram_user_id=4242)
    status, page = await browser.post(f"/mailings/{mailing.id}/test")
    assert status == 200 and "Тест отправлен вам: Telegram" in page
    (sent,) = telegram.delivered
    assert sent["chat"]["id"] == 4242
    assert sent["text"].startswith("Тест рассылки «Акция»")
    assert "Здравствуйте, Ирина!" in sent["text"] and "Как мы работаем?" in sent["text"]
    buttons = [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Отлично", "Плохо"]
    # And a mailbox: by email as well.
    with SmtpServer(user="shop@example.com", password="secret") as smtp:
        await a_mailbox(admin, smtp.port)
        _, page = await browser.post(f"/mailings/{mailing.id}/test")
        assert "Тест отправлен вам: Telegram, E-mail" in page
        (letter,) = smtp.received
    assert letter.rcpt_tos == (admin.email,)
    assert str(letter.message["Subject"]).startswith("[TEST]")
    # Nothing of it counts: no recipient, no outbox message, still a draft.
    assert not await MailingRecipient.exists() and not await Message.exists()
    assert (await Mailing.get(id=mailing.id)).status == "draft"
