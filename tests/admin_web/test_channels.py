"""Channels: connect (Telegram, VK, Viber, mailbox), check, settings, disable, delete."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from admin_web.keys import SETTINGS
from crm import clients
from crm.models import Channel, ChannelKind, Conversation, Visibility
from tests.admin_web.conftest import Browser
from tests.crm import factories
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.tls import TestCertificate
from tests.fakes.viber_api import ViberAPI
from tests.fakes.vk_api import VkAPI

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


async def test_connect_telegram_shows_the_bot_and_masks_the_token(as_admin: Browser) -> None:
    async with TelegramAPI(bot_username="shop_bot", bot_name="Магазин") as telegram:
        settings = as_admin.app[SETTINGS]
        settings.telegram_api_base = telegram.base_url
        settings.public_url = "https://crm.example.com"
        status, text = await as_admin.get("/channels/new/telegram")
        assert status == 200
        status, text = await as_admin.post(
            "/channels/new/telegram", {"name": "Магазин", "token": TOKEN, "visibility": "all"}
        )
        assert "Connected: @shop_bot (Магазин)" in text
        channel = await Channel.get(kind=ChannelKind.TELEGRAM)
        assert telegram.webhook["url"] == f"https://crm.example.com/webhooks/telegram/{channel.id}"
        assert TOKEN not in text and "••••••saw0" in text
        assert channel.credentials["webhook_secret"] not in text
        # A channel hooked before my_chat_member was asked for gets it with the next check.
        telegram.webhook["allowed_updates"] = ["message", "edited_message"]
        status, text = await as_admin.post(f"/channels/{channel.id}/check")
        assert "The connection works: @shop_bot (Магазин)" in text
        assert "my_chat_member" in telegram.webhook["allowed_updates"]


async def test_refused_token_stores_nothing(as_admin: Browser) -> None:
    async with TelegramAPI(tokens={"1:valid"}) as telegram:
        as_admin.app[SETTINGS].telegram_api_base = telegram.base_url
        await as_admin.get("/channels/new/telegram")
        _, text = await as_admin.post("/channels/new/telegram", {"token": TOKEN})
        assert "Telegram refused the token" in text
        assert TOKEN not in text  # the secret is not put back into the form
        assert not await Channel.exists()
        _status, text = await as_admin.post("/channels/new/telegram", {"token": ""})
        assert "Required" in text
        assert not await Channel.exists()


async def test_check_connection_reports_a_clear_error(as_admin: Browser) -> None:
    async with TelegramAPI() as telegram:
        as_admin.app[SETTINGS].telegram_api_base = telegram.base_url
        await as_admin.get("/channels/new/telegram")
        await as_admin.post("/channels/new/telegram", {"token": TOKEN})
        channel = await Channel.get()
        telegram.fail_next("getMe", kind="502")
        await as_admin.get("/channels")
        _status, text = await as_admin.post(f"/channels/{channel.id}/check")
        assert "The request to Telegram failed" in text


async def test_connect_vk_community(as_admin: Browser) -> None:
    async with VkAPI(group_id=229000001, group_name="Пекарня") as vk:
        settings = as_admin.app[SETTINGS]
        settings.vk_api_base = vk.base_url
        settings.public_url = "https://crm.example.com"
        await as_admin.get("/channels/new/vk")
        data = {
            "group_id": "229000001",
            "token": "vk1.a.token-value-123456",
            "secret": "callback-secret",
            "confirmation": "a1b2c3d4",
        }
        _, text = await as_admin.post("/channels/new/vk", {**data, "group_id": "abc"})
        assert "Not a number" in text
        _status, text = await as_admin.post("/channels/new/vk", data)
        assert "Connected: Пекарня" in text
        channel = await Channel.get(kind=ChannelKind.VK)
        assert channel.settings["group_id"] == "229000001"
        assert f"https://crm.example.com/webhooks/vk/{channel.id}" in text
        assert "callback-secret" not in text and "vk1.a.token-value-123456" not in text


async def test_connect_viber_bot(as_admin: Browser) -> None:
    async with ViberAPI(account_name="Цветы", require_webhook=False) as viber:
        settings = as_admin.app[SETTINGS]
        settings.viber_api_base = viber.base_url
        settings.public_url = "https://crm.example.com"
        await as_admin.get("/channels/new/viber")
        _status, text = await as_admin.post(
            "/channels/new/viber", {"token": "4453b6ac12345678-viber", "sender_name": "Цветы"}
        )
        assert "Connected: Цветы" in text
        channel = await Channel.get(kind=ChannelKind.VIBER)
        assert channel.settings["sender_name"] == "Цветы"


async def test_mailbox_unreachable_is_a_clear_error(as_admin: Browser) -> None:
    await as_admin.get("/channels/new/email")
    _status, text = await as_admin.post(
        "/channels/new/email",
        {
            "address": "shop@example.com",
            "password": "app-password",
            "imap_host": "127.0.0.1",
            "imap_port": "1",
            "smtp_host": "127.0.0.1",
            "smtp_port": "1",
            "smtp_security": "none",
        },
    )
    assert "IMAP" in text
    assert "app-password" not in text
    assert not await Channel.exists()


async def test_mail_provider_detection(as_admin: Browser) -> None:
    await as_admin.get("/channels/new/email")
    resp = await as_admin.client.post(
        "/channels/detect",
        data={"address": "shop@yandex.ru"},
        headers={"X-CSRF-Token": await as_admin.csrf(), "Accept": "application/json"},
    )
    body = await resp.json()
    assert body["imap_host"] == "imap.yandex.ru" and body["smtp_port"] == 465
    assert body["smtp_security"] == body["imap_security"] == "tls" and not body["guessed"]
    resp = await as_admin.client.post(
        "/channels/detect",
        data={"address": "nobody"},
        headers={"X-CSRF-Token": await as_admin.csrf(), "Accept": "application/json"},
    )
    assert resp.status == 422


async def test_channel_settings_disable_and_delete(as_admin: Browser, admin: object) -> None:
    scenario = await factories.scenario()
    channel = await Channel.create(
        kind=ChannelKind.TELEGRAM, name="Бот", credentials={"token": TOKEN}
    )
    await as_admin.get("/channels")
    await as_admin.post(
        f"/channels/{channel.id}",
        {
            "name": "Бот продаж",
            "default_scenario_id": str(scenario.id),
            "visibility": "users",
            "visible_user_ids": "1",
        },
    )
    channel = await Channel.get(id=channel.id)
    assert (channel.name, channel.default_scenario_id, channel.visibility) == (  # type: ignore[attr-defined]
        "Бот продаж",
        scenario.id,
        Visibility.USERS,
    )
    _, text = await as_admin.post(f"/channels/{channel.id}", {"name": "X", "visibility": "users"})
    assert "Choose at least one user" in text
    assert (await Channel.get(id=channel.id)).name == "Бот продаж"
    _, text = await as_admin.post(f"/channels/{channel.id}", {"name": "Б" * 201})
    assert "at most 200 characters" in text  # refused, not cut
    assert (await Channel.get(id=channel.id)).name == "Бот продаж"
    await as_admin.post(f"/channels/{channel.id}/active", {"active": "0"})
    assert not (await Channel.get(id=channel.id)).is_active
    await as_admin.post(f"/channels/{channel.id}/active", {"active": "1"})
    assert (await Channel.get(id=channel.id)).is_active
    # a channel with conversations keeps its history
    client = await clients.create_client(actor=None, name="Анна")
    identity = await channel.identities.create(external_id="42", client=client)  # type: ignore[attr-defined]
    await Conversation.create(channel=channel, identity=identity, client=client)
    _, text = await as_admin.post(f"/channels/{channel.id}/delete")
    assert "disable it instead" in text
    assert await Channel.filter(id=channel.id).exists()
    empty = await Channel.create(kind=ChannelKind.VIBER, name="Пустой", credentials={"token": "t"})
    _status, text = await as_admin.post(f"/channels/{empty.id}/delete")
    assert "Channel deleted" in text
    assert not await Channel.filter(id=empty.id).exists()


async def test_manager_cannot_see_or_change_channels(as_manager: Browser) -> None:
    channel = await Channel.create(
        kind=ChannelKind.TELEGRAM, name="Бот", credentials={"token": TOKEN}
    )
    status, _ = await as_manager.get("/channels")
    assert status == 403
    status, text = await as_manager.post(f"/channels/{channel.id}/delete")
    assert "You are not allowed to do this" in text
    assert await Channel.filter(id=channel.id).exists()


async def test_mailbox_security_for_imap_and_smtp(
    as_admin: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _status, text = await as_admin.get("/channels/new/email")
    assert 'name="imap_security"' in text and 'name="smtp_security"' in text
    _status, text = await as_admin.post(
        "/channels/new/email",
        {
            "address": "shop@corp.example",
            "password": "app-password",
            "imap_host": "mail.corp.example",
            "imap_security": "none",
        },
    )
    assert "in clear" in text and not await Channel.exists()
    certificate = TestCertificate.create(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))
    address = f"shop-{uuid.uuid4().hex[:8]}@example.com"
    with (
        Dovecot(tls=certificate) as dovecot,
        SmtpServer(user=address, password="app-password", tls=certificate.server_context()) as smtp,
    ):
        dovecot.add_user(address, "app-password")
        _status, text = await as_admin.post(
            "/channels/new/email",
            {
                "address": address,
                "password": "app-password",
                "imap_host": "127.0.0.1",
                "imap_port": str(dovecot.port),
                "imap_security": "starttls",
                "smtp_host": "127.0.0.1",
                "smtp_port": str(smtp.port),
                "smtp_security": "starttls",
            },
        )
    assert f"Connected: {address}" in text
    channel = await Channel.get(kind=ChannelKind.EMAIL)
    assert channel.settings["imap_security"] == channel.settings["smtp_security"] == "starttls"


async def test_a_webhook_channel_without_a_public_url_is_flagged(as_admin: Browser) -> None:
    assert not as_admin.app[SETTINGS].public_url
    _status, text = await as_admin.get("/channels/new/vk")
    assert "data-vk-long-poll" in text and "CRMHUB_PUBLIC_URL" in text
    vk = await Channel.create(
        kind=ChannelKind.VK,
        name="Пекарня",
        credentials={"token": "t", "secret": "s", "confirmation": "c"},
        settings={"group_id": "1", "mode": "webhook"},
    )
    polling = await Channel.create(
        kind=ChannelKind.TELEGRAM, name="Бот", credentials={"token": TOKEN}, settings={}
    )
    _status, text = await as_admin.get("/channels")
    card = text.split(f'id="channel-{vk.id}"')[1].split("</section>")[0]
    assert "data-needs-public-url" in card and "CRMHUB_PUBLIC_URL" in card
    other = text.split(f'id="channel-{polling.id}"')[1].split("</section>")[0]
    assert "data-needs-public-url" not in other
    as_admin.app[SETTINGS].public_url = "https://crm.example.com"
    _status, text = await as_admin.get("/channels")
    assert "data-needs-public-url" not in text
    assert f"https://crm.example.com/webhooks/vk/{vk.id}" in text
