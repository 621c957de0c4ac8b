"""Lead sources from deep links, through the real path: HTTP into the webhook routes, the
raw store, the intake, the hub, the database (SQLite, and PostgreSQL on its pass)."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from datetime import timedelta
from typing import Any

import time_machine
from tortoise.transactions import in_transaction

from crm import clock, company, sql_indexes
from crm.models import Channel, ChannelIdentity, Client, Inquiry, Message, RawEvent, User
from inbox import lead_sources
from inbox.service import Inbox
from tests.fakes.base import load_fixture
from tests.fakes.viber_api import signed_callback
from tests.inbox.conftest import VIBER_TOKEN, post, tg_headers

VIBER_USER = "pttm25kSGUo1919sBORWyA=="


# --- cleaning ---------------------------------------------------------------------------


def test_clean_keeps_one_short_printable_line() -> None:
    assert lead_sources.clean("  promo_spring ") == "promo_spring"
    assert lead_sources.clean("a\tb\n\nc\x00\u200bd") == "a b cd"
    assert lead_sources.clean(" \x07 ") is None
    assert lead_sources.clean(None) is None
    long = lead_sources.clean("x" * 1000)
    assert long is not None and len(long) == lead_sources.LEAD_SOURCE_MAX == 200


# --- Telegram -----------------------------------------------------------------------------


def start_update(text: str, update_id: int = 812345007, message_id: int = 100) -> dict[str, Any]:
    update = load_fixture("telegram", "start_deeplink")
    update["update_id"] = update_id
    update["message"]["message_id"] = message_id
    update["message"]["text"] = text
    return update


async def test_telegram_start_payload_sets_the_source_and_shows_an_opened_chat(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    path = f"/webhooks/telegram/{tg.id}"
    for _ in range(3):  # redelivered: still one message
        response = await post(http, path, start_update("/start promo_spring"), **tg_headers(tg))
        assert response.status == 200
    await inbox.process()
    client = await Client.get()
    assert (client.is_lead, client.lead_source) == (True, "promo_spring")
    message = await Message.get()
    # Managers are not shown the command as the customer's words.
    assert message.text == "Клиент открыл чат (источник: promo_spring)"
    assert message.meta["command"] == "/start promo_spring"
    assert message.meta["service"] == "chat_opened"
    assert message.meta["lead_source"] == "promo_spring"
    assert await Inquiry.all().count() == 1  # a warm lead a manager can greet

    # Their words come next, on the fast path of known senders; another campaign's link
    # later is shown, but never replaces the source.
    words = load_fixture("telegram", "message_text")
    words["message"]["from"] = start_update("")["message"]["from"]
    words["message"]["chat"] = start_update("")["message"]["chat"]
    await post(http, path, words, **tg_headers(tg))
    await post(http, path, start_update("/start autumn", 812345009, 102), **tg_headers(tg))
    await inbox.process()
    texts = await Message.all().order_by("id").values_list("text", flat=True)
    assert texts[1:] == [words["message"]["text"], "Клиент открыл чат (источник: autumn)"]
    assert (await Client.get()).lead_source == "promo_spring"
    assert await Client.all().count() == 1 and await Inquiry.all().count() == 1


async def test_telegram_bare_start_in_the_company_language(
    http: Any, inbox: Inbox, tg: Channel, admin: User
) -> None:
    await company.update_company({"default_locale": "en"}, actor=admin)
    await post(http, f"/webhooks/telegram/{tg.id}", start_update("/start"), **tg_headers(tg))
    await inbox.process()
    assert (await Message.get()).text == "Customer opened the chat"
    assert (await Client.get()).lead_source == tg.name  # no link: the channel, as before


async def test_telegram_hostile_payload_is_cut_to_the_column(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    payload = "утм\u202e" + "я" * 500  # typed by hand: any text, any length
    await post(
        http, f"/webhooks/telegram/{tg.id}", start_update(f"/start {payload}"), **tg_headers(tg)
    )
    await inbox.process()
    source = (await Client.get()).lead_source
    assert source == ("утм" + "я" * 500)[:200]


# --- VK -----------------------------------------------------------------------------------


async def test_vk_ref_and_ref_source_become_the_source(
    http: Any, inbox: Inbox, vk: Channel
) -> None:
    event = load_fixture("vk", "message_new")
    event["object"]["message"] |= {"ref": "spring_sale", "ref_source": "instagram"}
    for _ in range(2):
        assert (await post(http, f"/webhooks/vk/{vk.id}", event)).status == 200
    await inbox.process()
    assert (await Client.get()).lead_source == "spring_sale / instagram"
    message = await Message.get()
    assert message.text == event["object"]["message"]["text"]  # VK's first message is theirs


# --- Viber --------------------------------------------------------------------------------


async def viber_post(http: Any, channel: Channel, event: dict[str, Any]) -> None:
    body, headers = signed_callback(event, VIBER_TOKEN)
    response = await http.post(f"/webhooks/viber/{channel.id}", data=body, headers=headers)
    assert response.status == 200


def opened(context: str = "promo_spring", user: str = VIBER_USER) -> dict[str, Any]:
    event = load_fixture("viber", "conversation_started")
    event["context"] = context
    event["user"]["id"] = user
    return event


def wrote(token: int = 5741311803571721091, user: str = VIBER_USER) -> dict[str, Any]:
    event = load_fixture("viber", "message_text")
    event["message_token"] = token
    event["sender"]["id"] = user
    return event


async def test_viber_context_reaches_the_first_message_across_a_restart(
    http: Any, inbox: Inbox, viber: Channel
) -> None:
    for _ in range(2):  # redelivered
        await viber_post(http, viber, opened())
    await inbox.process()
    # Opening the chat is not a message, and nobody is created for it.
    assert not await Message.exists() and not await Client.exists()

    restarted = Inbox(channel_ttl=0.0)  # nothing kept in memory carries the context
    try:
        for _ in range(2):
            await viber_post(http, viber, wrote())
        await restarted.process()
    finally:
        await restarted.adapters.close()
    client = await Client.get()
    assert (client.is_lead, client.lead_source) == (True, "promo_spring")
    message = await Message.get()
    assert message.text == wrote()["message"]["text"]
    assert message.meta["lead_source"] == "promo_spring"


async def test_viber_context_and_message_in_one_batch(
    http: Any, inbox: Inbox, viber: Channel
) -> None:
    await viber_post(http, viber, opened("ads/vk?utm=1"))
    await viber_post(http, viber, wrote())
    await inbox.process()
    assert (await Client.get()).lead_source == "ads/vk?utm=1"
    assert await Message.all().count() == 1


async def test_viber_context_is_per_sender_recent_and_never_replaces_a_source(
    http: Any, inbox: Inbox, viber: Channel
) -> None:
    other = "Zx9/other+user=="
    await viber_post(http, viber, opened("someone_elses"))
    await viber_post(http, viber, opened("", user=other))  # opened without a link
    await viber_post(http, viber, wrote(1, user=other))
    await inbox.process()
    assert (await Client.get()).lead_source == viber.name

    # The first customer writes only 31 days after opening the chat: too long ago.
    with time_machine.travel(clock.now() + timedelta(days=31)):
        await viber_post(http, viber, wrote(2))
        await inbox.process()
    identity = await ChannelIdentity.get(external_id=VIBER_USER).prefetch_related("client")
    assert identity.client.lead_source == viber.name

    # A known customer opening the chat by another link keeps their source.
    with time_machine.travel(clock.now() + timedelta(days=32)):
        await viber_post(http, viber, opened("later_campaign"))
        await viber_post(http, viber, wrote(3))
        await inbox.process()
    assert (await Client.get(id=identity.client.id)).lead_source == viber.name
    assert await Message.all().count() == 3


async def test_viber_body_with_escaped_slashes_still_matches(
    http: Any, inbox: Inbox, viber: Channel
) -> None:
    user = "ab/cd+EF12gh=="
    # Some JSON writers spell "/" as "\/": the body differs, the id is the same.
    body = json.dumps(opened("partner/42", user=user), ensure_ascii=False).replace("/", "\\/")
    data = body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Viber-Content-Signature": hmac.new(
            VIBER_TOKEN.encode(), data, hashlib.sha256
        ).hexdigest(),
    }
    assert (
        await http.post(f"/webhooks/viber/{viber.id}", data=data, headers=headers)
    ).status == 200
    await viber_post(http, viber, wrote(user=user))
    await inbox.process()
    assert (await Client.get()).lead_source == "partner/42"


# --- the index ----------------------------------------------------------------------------


async def test_the_lookup_reads_the_partial_index_of_migration_0003(
    backend: str, viber: Channel
) -> None:
    migration = importlib.import_module("migrations.0003_raw_events_chat_opened")
    assert migration.PREDICATE == lead_sources.OPENED_PREDICATE
    conn = RawEvent._meta.db
    [create] = [op for op in migration.Migration.operations]
    # the schema the tests run on has it as the migrated one does (crm.sql_indexes.ensure)
    assert create.sql == sql_indexes.RAW_EVENTS_CHAT_OPENED.create_postgres
    if backend == "postgres":
        async with in_transaction() as tx:
            await tx.execute_script("SET LOCAL enable_seqscan = off")
            sql = lead_sources._LOOKUP
            _, plan = await tx.execute_query("EXPLAIN " + sql, [viber.id, clock.now(), 10, "%x%"])
    else:
        sql = lead_sources._LOOKUP
        for mark in ("$1", "$2", "$3", "$4"):
            sql = sql.replace(mark, "?")
        _, plan = await conn.execute_query(
            "EXPLAIN QUERY PLAN " + sql, [viber.id, "2024-01-01", 10, "%x%"]
        )
    assert "raw_events_chat_opened" in " ".join(str(tuple(row)) for row in plan)
