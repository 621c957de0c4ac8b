"""The bot's Bot API session: calls go out as one JSON body (keyboards nested, bot defaults
applied, empty values left out), uploads as aiogram's multipart form, and Telegram's
errors and unreachable servers surface as aiogram's exceptions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_bot

TOKEN = "7500000005:AAHsessionTestToken_00000000000005"
MESSAGE = {
    "message_id": 7,
    "date": 1_700_000_000,
    "chat": {"id": 42, "type": "private", "first_name": "M"},
    "text": "hi",
}


class Recorder:
    """A loopback Bot API that answers every call with MESSAGE (or an error for chat 13)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {
                k: (v.filename if isinstance(v, web.FileField) else v) for k, v in form.items()
            }
        self.requests.append((method, request.content_type, params))
        if str(params.get("chat_id")) == "13":
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                status=400,
            )
        return web.json_response({"ok": True, "result": MESSAGE})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield recorder, str(server.make_url("")).rstrip("/")
    await server.close()


async def test_a_call_is_one_json_body(api: tuple[Recorder, str]) -> None:
    recorder, base = api
    bot = create_bot(TOKEN, base)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Tom & <Jerry>", callback_data="x:1")]]
    )
    try:
        sent = await bot.send_message(42, "<b>hi</b> & ok", reply_markup=markup)
    finally:
        await bot.session.close()
    assert sent.message_id == 7 and sent.chat.id == 42
    method, content_type, params = recorder.requests[0]
    assert (method, content_type) == ("sendMessage", "application/json")
    assert params == {
        "chat_id": 42,
        "text": "<b>hi</b> & ok",
        "parse_mode": "HTML",  # the bot's default, resolved
        "link_preview_options": {"is_disabled": True},
        "disable_web_page_preview": True,  # aiogram sends the old name too, form or JSON
        "reply_markup": {"inline_keyboard": [[{"text": "Tom & <Jerry>", "callback_data": "x:1"}]]},
    }


async def test_an_upload_keeps_the_multipart_form(api: tuple[Recorder, str]) -> None:
    recorder, base = api
    bot = create_bot(TOKEN, base)
    try:
        await bot.send_document(42, BufferedInputFile(b"%PDF-1.4", "offer.pdf"), caption="Offer")
    finally:
        await bot.session.close()
    method, content_type, params = recorder.requests[0]
    assert (method, content_type) == ("sendDocument", "multipart/form-data")
    assert params["chat_id"] == "42" and params["caption"] == "Offer"
    assert params["document"].startswith("attach://")
    assert params[params["document"].removeprefix("attach://")] == "offer.pdf"


async def test_telegram_errors_and_dead_servers_raise_aiograms_exceptions(
    api: tuple[Recorder, str], unused_tcp_port: int
) -> None:
    _, base = api
    bot = create_bot(TOKEN, base)
    try:
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(13, "hi")
    finally:
        await bot.session.close()
    dead = create_bot(TOKEN, f"http://127.0.0.1:{unused_tcp_port}")
    try:
        with pytest.raises(TelegramNetworkError):
            await dead.send_message(42, "hi")
    finally:
        await dead.session.close()


def test_json_body_leaves_out_what_the_form_leaves_out() -> None:
    from aiogram.methods import AnswerCallbackQuery

    bot = create_bot(TOKEN, "http://127.0.0.1:9")
    body = bot.session.json_body(bot, AnswerCallbackQuery(callback_query_id="q1"))  # type: ignore[attr-defined]
    assert body is not None and json.loads(body) == {"callback_query_id": "q1"}


async def test_cards_go_out_as_aiogram_sends_them_and_their_answers_stay_json(
    api: tuple[Recorder, str],
) -> None:
    from bot.callbacks import Keyboard, Signer
    from bot.methods import EditCard, Sent
    from bot.views import Card, edit_card, send_card

    recorder, base = api
    bot = create_bot(TOKEN, base)
    markup = Keyboard(Signer("s"), 42).add("Deal", "do", 1).markup()
    try:
        await bot.send_message(42, "<b>Card</b>", reply_markup=markup)
        sent = await send_card(bot, 42, Card(["<b>Card</b>"], markup))
        await bot.edit_message_text("<b>Card</b>", chat_id=42, message_id=7, reply_markup=markup)
        assert await edit_card(bot, 42, 7, Card(["<b>Card</b>"], markup))
        answer = await bot(EditCard(text="x", chat_id=42, message_id=7))
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot(EditCard(text="x", chat_id=13, message_id=7))
    finally:
        await bot.session.close()
    assert sent == [Sent(chat_id=42, message_id=7)]
    assert answer == MESSAGE  # Telegram's JSON, not parsed
    (plain_send, _, p1), (card_send, _, p2), (plain_edit, _, p3), (card_edit, _, p4) = (
        recorder.requests[:4]
    )
    assert (plain_send, card_send, plain_edit, card_edit) == (
        "sendMessage",
        "sendMessage",
        "editMessageText",
        "editMessageText",
    )
    assert p1 == p2 and p3 == p4  # the very same calls
