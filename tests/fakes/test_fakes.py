"""The fakes behave as the platforms do, as seen through the real client libraries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import vk_api
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web
from aiohttp.test_utils import TestServer
from vk_api.bot_longpoll import VkBotEventType, VkBotLongPoll, VkBotMessageEvent
from vk_api.upload import VkUpload

from tests.fakes.base import FIXTURES, load_fixture
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI, signature
from tests.fakes.vk_api import RewritingSession, VkAPI

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
VK_TOKEN = "vk1.a.community-token"
VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[row])


# -- Telegram --------------------------------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


@pytest.fixture
async def bot(telegram: TelegramAPI) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


async def test_aiogram_conversation_round_trip(telegram: TelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username) == (7012345678, "crmhub_test_bot")

    sent = await bot.send_message(
        42, "Когда удобно созвониться?", reply_markup=keyboard(("Сейчас", "now"))
    )
    second = await bot.send_message(42, "Жду ответа")
    assert (sent.message_id, second.message_id) == (1, 2)
    assert sent.chat.id == 42 and sent.chat.type == "private"
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "now"
    call = telegram.calls_to("sendMessage")[0]
    assert call.token == TOKEN and call.params["chat_id"] == 42
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Сейчас", "callback_data": "now"}]]
    }

    edited = await bot.edit_message_text(
        "Созвонимся завтра", chat_id=42, message_id=1, reply_markup=keyboard(("Ок", "ok"))
    )
    assert not isinstance(edited, bool) and edited.text == "Созвонимся завтра"
    assert edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=42, message_id=1, reply_markup=keyboard(("Ок", "ok"))
        )
    await bot.edit_message_reply_markup(chat_id=42, message_id=1)
    assert "reply_markup" not in telegram.messages[(42, 1)]

    assert await bot.answer_callback_query("cbq-1", text="Готово")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("cbq-1")
    assert await bot.delete_message(42, 2)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(42, 2)
    assert [m["text"] for m in telegram.delivered] == ["Когда удобно созвониться?", "Жду ответа"]


async def test_injected_faults_raise_aiogram_errors(telegram: TelegramAPI, bot: Bot) -> None:
    telegram.fail_next("sendMessage", kind="429", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(42, "раз")
    assert flood.value.retry_after == 3

    telegram.fail_next("sendMessage", kind="403")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(42, "два")

    telegram.fail_next("getMe", kind="disconnect")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()

    await bot.send_message(42, "три")
    assert [c.fault for c in telegram.calls_to("sendMessage")] == ["429", "403", None]
    assert len(telegram.delivered) == 1


async def test_blocked_user_bad_markup_and_unknown_method(telegram: TelegramAPI, bot: Bot) -> None:
    telegram.block(42)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(42, "Здравствуйте")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(7, "<div>Иван</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(7, "Итого: 5.000 ₽", parse_mode="MarkdownV2")
    message = await bot.send_message(7, "<b>Иван</b> &lt;VIP&gt;", parse_mode="HTML")
    assert message.text == "Иван <VIP>"

    class UnknownMethod(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendTelepathy"

    with pytest.raises(TelegramNotFound):
        await bot(UnknownMethod())


async def test_unknown_token_is_unauthorized() -> None:
    async with TelegramAPI(tokens={"1:valid"}) as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        async with Bot(TOKEN, session=session) as bot:
            with pytest.raises(TelegramUnauthorizedError):
                await bot.get_me()


async def test_get_updates_long_poll_and_offset(telegram: TelegramAPI, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=1))
    await telegram.wait_for_calls("getUpdates")
    pushed = telegram.push_update(load_fixture("telegram", "message_text"))
    updates = await poll
    assert time.monotonic() - started < 0.9
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    assert updates[0].message is not None and updates[0].message.text is not None

    telegram.push_update(load_fixture("telegram", "callback_query"))
    updates = await bot.get_updates(offset=pushed["update_id"] + 1, timeout=0)
    assert [u.callback_query.data for u in updates if u.callback_query] == ["call:42:confirm"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_dispatcher_polling_answers_pushed_updates(telegram: TelegramAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Получили: {message.text}")

    @dp.callback_query()
    async def confirm(query: CallbackQuery) -> None:
        await query.answer("Записали")
        if isinstance(query.message, Message):
            await query.message.edit_text("Звонок подтверждён")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        telegram.push_update(load_fixture("telegram", "start_deeplink"))
        telegram.push_update(load_fixture("telegram", "callback_query"))
        await telegram.wait_for_calls("editMessageText")
    finally:
        await dp.stop_polling()
        await polling
    assert telegram.delivered[0]["text"] == "Получили: /start promo_spring"
    assert telegram.messages[(5123456789, 57)]["text"] == "Звонок подтверждён"
    assert "4382946021234567890" in telegram.answered_callbacks


async def test_upload_get_file_and_download(telegram: TelegramAPI, bot: Bot) -> None:
    document = BufferedInputFile(b"%PDF-1.7 invoice", filename="Счёт №17.pdf")
    message = await bot.send_document(42, document, caption="Счёт на оплату")
    assert message.document is not None and message.document.file_name == "Счёт №17.pdf"
    assert telegram.calls_to("sendDocument")[0].params["document"].data == b"%PDF-1.7 invoice"
    downloaded = await bot.download(message.document.file_id)
    assert downloaded is not None and downloaded.read() == b"%PDF-1.7 invoice"

    voice = telegram.add_file(b"OggS...", "voice/file_9.oga", file_id="AwACAgIAAxkBAAIBaGZa")
    file = await bot.get_file(voice.file_id)
    assert file.file_path == "voice/file_9.oga"
    photo = await bot.send_photo(42, "https://example.com/sofa.jpg", caption="Диван")
    assert photo.photo is not None and len(photo.photo) == 2


async def test_text_limits_count_utf16_units_after_entity_parsing(
    telegram: TelegramAPI, bot: Bot
) -> None:
    # 4,096 visible characters pass however long their HTML is
    tagged = "<b>" + "&lt;" * 4000 + "</b>" + "x" * 96
    sent = await bot.send_message(42, tagged, parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096
    # an emoji outside the BMP is two units: 2,049 of them are 4,098, too long
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(42, "😀" * 2049)
    await bot.send_message(42, "😀" * 2048)
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.edit_message_text("я" * 4097, chat_id=42, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(42, "https://example.com/a.jpg", caption="😀" * 513)
    await bot.send_photo(42, "https://example.com/a.jpg", caption="😀" * 512)


async def test_webhook_blocks_get_updates(telegram: TelegramAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://crm.example.com/tg")
    assert await bot.set_webhook("https://crm.example.com/tg", secret_token="s3cr3t")
    info = await bot.get_webhook_info()
    assert info.url == "https://crm.example.com/tg"
    with pytest.raises(Exception, match="Conflict: can't use getUpdates"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIXTURES / "telegram").glob("*.json")))
def test_telegram_fixtures_are_valid_updates(name: str) -> None:
    update = Update.model_validate(load_fixture("telegram", name))
    assert update.event_type in {"message", "edited_message", "callback_query", "my_chat_member"}


# -- VK --------------------------------------------------------------------------------------


@pytest.fixture
async def vk_fake() -> AsyncIterator[VkAPI]:
    async with VkAPI() as fake:
        yield fake


@pytest.fixture
def vk(vk_fake: VkAPI) -> Iterator[vk_api.VkApi]:
    session = RewritingSession(vk_fake.base_url)
    client = vk_api.VkApi(token=VK_TOKEN, api_version="5.199", session=session)
    client.RPS_DELAY = 0
    yield client
    session.close()


async def vk_call(client: vk_api.VkApi, method: str, **values: Any) -> Any:
    return await asyncio.to_thread(client.method, method, values)


async def test_vk_messages_send_deduplicates_by_random_id(vk_fake: VkAPI, vk: vk_api.VkApi) -> None:
    first = await vk_call(vk, "messages.send", peer_id=612345678, random_id=17, message="Привет")
    again = await vk_call(vk, "messages.send", peer_id=612345678, random_id=17, message="Привет")
    other = await vk_call(vk, "messages.send", peer_id=612345678, random_id=18, message="Ещё")
    assert first == again != other
    assert [m.text for m in vk_fake.delivered] == ["Привет", "Ещё"]
    call = vk_fake.calls_to("messages.send")[0]
    assert call.token == VK_TOKEN and call.params["v"] == "5.199"

    groups = await vk_call(vk, "groups.getById")
    assert groups["groups"][0]["id"] == vk_fake.group_id
    vk_fake.add_user(612345678, "Ирина", "Соколова")
    users = await vk_call(vk, "users.get", user_ids="612345678")
    assert users[0]["first_name"] == "Ирина"


async def test_vk_errors_in_vk_format(vk_fake: VkAPI, vk: vk_api.VkApi) -> None:
    vk_fake.deny_messages(5)
    with pytest.raises(vk_api.ApiError) as denied:
        await vk_call(vk, "messages.send", peer_id=5, random_id=1, message="Здравствуйте")
    assert denied.value.code == 901
    with pytest.raises(vk_api.ApiError) as no_random:
        await vk_call(vk, "messages.send", peer_id=6, message="Здравствуйте")
    assert no_random.value.code == 100

    vk_fake.fail_next("messages.send", kind="429")  # vk_api sleeps 0.5 s and retries code 6
    assert await vk_call(vk, "messages.send", peer_id=6, random_id=2, message="Раз")
    assert [c.fault for c in vk_fake.calls_to("messages.send")][-2:] == ["429", None]

    vk_fake.fail_next("messages.send", kind="10")
    with pytest.raises(vk_api.ApiError) as internal:
        await vk_call(vk, "messages.send", peer_id=6, random_id=3, message="Два")
    assert internal.value.code == 10
    assert internal.value.error["request_params"][0] == {"key": "method", "value": "messages.send"}

    vk_fake.fail_next("groups.getById", kind="500")
    with pytest.raises(vk_api.ApiHttpError):
        await vk_call(vk, "groups.getById")


async def test_vk_upload_flow_through_vk_apis_own_uploader(
    vk_fake: VkAPI, vk: vk_api.VkApi
) -> None:
    upload = VkUpload(vk)  # posts to the upload_url itself: the fake's /upload/...
    photo = io.BytesIO(b"\xff\xd8JPEG sofa")
    photo.name = "sofa.jpg"
    (saved,) = await asyncio.to_thread(upload.photo_messages, photo, peer_id=612345678)
    doc = io.BytesIO(b"%PDF offer")
    doc.name = "offer.pdf"
    answer = await asyncio.to_thread(upload.document_message, doc, "Offer.pdf", peer_id=612345678)
    assert answer["type"] == "doc" and answer["doc"]["title"] == "Offer.pdf"
    photo_ref = f"photo{saved['owner_id']}_{saved['id']}_{saved['access_key']}"
    doc_ref = f"doc{answer['doc']['owner_id']}_{answer['doc']['id']}"
    attachment = f"{photo_ref},{doc_ref}"
    await vk_call(vk, "messages.send", peer_id=612345678, random_id=5, attachment=attachment)
    (message,) = vk_fake.delivered
    assert [m.content for m in vk_fake.media_of(message)] == [b"\xff\xd8JPEG sofa", b"%PDF offer"]
    assert [u.field for u in vk_fake.uploads] == ["file0", "file"]

    with pytest.raises(vk_api.ApiError) as unknown:  # our community's, but never saved
        await vk_call(
            vk, "messages.send", peer_id=1, random_id=6, attachment=f"doc-{vk_fake.group_id}_1"
        )
    assert unknown.value.code == 100
    with pytest.raises(vk_api.ApiError) as no_key:  # a photo without its access key
        ref = f"photo{saved['owner_id']}_{saved['id']}"
        await vk_call(vk, "messages.send", peer_id=1, random_id=7, attachment=ref)
    assert no_key.value.code == 100


async def test_vk_upload_server_answers_and_refusals(vk_fake: VkAPI, vk: vk_api.VkApi) -> None:
    server = await vk_call(vk, "photos.getMessagesUploadServer", peer_id=612345678)
    assert server["album_id"] == -64 and server["group_id"] == vk_fake.group_id
    with pytest.raises(vk_api.ApiError):  # a community token must name the peer
        await vk_call(vk, "photos.getMessagesUploadServer")
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("photo", b"PNG", filename="a.png", content_type="image/png")
        async with session.post(server["upload_url"], data=form) as response:
            answer = await response.json(content_type=None)
        async with session.post(server["upload_url"], data={"x": "1"}) as response:
            assert (await response.json(content_type=None))["photo"] == "[]"
        docs = await vk_call(vk, "docs.getMessagesUploadServer", type="doc", peer_id=1)
        async with session.post(docs["upload_url"], data={"x": "1"}) as response:
            assert "error" in await response.json(content_type=None)
    with pytest.raises(vk_api.ApiError):  # the hash is checked
        await vk_call(vk, "photos.saveMessagesPhoto", **{**answer, "hash": "forged"})
    (saved,) = await vk_call(vk, "photos.saveMessagesPhoto", **answer)
    assert saved["owner_id"] == -vk_fake.group_id and saved["access_key"]
    assert vk_fake.uploads[0].content_type == "image/png"


async def test_vk_bot_long_poll_yields_pushed_events(vk_fake: VkAPI, vk: vk_api.VkApi) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, vk_fake.group_id, wait=1)
    try:
        check = asyncio.create_task(asyncio.to_thread(longpoll.check))
        await vk_fake.wait_for_calls("longpoll")
        raw = load_fixture("vk", "message_new")
        vk_fake.push_event({"type": raw["type"], "object": raw["object"]})
        events = await check
        assert [e.type for e in events] == [VkBotEventType.MESSAGE_NEW]
        assert events[0].message.text.startswith("Добрый день")

        vk_fake.fail_next("longpoll", kind="failed2")  # key expired: vk_api asks for a new one
        assert await asyncio.to_thread(longpoll.check) == []
        assert len(vk_fake.calls_to("groups.getLongPollServer")) == 2
        vk_fake.push_event(load_fixture("vk", "message_edit"))
        assert [e.type for e in await asyncio.to_thread(longpoll.check)] == [
            VkBotEventType.MESSAGE_EDIT
        ]
    finally:
        longpoll.session.close()


async def test_vk_echo_replies_and_callback_settings() -> None:
    async with VkAPI(echo_replies=True) as fake:
        client = vk_api.VkApi(
            token=VK_TOKEN, api_version="5.199", session=RewritingSession(fake.base_url)
        )
        client.RPS_DELAY = 0
        try:
            await vk_call(client, "messages.send", user_id=9, random_id=5, message="Эхо")
            assert fake.events[-1]["type"] == "message_reply"
            assert fake.events[-1]["object"]["out"] == 1
            code = await vk_call(
                client, "groups.getCallbackConfirmationCode", group_id=fake.group_id
            )
            server = await vk_call(
                client,
                "groups.addCallbackServer",
                group_id=fake.group_id,
                url="https://crm.example.com/vk",
                title="crmhub",
                secret_key="s3cr3t",
            )
            assert code == {"code": "a1b2c3d4"} and server == {"server_id": 1}
            assert (
                await vk_call(
                    client,
                    "groups.setCallbackSettings",
                    group_id=fake.group_id,
                    server_id=1,
                    api_version="5.199",
                    message_new=1,
                )
                == 1
            )
        finally:
            client.http.close()


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIXTURES / "vk").glob("*.json")))
def test_vk_fixtures_parse_as_callback_events(name: str) -> None:
    raw = load_fixture("vk", name)
    assert raw["v"] == "5.199" and raw["group_id"] == 229000001 and raw["secret"]
    if raw["type"] != "confirmation":
        event = VkBotMessageEvent(raw)  # message_edit/message_reply carry the message as object
        assert event.from_user and (event.message or event.obj).peer_id == 612345678


# -- Viber -----------------------------------------------------------------------------------


@pytest.fixture
async def viber() -> AsyncIterator[ViberAPI]:
    async with ViberAPI() as fake:
        yield fake


async def viber_call(fake: ViberAPI, method: str, body: Any, token: str = VIBER_TOKEN) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/pa/{method}", json=body, headers={"X-Viber-Auth-Token": token}
        ) as response,
    ):
        if response.status != 200:
            return response.status
        return await response.json()


def text_message(receiver: str, text: str) -> dict[str, Any]:
    return {"receiver": receiver, "type": "text", "text": text, "sender": {"name": "CRM Hub"}}


async def test_viber_webhook_is_verified_and_messages_delivered(viber: ViberAPI) -> None:
    received: list[tuple[bytes, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers["X-Viber-Content-Signature"]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/viber", webhook)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/viber"))
        answer = await viber_call(viber, "send_message", text_message("u1==", "Здравствуйте"))
        assert answer["status"] == 10

        answer = await viber_call(viber, "set_webhook", {"url": url})
        assert answer["status"] == 0 and "message" in answer["event_types"]
        body, signed = received[0]
        assert json.loads(body)["event"] == "webhook" and signed == signature(body, VIBER_TOKEN)

        answer = await viber_call(viber, "send_message", text_message("u1==", "Здравствуйте"))
        assert answer["status"] == 0 and answer["status_message"] == "ok"
        assert isinstance(answer["message_token"], int) and answer["chat_hostname"]
        assert viber.delivered[0].text == "Здравствуйте"

        assert await viber.send_callback(load_fixture("viber", "message_text")) == 200
        assert json.loads(received[-1][0])["sender"]["name"] == "Ольга Петрова"


async def test_viber_errors(viber: ViberAPI) -> None:
    viber.require_webhook = False
    viber.tokens = {VIBER_TOKEN}
    assert (await viber_call(viber, "get_account_info", {}, token="wrong"))["status"] == 2
    viber.unsubscribe("gone==")
    answer = await viber_call(viber, "send_message", text_message("gone==", "Вы тут?"))
    assert (answer["status"], answer["status_message"]) == (6, "notSubscribed")
    no_sender = {"receiver": "u1==", "type": "text", "text": "Привет"}
    assert (await viber_call(viber, "send_message", no_sender))["status"] == 3

    viber.fail_next("send_message", kind="429")
    viber.fail_next("send_message", kind="500")
    assert (await viber_call(viber, "send_message", text_message("u1==", "1")))["status"] == 12
    assert await viber_call(viber, "send_message", text_message("u1==", "2")) == 500
    assert (await viber_call(viber, "send_message", text_message("u1==", "3")))["status"] == 0
    assert [m.text for m in viber.delivered] == ["3"]
    info = await viber_call(viber, "get_account_info", {})
    assert info["status"] == 0 and info["id"].startswith("pa:")
    details = await viber_call(viber, "get_user_details", {"id": "u1=="})
    assert details["user"]["id"] == "u1=="


async def test_viber_downloads_loopback_media(viber: ViberAPI) -> None:
    viber.require_webhook = False

    async def media(request: web.Request) -> web.Response:
        if request.match_info["name"] == "gone.jpg":
            return web.Response(status=404)
        headers = {"Content-Disposition": 'inline; filename="sofa.jpg"'}
        return web.Response(body=b"JPEG bytes", content_type="image/jpeg", headers=headers)

    app = web.Application()
    app.router.add_get("/files/{name}", media)
    async with TestServer(app, host="127.0.0.1") as server:
        picture = {**text_message("u1==", "Диван"), "type": "picture"}
        picture["media"] = str(server.make_url("/files/sofa.jpg"))
        assert (await viber_call(viber, "send_message", picture))["status"] == 0
        (delivered,) = viber.delivered
        assert delivered.media is not None and delivered.media.content == b"JPEG bytes"
        assert delivered.media.content_type == "image/jpeg"
        picture["media"] = str(server.make_url("/files/gone.jpg"))
        assert (await viber_call(viber, "send_message", picture))["status"] == 1
        picture["media"] = str(server.make_url("/files/sofa"))
        assert (await viber_call(viber, "send_message", picture))["status"] == 3
    remote = {**picture, "media": "https://cdn.example.com/sofa.jpg"}  # trusted, not fetched
    assert (await viber_call(viber, "send_message", remote))["status"] == 0
    assert viber.delivered[-1].media is None


def test_viber_signature_is_hmac_sha256_of_the_body() -> None:
    body = (FIXTURES / "viber" / "message_text.json").read_bytes()
    expected = hmac.new(VIBER_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    assert signature(body, VIBER_TOKEN) == expected


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIXTURES / "viber").glob("*.json")))
def test_viber_fixtures_have_event_envelope(name: str) -> None:
    raw = load_fixture("viber", name)
    assert raw["event"] == ("message" if name.startswith("message_") else name)
    assert raw["timestamp"] > 10**12 and isinstance(raw["message_token"], int)
