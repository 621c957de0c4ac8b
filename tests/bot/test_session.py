"""The bot's Bot API session: calls go out as one JSON body (keyboards nested, bot defaults
applied, empty values left out), uploads as aiogram's multipart form, and Telegram's
errors and unreachable servers surface as aiogram's exceptions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
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
        return web.json_response(
            {"ok": True, "result": True if method == "answerCallbackQuery" else MESSAGE}
        )


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
    from bot.methods import Sent, call
    from bot.views import Card, edit_card, edit_keyboard, send_card

    recorder, base = api
    bot = create_bot(TOKEN, base)
    markup = Keyboard(Signer("s"), 42).add("Deal", "do", 1).markup()
    model = InlineKeyboardMarkup.model_validate(markup)
    try:
        await bot.send_message(42, "<b>Card</b>", reply_markup=model)
        sent = await send_card(bot, 42, Card(["<b>Card</b>"], markup))
        await bot.edit_message_text("<b>Card</b>", chat_id=42, message_id=7, reply_markup=model)
        assert await edit_card(bot, 42, 7, Card(["<b>Card</b>"], markup))
        await bot.edit_message_reply_markup(chat_id=42, message_id=7, reply_markup=model)
        assert await edit_keyboard(bot, 42, 7, markup)
        await bot.send_message(
            42,
            "<b>Re</b>",
            reply_parameters=ReplyParameters(message_id=5, allow_sending_without_reply=True),
        )
        await send_card(bot, 42, Card(["<b>Re</b>"]), reply_to=5)
        answer = await call(bot, "editMessageText", {"chat_id": 42, "message_id": 7, "text": "x"})
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await call(bot, "editMessageText", {"chat_id": 13, "message_id": 7, "text": "x"})
        assert not await edit_card(bot, 13, 7, Card(["x"]))  # refused: False, not raised
    finally:
        await bot.session.close()
    assert sent == [Sent(chat_id=42, message_id=7)]
    assert answer == MESSAGE  # Telegram's JSON, not parsed
    calls = recorder.requests[:8]
    assert [method for method, _, _ in calls] == [
        "sendMessage",
        "sendMessage",
        "editMessageText",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageReplyMarkup",
        "sendMessage",
        "sendMessage",
    ]
    for (_, _, aiograms), (_, _, ours) in zip(calls[::2], calls[1::2], strict=True):
        assert ours == aiograms  # the very same calls, defaults and all
    assert all(content_type == "application/json" for _, content_type, _ in calls)


async def test_a_callback_answer_is_read_without_aiograms_models(
    api: tuple[Recorder, str],
) -> None:
    recorder, base = api
    bot = create_bot(TOKEN, base)
    try:
        assert await bot.answer_callback_query("q1", text="Done") is True
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.edit_message_reply_markup(chat_id=13, message_id=7)
    finally:
        await bot.session.close()
    assert recorder.requests[0] == (
        "answerCallbackQuery",
        "application/json",
        {"callback_query_id": "q1", "text": "Done"},
    )
