"""Telegram: a customer-facing bot on the Bot API, through aiogram.

Credentials: `token` (from @BotFather), `webhook_secret` (sent back by Telegram in
`X-Telegram-Bot-Api-Secret-Token`). Message ids are unique per chat only, so a message's
`source_id` is `"{chat_id}:{message_id}"`, for what customers send and what we send alike.
Only private chats are handled; groups and channels are left out. A press of one of our
inline buttons (`callback_query` in a private chat) is a `ButtonPress` with the button's
data; an outgoing message's `meta["buttons"]` become an inline keyboard, one a row.

A customer who blocks the bot (`my_chat_member` with status `kicked`) is reported as
unsubscribed, and one who unblocks it (`member`) as subscribed again; a send answered
"bot was blocked by the user" is a permanent failure that says the same
(`SendError.unsubscribed`). A token that cannot be one is refused before any request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.token import TokenValidationError

from crm.errors import ExternalError
from crm.i18n import N_
from inbox.channels.base import (
    Attachment,
    ButtonPress,
    ChannelConfig,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    PollResult,
    SendError,
    SubscriptionChange,
    load_json,
)
from inbox.channels.check_errors import network_error

__all__ = ["TelegramAdapter"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member", "callback_query"]
MAX_CAPTION = 1024
TOKEN_REFUSED = N_("{channel} refused the token: {reason}")
TOKEN_MALFORMED = N_(
    "This is not a Telegram bot token: it looks like 123456789:AAE… (digits, a colon, then "
    "letters and digits), as @BotFather gives it. Check it was copied whole"
)
REQUEST_FAILED = N_("The request to {channel} failed: {reason}")
BLOCKED = "bot was blocked by the user"
# Media sent as a file: (update field, attachment kind).
MEDIA_FIELDS = (
    ("document", "document"),
    ("voice", "voice"),
    ("video", "video"),
    ("video_note", "video"),
    ("audio", "audio"),
    ("sticker", "sticker"),
)


class _RawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates returning the updates as Telegram sent them, to be stored verbatim."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively even when `headers` is a plain dict."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class TelegramAdapter:
    """One bot. `api_base` points aiogram at another Bot API server (tests, a local server)."""

    kind: ClassVar[str] = "telegram"
    ack: ClassVar[str] = ""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        api = TelegramAPIServer.from_base(config.api_base) if config.api_base else PRODUCTION
        self._session = AiohttpSession(api=api)
        self._bot: Bot | None = None

    @property
    def bot(self) -> Bot:
        """The aiogram Bot; TokenValidationError when the token cannot be one."""
        if self._bot is None:
            self._bot = Bot(str(self.config.credentials.get("token", "")), session=self._session)
        return self._bot

    # -- webhook -------------------------------------------------------------------------

    def verify_headers(self, headers: Mapping[str, str]) -> bool:
        """The secret-token header is ours: all there is to check, before any body."""
        expected = str(self.config.credentials.get("webhook_secret") or "")
        given = header(headers, SECRET_HEADER)
        if not expected or given is None:
            return False
        return hmac.compare_digest(given.encode(), expected.encode())

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        return self.verify_headers(headers)

    def handshake(self, body: bytes) -> str | None:
        return None

    def parse(self, body: bytes) -> list[InboundEvent]:
        update = load_json(body)
        if not isinstance(update, dict):
            raise ValueError("a Telegram update must be a JSON object")
        if "my_chat_member" in update:
            return member_change(update["my_chat_member"])
        if "callback_query" in update:
            return button_press(update["callback_query"])
        edit = "message" not in update and "edited_message" in update
        message = update.get("edited_message" if edit else "message")
        if not isinstance(message, dict):
            return []  # callback queries, channel posts, member updates, ...
        try:
            parsed = parse_message(message, edit=edit, update_id=update.get("update_id"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed Telegram message: {exc!r}") from exc
        return [parsed] if parsed is not None else []

    # -- outgoing ------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        """Plain text (never parsed as markup); photos and documents by file_id or URL.

        With attachments the text becomes the first one's caption when it fits, and the
        first message sent gives the returned id.
        """
        try:
            chat_id = int(message.external_user_id)
        except ValueError:
            raise SendError(
                f"not a chat id: {message.external_user_id!r}", permanent=True
            ) from None
        files = [
            a
            for a in message.attachments
            if (a.file_id or a.extra.get("content_b64")) and a.kind != "location"
        ]
        text = message.text
        first: Message | None = None
        keyboard = inline_keyboard(message.meta.get("buttons"))
        try:
            if text and (not files or len(text) > MAX_CAPTION or keyboard is not None):
                first = await self.bot.send_message(
                    chat_id, text, parse_mode=None, reply_markup=keyboard
                )
                text = ""
            for attachment in files:
                sent = await self._send_file(chat_id, attachment, text)
                text = ""
                first = first or sent
        except TokenValidationError as exc:
            raise SendError(str(exc), permanent=True) from exc
        except AiogramError as exc:
            raise send_error(exc) from exc
        if first is None:
            raise SendError("nothing to send: no text and no attachment", permanent=True)
        return f"{first.chat.id}:{first.message_id}"

    async def _send_file(self, chat_id: int, attachment: Attachment, caption: str) -> Message:
        """By file_id or URL; or the bytes themselves (`extra["content_b64"]`), uploaded:
        a file another bot received has no file_id this bot could use."""
        options: dict[str, Any] = {"caption": caption or None, "parse_mode": None}
        media: str | BufferedInputFile = attachment.file_id
        if content := attachment.extra.get("content_b64"):
            try:
                data = base64.b64decode(str(content), validate=True)
            except binascii.Error:
                raise SendError("the attachment's content is not base64", permanent=True) from None
            name = attachment.name or ("photo.jpg" if attachment.kind == "photo" else "file")
            media = BufferedInputFile(data, filename=name)
        if attachment.kind == "photo":
            return await self.bot.send_photo(chat_id, media, **options)
        return await self.bot.send_document(chat_id, media, **options)

    # -- administration ------------------------------------------------------------------

    async def check(self) -> str:
        """`@username (first name)` of the bot."""
        try:
            me = await self.bot.get_me()
        except (AiogramError, TokenValidationError) as exc:
            raise external_error(exc, self.config.api_base) from exc
        return f"@{me.username} ({me.first_name})"

    async def set_webhook(self, url: str) -> None:
        """Point Telegram at `url`; it then sends `webhook_secret` with every update."""
        secret = str(self.config.credentials.get("webhook_secret") or "")
        if not secret:
            raise ExternalError(REQUEST_FAILED, channel="Telegram", reason="no webhook secret")
        try:
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except (AiogramError, TokenValidationError) as exc:
            raise external_error(exc, self.config.api_base) from exc

    async def poll(self, state: Mapping[str, Any], timeout: float) -> PollResult:  # noqa: ASYNC109
        """One getUpdates long poll. State: `{"offset": last update_id + 1}`.

        Telegram refuses getUpdates while a webhook is set (ExternalError, 409 Conflict).
        """
        offset = state.get("offset")
        method = _RawUpdates(
            offset=int(offset) if offset is not None else None,
            timeout=int(timeout),
            allowed_updates=ALLOWED_UPDATES,
        )
        try:
            updates = await self.bot(method, request_timeout=int(timeout) + 10)
        except (AiogramError, TokenValidationError) as exc:
            raise external_error(exc, self.config.api_base) from exc
        new_state = dict(state)
        if updates:
            new_state["offset"] = max(int(u["update_id"]) for u in updates) + 1
        bodies = [json.dumps(u, ensure_ascii=False).encode() for u in updates]
        return PollResult(bodies=bodies, state=new_state)

    async def acknowledge_press(self, press: ButtonPress) -> None:
        """answerCallbackQuery for a processed press (the button stops spinning)."""
        if press.source_id.startswith("cb:"):
            await self.bot.answer_callback_query(press.source_id[3:])

    async def close(self) -> None:
        await self._session.close()


# -- parsing ---------------------------------------------------------------------------------


def parse_message(message: dict[str, Any], *, edit: bool, update_id: Any) -> InboundMessage | None:
    chat, sender = message["chat"], message.get("from")
    if chat.get("type") != "private" or not isinstance(sender, dict) or sender.get("is_bot"):
        return None
    text = str(message.get("text") or message.get("caption") or "")
    command = str(message.get("text") or "")
    attachments = list(media_attachments(message))
    meta: dict[str, Any] = {"update_id": update_id}
    if sender.get("username"):
        meta["username"] = sender["username"]
    if sender.get("language_code"):
        meta["language_code"] = sender["language_code"]
    if edit and message.get("edit_date"):
        meta["edited_at"] = timestamp(message["edit_date"]).isoformat()
    phone = None
    if contact := message.get("contact"):
        attachments.append(
            Attachment(
                kind="contact",
                name=" ".join(filter(None, (contact.get("first_name"), contact.get("last_name")))),
                extra={"phone": contact["phone_number"], "user_id": contact.get("user_id")},
            )
        )
        # Only the customer's own number (the "share my phone" button) identifies them;
        # someone else's contact stays an attachment.
        if contact.get("user_id") == sender["id"]:
            phone = str(contact["phone_number"])
        else:
            meta["foreign_contact"] = True
    if location := message.get("location"):
        venue = message.get("venue") or {}
        attachments.append(
            Attachment(
                kind="location",
                name=str(venue.get("title", "")),
                extra={
                    "latitude": location["latitude"],
                    "longitude": location["longitude"],
                    **({"address": venue["address"]} if venue.get("address") else {}),
                },
            )
        )
    return InboundMessage(
        source_id=f"{chat['id']}:{message['message_id']}",
        external_user_id=str(sender["id"]),
        text=text,
        sent_at=timestamp(message["date"]),
        profile_name=profile_name(sender),
        phone=phone,
        attachments=tuple(attachments),
        edit=edit,
        lead_source=None if edit else start_payload(command),
        opened_chat=not edit and is_start(command),
        meta=meta,
    )


def button_press(query: Any) -> list[InboundEvent]:
    """A press of an inline button in a private chat, with its data; anything else is left
    out (inline mode's queries, games, groups)."""
    try:
        user, data, query_id = query["from"], query.get("data"), query["id"]
        chat = (query.get("message") or {}).get("chat") or {}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed Telegram callback_query: {exc!r}") from exc
    if not isinstance(data, str) or not isinstance(user, dict) or chat.get("type") != "private":
        return []
    return [ButtonPress(f"cb:{query_id}", str(user["id"]), data)]


def inline_keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=str(b["text"]), callback_data=str(b["data"]))]
            for b in buttons
        ]
    )


