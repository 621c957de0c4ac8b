"""Consent and opt-out through the real paths: "стоп" in a messenger through the webhook,
intake (the batch's fast path and the hub) and the outbox to the platform fake; the
one-click unsubscribe link over HTTP; bounces recorded from the email channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from crm import clock, conversations
from crm.errors import NotFound, ValidationFailed
from crm.mailings import consent
from crm.merge import merge_clients
from crm.models import (
    Channel,
    ChannelIdentity,
    ClientConsent,
    Conversation,
    EmailBounce,
    Message,
    MessageStatus,
    User,
)
from inbox import hub
from inbox.channels.base import StatusUpdate
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.base import load_fixture
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI, signed_callback
from tests.inbox.conftest import REFUSED, VIBER_TOKEN, post, tg_headers

PUBLIC_URL = "https://crm.example.ru"
SECRET = "a-secret-key-for-the-tests"


def tg_update(n: int, text: str) -> dict[str, Any]:
    update = load_fixture("telegram", "message_text")
    update["update_id"] += n
    update["message"]["message_id"] += n
    update["message"]["text"] = text
    return update


async def tg_wrote(http: Any, inbox: Inbox, tg: Channel, n: int, text: str) -> None:
    update = tg_update(n, text)
    response = await post(http, f"/webhooks/telegram/{tg.id}", update, **tg_headers(tg))
    assert response.status == 200
    await inbox.process()


def test_stop_words_are_short_texts_only() -> None:
    for text in (
        "стоп",
        "Стоп!",
        " СТОП. ",
        "отписаться",
        "/stop",
        "/stop@ShopBot",
        "STOP",
        "Unsubscribe",
        "«Отписаться»",
    ):
        assert consent.is_stop(text), text
    for text in ("", "стоп-кран сломался", "не стоп", "stop it please", "стоп " * 10, "/start"):
        assert not consent.is_stop(text), text


@pytest.mark.parametrize("first", [False, True])
async def test_stop_in_telegram_unsubscribes_and_confirms_and_managers_still_reach(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User, first: bool
) -> None:
    """Both paths of intake: a known sender with an open inquiry (the batch's fast path
    would take an ordinary message) and "/stop" as the very first message."""
    if not first:
        await tg_wrote(http, inbox, tg, 0, "Здравствуйте, есть диван?")
    await tg_wrote(http, inbox, tg, 1, "/stop" if first else "Стоп!")
    identity = await ChannelIdentity.get()
    state = await consent.consent_of(identity.client_id)  # type: ignore[attr-defined]
    assert state.opted_out_at is not None and state.opted_out_via == "telegram"
    assert await consent.opted_out_clients([identity.client_id]) == {identity.client_id}  # type: ignore[attr-defined]
    assert (await inbox.send()).sent == 1  # the confirmation
    confirmation = telegram.delivered[-1]["text"]
    assert "отписались от рассылок" in confirmation
    stored = [m.text for m in await Message.all().order_by("id")]
    assert ("/stop" if first else "Стоп!") in stored  # the managers see what was written
    # Saying it twice changes nothing but is answered again.
    await tg_wrote(http, inbox, tg, 2, "стоп")
    assert (await consent.consent_of(identity.client_id)).opted_out_at == state.opted_out_at  # type: ignore[attr-defined]
    # A manager's reply still reaches the customer.
    conversation = await Conversation.get()
    await conversations.queue_reply(conversation.id, actor=admin, text="Как скажете!")
    assert (await inbox.send()).sent == 2
    assert telegram.delivered[-1]["text"] == "Как скажете!"


async def test_stop_in_viber(http: Any, inbox: Inbox, viber: Channel, viber_fake: ViberAPI) -> None:
    event = load_fixture("viber", "message_text")
    event["message"]["text"] = "Отписаться"
    body, headers = signed_callback(event, VIBER_TOKEN)
    assert (
        await http.post(f"/webhooks/viber/{viber.id}", data=body, headers=headers)
    ).status == 200
    await inbox.process()
    identity = await ChannelIdentity.get()
    assert await consent.opted_out_clients([identity.client_id]) == {identity.client_id}  # type: ignore[attr-defined]
    assert (await inbox.send()).sent == 1
    assert "отписались" in viber_fake.delivered[0].payload["text"]


async def test_consent_after_an_opt_out_needs_the_clients_own_yes(admin: User) -> None:
    client = await factories.client(admin, "Иван")
    with pytest.raises(ValidationFailed):
        await consent.record_consent(client.id, source="rumour", actor=admin)
    with pytest.raises(ValidationFailed):
        await consent.record_consent(
            client.id, source="form", actor=admin, at=clock.now() + timedelta(days=1)
        )
    given = await consent.record_consent(client.id, source="import", actor=admin)
    assert given.advertising_allowed and given.source == "import"
    assert await consent.consented_clients([client.id]) == {client.id}
    assert await consent.opt_out(client.id, via="web", actor=admin)
    assert not await consent.opt_out(client.id, via="web", actor=admin)
    assert not (await consent.consent_of(client.id)).advertising_allowed
    assert await consent.consented_clients([client.id]) == set()
    for source in ("import", "form"):
        with pytest.raises(ValidationFailed):
            await consent.record_consent(client.id, source=source, actor=admin)
    again = await consent.record_consent(client.id, source="chat", actor=admin)
    assert again.advertising_allowed and again.opted_out_at is None
    # A manager records only for their own clients.
    other = await factories.manager()
    with pytest.raises(NotFound):
        await consent.record_consent(client.id, source="form", actor=other)


async def test_a_merge_keeps_either_clients_opt_out(admin: User) -> None:
    survivor = await factories.client(admin, "ООО Ромашка")
    merged = await factories.client(admin, "Ромашка ООО")
    await consent.opt_out(merged.id, via="vk")
    await merge_clients(survivor.id, merged.id, actor=admin)
    assert await consent.opted_out_clients([survivor.id]) == {survivor.id}


# --- the one-click link ---------------------------------------------------------------------


@pytest.fixture
async def signed_inbox(db: object) -> AsyncIterator[Inbox]:
    hub_ = Inbox(public_url=PUBLIC_URL, secret_key=SECRET, channel_ttl=0.0)
    yield hub_
    await hub_.adapters.close()


@pytest.fixture
async def web_client(
    signed_inbox: Inbox,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    signed_inbox.mount(app)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_one_click_unsubscribe(signed_inbox: Inbox, web_client: Any, admin: User) -> None:
    client = await factories.client(admin, "Пётр")
    assert signed_inbox.unsubscribe is not None
    url = signed_inbox.unsubscribe.url(client.id)
    assert url.startswith(PUBLIC_URL + "/unsubscribe/")
    path = url.removeprefix(PUBLIC_URL)
    page = await web_client.get(path)
    assert page.status == 200 and 'method="post"' in await page.text()
    assert not await ClientConsent.filter(
        opted_out_at__isnull=False
    ).exists()  # GET changes nothing
    forged = path[:-4] + "0000"
    assert (await web_client.post(forged, data="List-Unsubscribe=One-Click")).status == 404
    other = await factories.client(admin, "Мария")
    assert (await web_client.post(f"/unsubscribe/{other.id}.{path[-32:]}")).status == 404
    done = await web_client.post(
        path,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status == 200 and "отписались" in await done.text()
    assert await consent.opted_out_clients([client.id, other.id]) == {client.id}
    assert (await consent.consent_of(client.id)).opted_out_via == "email"


# --- email: the headers, bounces -------------------------------------------------------------


async def email_conversation(channel: Channel, address: str, admin: User) -> Conversation:
    client = await factories.client(admin, address)
    identity = await ChannelIdentity.create(channel=channel, external_id=address, client=client)
    return await Conversation.create(channel=channel, identity=identity, client=client)


async def test_an_email_with_an_unsubscribe_link_carries_rfc_8058_headers(
    mailbox: Channel, smtp: SmtpServer, inbox: Inbox, admin: User
) -> None:
    conversation = await email_conversation(mailbox, "anna@example.net", admin)
    link = f"{PUBLIC_URL}/unsubscribe/1.{'a' * 32}"
    await conversations.queue_reply(
        conversation.id,
        actor=None,
        text="Скидки недели",
        meta={"subject": "Акция", "list_unsubscribe": link, "html": "<p>Скидки <b>недели</b></p>"},
    )
    assert (await inbox.send()).sent == 1
    sent = smtp.received[0].message
    assert str(sent["List-Unsubscribe"]).strip() == f"<{link}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = sent.get_body(("html",))
    assert html is not None and "<b>недели</b>" in html.get_content()
    assert "Скидки недели" in sent.get_body(("plain",)).get_content()


async def test_refused_and_bounced_addresses_are_recorded(
    mailbox: Channel, smtp: SmtpServer, inbox: Inbox, admin: User
) -> None:
    refused = await email_conversation(mailbox, REFUSED, admin)
    reply = await conversations.queue_reply(refused.id, actor=admin, text="Здравствуйте")
    assert (await inbox.send()).dead == 1
    assert (await Message.get(id=reply.id)).status == MessageStatus.DEAD
    assert await consent.bounced([REFUSED.upper()]) == {REFUSED}
    # A bounce arriving later (the adapter turns a DSN into a failed status).
    later = await email_conversation(mailbox, "old@example.net", admin)
    sent = await conversations.queue_reply(later.id, actor=admin, text="Счёт во вложении")
    assert (await inbox.send()).sent == 1
    source_id = (await Message.get(id=sent.id)).source_id or ""
    await hub.ingest(
        mailbox, StatusUpdate(source_id=source_id, status="failed", error="550 5.1.1 no such user")
    )
    bounce = await EmailBounce.get(address="old@example.net")
    assert "550" in bounce.reason
    await consent.clear_bounce("old@example.net")
    assert await consent.bounced(["old@example.net"]) == set()
