"""A loopback Telegram Bot API server that answers the way api.telegram.org does.

Point aiogram at it with
`Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))`.

Fault kinds for `fail_next(method, kind=...)`: "429" (flood wait with retry_after),
"400", "401", "403" (bot blocked), "404", "409", "500" (JSON errors as Telegram sends them),
"502" (nginx HTML page, as Telegram's front end answers when the backend is down),
"disconnect" (connection closed without an answer).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Fault, drop_connection, html_error, json_response
from tests.fakes.limits import Limits

Handler = Callable[[dict[str, Any], str], Awaitable[Any]]

MAX_TEXT = 4096  # a message's text after entity parsing, in UTF-16 code units
MAX_CAPTION = 1024  # a caption, likewise
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
JSON_FIELDS = frozenset(
    "reply_markup entities caption_entities allowed_updates commands scope "
    "link_preview_options reply_parameters media results options message_ids "
    "input_message_content permissions".split()
)
INT_FIELDS = frozenset(
    "message_id offset limit timeout max_connections from_chat_id reply_to_message_id "
    "message_thread_id cache_time user_id duration width height".split()
)
BOOL_FIELDS = frozenset(
    "disable_notification protect_content drop_pending_updates show_alert has_spoiler "
    "disable_web_page_preview allow_sending_without_reply disable_content_type_detection".split()
)
FAULTS: dict[str, tuple[int, str]] = {
    "400": (400, "Bad Request: chat not found"),
    "401": (401, "Unauthorized"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "404": (404, "Not Found"),
    "409": (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    ),
    "500": (500, "Internal Server Error"),
}


class TelegramError(Exception):
    """An error answer: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart part (aiogram's `attach://` convention resolved)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


def ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return json_response(body)


def error(err: TelegramError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return json_response(body, status=err.code)


# -- request decoding -----------------------------------------------------------------------


async def read_params(request: web.Request) -> dict[str, Any]:
    """Decode a Bot API call sent as query string, urlencoded/multipart form or JSON."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await request.json())
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
    for key, value in list(raw.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            raw[key] = raw.pop(value.removeprefix("attach://"), value)
    return {key: decode_value(key, value) for key, value in raw.items()}


def decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in JSON_FIELDS and value[:1] in ("{", "["):
            return json.loads(value)
        if key in INT_FIELDS or (key == "chat_id" and value.lstrip("-").isdigit()):
            return int(value)
        if key in BOOL_FIELDS:
            return value.lower() in ("true", "1")
    except ValueError:
        raise bad_request(f"can't parse {key}") from None
    return value


# -- formatted text -------------------------------------------------------------------------

HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>")
HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")
ENTITY_TEXT = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
MDV2_RESERVED = frozenset("#+-={}.!")
MDV2_MARKUP = frozenset("_*~|>[]`")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram stores for `text` under `parse_mode`; 400 when it cannot parse."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"[*_`]", "", text)
    return text


def parse_html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        offset = len(text[:i].encode())
        if char == "<":
            match = HTML_TAG_RE.match(text, i)
            if match is None:
                raise bad_request(
                    f"can't parse entities: Unexpected end of name token at byte offset {offset}"
                )
            closing, name = match.group(1), match.group(2).lower()
            if not closing and name not in HTML_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            if not closing:
                stack.append(name)
            elif not stack or stack[-1] != name:
                expected = f'expected "</{stack[-1]}>", ' if stack else ""
                raise bad_request(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'{expected}found "</{name}>"'
                )
            else:
                stack.pop()
            i = match.end()
        elif char == "&" and (entity := HTML_ENTITY_RE.match(text, i)):
            name = entity.group(1)
            if name.startswith("#x"):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            else:
                out.append(ENTITY_TEXT[name])
            i = entity.end()
        else:
            out.append(char)
            i += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    i, in_code, in_url = 0, False, False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            in_code = not in_code
        elif in_code:
            out.append(char)
        elif in_url:
            in_url = char != ")"
        elif char == "(" and text[i - 1 : i] == "]":
            in_url = True
        elif char in MDV2_RESERVED or char in "()":
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        elif char not in MDV2_MARKUP:
            out.append(char)
        i += 1
    return "".join(out)


# -- the server -----------------------------------------------------------------------------

Chat = dict[str, Any]
Message = dict[str, Any]


class TelegramAPI(FakeServer):
    """Fake of api.telegram.org for any number of bots (the bot id is the token's prefix).

    State tests may read or arrange: `delivered` (every message the bot sent, as returned),
    `messages` (current state of live messages by `(chat_id, message_id)`), `chats`,
    `blocked`, `files`, `webhook`, `commands`, `answered_callbacks`, `pending_updates`.
    """

    fault_kinds = frozenset({*FAULTS, "429", "502", "disconnect"})

    def __init__(
        self,
        *,
        bot_username: str = "crmhub_test_bot",
        bot_name: str = "CRM Hub",
        tokens: Iterable[str] | None = None,
        rate_limits: bool = False,
    ) -> None:
        super().__init__()
        # Telegram's flood control, when asked for: about 30 messages a second per bot and
        # one a second per chat (a short burst of two allowed); past it 429, retry_after 1.
        self.limits = Limits(bot=(30.0, 30.0), chat=(1.0, 2.0)) if rate_limits else None
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.tokens = set(tokens) if tokens is not None else None
        self.delivered: list[Message] = []
        self.messages: dict[tuple[int | str, int], Message] = {}
        self.chats: dict[int | str, Chat] = {}
        self.blocked: set[int | str] = set()
        self.files: dict[str, StoredFile] = {}
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.pending_updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._message_ids: dict[int | str, itertools.count[int]] = {}
        self._file_seq = itertools.count(1)
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
            }.items()
        }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    # -- arranging state ---------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update for getUpdates; update_id is (re)assigned to keep ids increasing.

        Messages it carries (a callback query's too) become known, so the bot can reply to
        or edit them as it could on Telegram.
        """
        update = dict(update)
        if int(update.get("update_id", 0)) < self._next_update_id:
            update["update_id"] = self._next_update_id
        self._next_update_id = update["update_id"] + 1
        for message in (
            update.get("message"),
            update.get("edited_message"),
            update.get("callback_query", {}).get("message"),
        ):
            if message and "chat" in message:
                self.messages[(message["chat"]["id"], message["message_id"])] = message
        self.pending_updates.append(update)
        self.notify()
        return update

    def add_chat(self, chat: Chat) -> Chat:
        """Make a chat known (e.g. with a username for `@name` lookups)."""
        self.chats[chat["id"]] = chat
        return chat

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403."""
        self.blocked.add(chat_id)

    def add_file(self, data: bytes, file_path: str = "", file_id: str = "") -> StoredFile:
        """Store a file as if a user had sent it; getFile and the download URL serve it."""
        seq = next(self._file_seq)
        stored = StoredFile(
            file_id=file_id or f"BQACAgIAAxkBAAIB{seq:08d}",
            file_unique_id=f"AgADBA{seq:06d}",
            file_path=file_path or f"documents/file_{seq}",
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    def bot_user(self, token: str) -> dict[str, Any]:
        return {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token, name = request.match_info["token"], request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        try:
            params = await read_params(request)
        except (TelegramError, ValueError):
            self.record(method, {}, token)
            return error(bad_request("can't parse request JSON object"))
        if not TOKEN_RE.match(token) or handler is None:
            self.record(method, params, token)
            return error(TelegramError(404, "Not Found"))
        if self.tokens is not None and token not in self.tokens:
            self.record(method, params, token)
            return error(TelegramError(401, "Unauthorized"))
        fault = self.take_fault(method)
        self.record(method, params, token, fault)
        if fault is not None:
            return await self._fault_response(request, fault)
        try:
            result = await handler(params, token)
        except TelegramError as err:
            return error(err)
        return result if isinstance(result, web.StreamResponse) else ok(result)

    async def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "429":
            seconds = fault.retry_after
            return error(
                TelegramError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
            )
        if fault.kind == "502":
            return html_error(502)
        if fault.kind == "disconnect":
            return await drop_connection(request)
        return error(TelegramError(*FAULTS[fault.kind]))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return error(TelegramError(404, "Not Found"))

    # -- methods -----------------------------------------------------------------------------

    async def _get_me(self, p: dict[str, Any], token: str) -> Any:
        return {
            **self.bot_user(token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: dict[str, Any], token: str) -> Any:
        if self.webhook.get("url"):
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get("offset", 0)
        if offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        limit = min(max(p.get("limit", 100), 1), 100)
        allowed = set(p.get("allowed_updates") or ())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(p.get("timeout", 0), 50)
        while True:
            found = [u for u in self.pending_updates if not allowed or allowed & u.keys()]
            remaining = deadline - loop.time()
            if found or remaining <= 0 or self.closing:
                return found[:limit]
            await self.wait_changed(remaining)

    async def _send_message(self, p: dict[str, Any], token: str) -> Any:
        text = plain_text(p.get("text", ""), p.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return self._deliver(p, token, {"text": text})

    async def _send_photo(self, p: dict[str, Any], token: str) -> Any:
        full = self._store_media(p.get("photo"), "photo", "photos", ".jpg")
        thumb = self.add_file(full.data, f"photos/file_{next(self._file_seq)}.jpg")
        sizes = [
            {**self._media(thumb), "width": 90, "height": 67},
            {**self._media(full), "width": 800, "height": 600},
        ]
        return self._deliver(p, token, {"photo": sizes, **self._caption(p)})

    async def _send_document(self, p: dict[str, Any], token: str) -> Any:
        value = p.get("document")
        stored = self._store_media(value, "document", "documents", "")
        document = self._media(stored)
        if isinstance(value, Upload):
            document |= {"file_name": value.filename, "mime_type": value.content_type}
        elif isinstance(value, str) and value.startswith("http"):
            document["file_name"] = value.rsplit("/", 1)[-1]
        return self._deliver(p, token, {"document": document, **self._caption(p)})

    async def _send_chat_action(self, p: dict[str, Any], token: str) -> Any:
        self._chat(p.get("chat_id"))
        return True

    async def _edit_message_text(self, p: dict[str, Any], token: str) -> Any:
        if p.get("inline_message_id"):
            return True
        text = plain_text(p.get("text", ""), p.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")  # what Telegram answers to an edit
        message = self._own_message(p, token)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        markup = inline_markup(p)
        if message["text"] == text and message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._replace(message, text=text, reply_markup=markup)

    async def _edit_message_reply_markup(self, p: dict[str, Any], token: str) -> Any:
        if p.get("inline_message_id"):
            return True
        message = self._own_message(p, token)
        markup = inline_markup(p)
        if message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._replace(message, reply_markup=markup)

    async def _delete_message(self, p: dict[str, Any], token: str) -> Any:
        key = (self._chat(p.get("chat_id"))["id"], p.get("message_id", 0))
        if self.messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _answer_callback_query(self, p: dict[str, Any], token: str) -> Any:
        query_id = str(p.get("callback_query_id", ""))
        if not query_id or query_id in self.answered_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(p.get("text", "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answered_callbacks[query_id] = p
        return True

    async def _get_file(self, p: dict[str, Any], token: str) -> Any:
        stored = self.files.get(p.get("file_id", ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_file()

    async def _set_webhook(self, p: dict[str, Any], token: str) -> Any:
        url = p.get("url", "")
        if not url:
            return await self._delete_webhook(p, token)
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self.pending_updates.clear()
        already = self.webhook.get("url") == url
        self.webhook = {"url": url, "max_connections": p.get("max_connections", 40)}
        self.webhook |= {k: p[k] for k in ("secret_token", "allowed_updates") if k in p}
        return ok(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, p: dict[str, Any], token: str) -> Any:
        if p.get("drop_pending_updates"):
            self.pending_updates.clear()
        existed, self.webhook = bool(self.webhook), {}
        return ok(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def _get_webhook_info(self, p: dict[str, Any], token: str) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        if self.webhook:
            info |= {"max_connections": self.webhook["max_connections"], "ip_address": self.host}
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _set_my_commands(self, p: dict[str, Any], token: str) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[commands_key(p)] = commands
        return True

    async def _get_my_commands(self, p: dict[str, Any], token: str) -> Any:
        return self.commands.get(commands_key(p), [])

    async def _delete_my_commands(self, p: dict[str, Any], token: str) -> Any:
        self.commands.pop(commands_key(p), None)
        return True

    # -- helpers -----------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> Chat:
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        if chat_id in self.chats:
            return self.chats[chat_id]
        if isinstance(chat_id, str):
            for chat in self.chats.values():
                if f"@{chat.get('username')}" == chat_id:
                    return chat
            raise bad_request("chat not found")
        if chat_id > 0:
            return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": f"Group {chat_id}", "type": kind}

    def _deliver(self, p: dict[str, Any], token: str, content: dict[str, Any]) -> Message:
        chat = self._chat(p.get("chat_id"))
        if chat["id"] in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        if self.limits is not None and not self.limits.allow(bot=token, chat=chat["id"]):
            raise TelegramError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        message: Message = {
            "message_id": next(counter),
            "from": self.bot_user(token),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        reply = p.get("reply_parameters") or {"message_id": p.get("reply_to_message_id")}
        if reply.get("message_id"):
            original = self.messages.get((chat["id"], reply["message_id"]))
            if original is not None:
                message["reply_to_message"] = original
            elif not (
                reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")
            ):
                raise bad_request("message to be replied not found")
        if markup := inline_markup(p):
            message["reply_markup"] = markup
        self.messages[(chat["id"], message["message_id"])] = message
        self.delivered.append(message)
        return message

    def _own_message(self, p: dict[str, Any], token: str) -> Message:
        key = (self._chat(p.get("chat_id"))["id"], p.get("message_id", 0))
        message = self.messages.get(key)
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user(token)["id"]:
            raise bad_request("message can't be edited")
        return message

    def _replace(self, message: Message, **changes: Any) -> Message:
        updated = {**message, **changes, "edit_date": int(time.time())}
        if updated.get("reply_markup") is None:
            updated.pop("reply_markup", None)
        self.messages[(message["chat"]["id"], message["message_id"])] = updated
        return updated

    def _store_media(self, value: Any, field: str, folder: str, ext: str) -> StoredFile:
        if isinstance(value, Upload):
            suffix = ext or PurePosixPath(value.filename).suffix
            return self.add_file(value.data, f"{folder}/file_{next(self._file_seq)}{suffix}")
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.add_file(b"", f"{folder}/file_{next(self._file_seq)}{ext}")
        if not value:
            raise bad_request(f"there is no {field} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _media(self, stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }

    def _caption(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("caption"):
            return {}
        caption = plain_text(p["caption"], p.get("parse_mode"))
        if utf16_length(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return {"caption": caption}


def inline_markup(p: dict[str, Any]) -> dict[str, Any] | None:
    """Telegram echoes back inline keyboards only; reply keyboards are not part of a Message."""
    markup = p.get("reply_markup")
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


def commands_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {}
    return scope.get("type", "default"), p.get("language_code", "")
