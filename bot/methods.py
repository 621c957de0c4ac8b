"""Bot API calls as JSON bodies, and the bot's own cards sent without aiogram's models.

aiogram builds every call as a pydantic model, dumps it, walks the dump to resolve the bot's
defaults, and parses Telegram's answer into models again: for a card with a keyboard that is
most of the call's CPU. The bot's cards (send, edit, keyboard edit) are plain JSON from start
to end instead (`call`): the body is built as Telegram takes it, and of the answer the bot
reads only a sent card's ids (`Sent`). The body is the same aiogram would send
(tests/bot/test_session.py compares them), and a failed call raises aiogram's own
exceptions (TelegramBadRequest and the rest), its method rebuilt from the body for them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage, TelegramMethod
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}
MODELS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "editMessageText": EditMessageText,
    "editMessageReplyMarkup": EditMessageReplyMarkup,
}


async def post_json(
    bot: Bot,
    name: str,
    body: str,
    timeout: float | None,  # noqa: ASYNC109 (aiogram's per-call timeout)
    method: TelegramMethod[Any] | None = None,
) -> tuple[int, str]:
    """POST `body` to Bot API method `name`; (HTTP status, answer text). A network failure
    raises TelegramNetworkError, for `method` (rebuilt from the body when not given)."""
    session = cast(AiohttpSession, bot.session)
    http = await session.create_session()
    url = session.api.api_url(token=bot.token, method=name)
    try:
        async with http.post(
            url,
            data=body,
            headers=JSON_HEADERS,
            timeout=ClientTimeout(total=session.timeout if timeout is None else timeout),
        ) as resp:
            return resp.status, await resp.text()
    except TimeoutError as e:
        failed = method or MODELS[name].model_validate(json.loads(body))
        raise TelegramNetworkError(method=failed, message="Request timeout error") from e
    except ClientError as e:
        failed = method or MODELS[name].model_validate(json.loads(body))
        raise TelegramNetworkError(method=failed, message=f"{type(e).__name__}: {e}") from e


async def call(bot: Bot, name: str, params: dict[str, Any]) -> Any:
    """Call `name` (one of MODELS) with `params` as Telegram takes them; its `result` as
    JSON. Telegram's refusal raises what aiogram raises for it."""
    body = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
    status, content = await post_json(bot, name, body, None)
    try:
        answer = json.loads(content)
    except ValueError:
        answer = None
    if status == 200 and isinstance(answer, dict) and answer.get("ok"):
        return answer.get("result")
    method = MODELS[name].model_validate(params)
    bot.session.check_response(bot=bot, method=method, status_code=status, content=content)
    raise TelegramAPIError(method=method, message=f"unexpected answer: {content[:200]}")


def defaults(bot: Bot) -> dict[str, Any]:
    """What aiogram adds to a sendMessage or editMessageText from the bot's defaults."""
    default = bot.default
    params: dict[str, Any] = {}
    if default.parse_mode:
        params["parse_mode"] = default.parse_mode
    if default.link_preview is not None:
        params["link_preview_options"] = default.link_preview.model_dump(exclude_none=True)
    if default.link_preview_is_disabled is not None:  # the old name, as aiogram sends it
        params["disable_web_page_preview"] = default.link_preview_is_disabled
    return params


@dataclass(frozen=True)
class Sent:
    """A message the bot sent: where it is."""

    chat_id: int
    message_id: int

    @classmethod
    def of(cls, message: dict[str, Any]) -> Sent:
        return cls(chat_id=int(message["chat"]["id"]), message_id=int(message["message_id"]))