def member_change(change: Any) -> list[InboundEvent]:
    """A private chat's member update: the customer blocked the bot (`kicked`) or started
    it again (`member`); anything else (groups, other statuses) is left out."""
    try:
        chat, user = change["chat"], change["from"]
        status = change["new_chat_member"]["status"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed Telegram my_chat_member: {exc!r}") from exc
    if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(user, dict):
        return []
    if status not in ("kicked", "member"):
        return []
    return [SubscriptionChange(str(user["id"]), status == "member", profile_name(user))]


def media_attachments(message: dict[str, Any]) -> list[Attachment]:
    found: list[Attachment] = []
    if sizes := message.get("photo"):
        largest = max(
            sizes, key=lambda s: (s.get("width", 0) * s.get("height", 0), s.get("file_size", 0))
        )
        found.append(
            Attachment(
                kind="photo",
                file_id=largest["file_id"],
                size=largest.get("file_size"),
                extra={"width": largest.get("width"), "height": largest.get("height")},
            )
        )
    for key, kind in MEDIA_FIELDS:
        media = message.get(key)
        if not isinstance(media, dict):
            continue
        extra = {k: media[k] for k in ("duration", "emoji", "width", "height") if k in media}
        found.append(
            Attachment(
                kind=kind,
                file_id=media["file_id"],
                name=str(media.get("file_name") or media.get("title") or ""),
                mime=str(media.get("mime_type") or ""),
                size=media.get("file_size"),
                extra=extra,
            )
        )
        break  # a message carries one file; an animation also arrives as a document
    return found


def is_start(text: str) -> bool:
    """`/start`, `/start PAYLOAD` or `/start@bot ...`: what Telegram sends for a customer
    who presses Start (or follows t.me/bot?start=PAYLOAD)."""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    return command == "/start" or command.startswith("/start@")


def start_payload(text: str) -> str | None:
    """The deep-link payload of `/start PAYLOAD` (t.me/bot?start=PAYLOAD)."""
    if not is_start(text):
        return None
    parts = text.split(maxsplit=1)
    payload = parts[1].strip() if len(parts) > 1 else ""
    return payload or None


def profile_name(user: Mapping[str, Any]) -> str:
    name = " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))
    return name or str(user.get("username") or "")


def timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


# -- errors ----------------------------------------------------------------------------------


def send_error(exc: AiogramError) -> SendError:
    if isinstance(exc, TelegramRetryAfter):
        return SendError(str(exc), retry_after=float(exc.retry_after))
    permanent = (
        TelegramForbiddenError,  # blocked by the user, or never started the bot
        TelegramBadRequest,  # chat not found, bad file id, text too long: retrying won't help
        TelegramUnauthorizedError,
        TelegramNotFound,  # the token does not name a bot
        TelegramEntityTooLarge,
        TelegramMigrateToChat,
    )
    # Network errors, 5xx and undecodable answers (a front end's HTML page) may pass.
    # A connection never made cannot have delivered anything; a timeout or a connection
    # dropped mid-request may have.
    uncertain = isinstance(exc, TelegramNetworkError) and not str(exc).startswith(
        ("ClientConnectorError", "ClientConnectorDNSError", "ClientConnectorCertificateError")
    )
    return SendError(
        str(exc),
        permanent=isinstance(exc, permanent),
        uncertain=uncertain,
        unsubscribed=isinstance(exc, TelegramForbiddenError) and BLOCKED in str(exc),
    )


def external_error(exc: Exception, api_base: str = "") -> ExternalError:
    """What a failed check or webhook call says: a token that cannot be one (checked here,
    before any request), one Telegram refused, no network to the server, or the request's
    own failure."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, TokenValidationError):
        return ExternalError(
            TOKEN_MALFORMED, code="channel_token_malformed", fields={"token": TOKEN_MALFORMED}
        )
    if isinstance(exc, TelegramNetworkError) and (
        unreachable := network_error(reason, api_base or PRODUCTION.base.split("/bot")[0])
    ):
        return unreachable
    if isinstance(exc, TelegramUnauthorizedError | TelegramNotFound):
        return ExternalError(
            TOKEN_REFUSED,
            code="channel_token_refused",
            fields={"token": TOKEN_REFUSED},
            channel="Telegram",
            reason=reason,
        )
    return ExternalError(REQUEST_FAILED, channel="Telegram", reason=reason)
