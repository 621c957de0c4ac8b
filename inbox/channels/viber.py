"""Viber: a bot on the Viber REST Bot API (chatapi.viber.com), over aiohttp.

Credentials: `token` (the bot's auth token; it also signs the callbacks). Settings:
`sender_name` (shown with every message, at most 28 characters; the account's name when
unset), `sender_avatar` (an image URL). A message's `source_id` is Viber's `message_token`,
for what customers send and what we send alike; delivery reports name it too.

Viber has no polling mode: a public HTTPS webhook is required. Nor does it take uploads: a
file is sent as a URL Viber downloads, so the files managers send (`extra["content_b64"]`)
are served by crmhub itself at signed, expiring `/media/...` links (`inbox.media`) under
`CRMHUB_PUBLIC_URL`; without one such a message fails for good, with that reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import aiohttp

from crm.errors import ExternalError
from crm.i18n import N_
from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    PollResult,
    SendError,
    StatusUpdate,
    SubscriptionChange,
    json_object,
    load_json,
)
from inbox.channels.check_errors import network_error
from inbox.media import file_name

__all__ = ["ViberAdapter"]

API_BASE = "https://chatapi.viber.com"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
MAX_SENDER_NAME = 28
MAX_DESCRIPTION = 768  # a picture's text
MAX_PICTURE = 1024**2  # larger pictures go as files: iOS shows pictures up to 1 MB
MAX_FILE_NAME = 256
PICTURE_TYPES = frozenset({"image/jpeg", "image/png"})
REQUEST_TIMEOUT = 30.0
AUTH_FAILED = 2  # invalidAuthToken
TOO_MANY_REQUESTS = 12
NOT_SUBSCRIBED = 6  # receiverNotSubscribed
# Statuses retrying cannot fix: bad token or data, receiver unknown/unsubscribed/without a
# suitable device, account blocked/missing/suspended, no webhook, unsupported API version.
PERMANENT = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14})
STATUSES: dict[str, Literal["delivered", "seen", "failed"]] = {
    "delivered": "delivered",
    "seen": "seen",
    "failed": "failed",
}
TOKEN_REFUSED = N_("{channel} refused the token: {reason}")
REQUEST_FAILED = N_("The request to {channel} failed: {reason}")
NO_POLLING = N_("Viber has no polling mode: it needs a public webhook URL")
NO_PUBLIC_URL = N_(
    "Viber downloads files from crmhub: set CRMHUB_PUBLIC_URL to the address it is reachable at"
)


class ViberApiError(Exception):
    """A non-zero `status` from the API (HTTP 200), or a failed HTTP exchange (`status` None);
    `uncertain` when the request may have reached Viber (timeout, dropped connection)."""

    def __init__(self, message: str, status: int | None = None, *, uncertain: bool = False):
        super().__init__(message)
        self.status = status
        self.uncertain = uncertain


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively even when `headers` is a plain dict."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class ViberAdapter:
    """One Viber bot. `api_base` replaces https://chatapi.viber.com (tests)."""

    kind: ClassVar[str] = "viber"
    ack: ClassVar[str] = ""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.api_base = (config.api_base or API_BASE).rstrip("/")
        self.token = str(config.credentials.get("token") or "")
        self._session: aiohttp.ClientSession | None = None
        self._account_name = ""

    # -- webhook -------------------------------------------------------------------------

    def verify_headers(self, headers: Mapping[str, str]) -> bool:
        """A signature header to check the body against, and a token to check it with."""
        return bool(self.token and header(headers, SIGNATURE_HEADER))

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        """`X-Viber-Content-Signature` is the HMAC-SHA256 of the body keyed by the token."""
        given = header(headers, SIGNATURE_HEADER)
        if not self.token or not given:
            return False
        expected = hmac.new(self.token.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.strip().lower().encode(), expected.encode())

    def handshake(self, body: bytes) -> str | None:
        """ "" (a bare 200) for the `webhook` event Viber sends while set_webhook runs."""
        event = json_object(body)
        return "" if event is not None and event.get("event") == "webhook" else None

    def parse(self, body: bytes) -> list[InboundEvent]:
        event = load_json(body)
        if not isinstance(event, dict):
            raise ValueError("a Viber callback must be a JSON object")
        kind = event.get("event")
        try:
            return parse_event(kind, event)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed Viber {kind} callback: {exc!r}") from exc

    def context_of(self, body: bytes) -> tuple[str, str] | None:
        """The user and deep-link context (`viber://pa?chatURI=...&context=C`) of a stored
        `conversation_started` body; None for any other body. The context reaches the
        customer's first message through the raw store (`inbox.lead_sources`)."""
        event = json_object(body)
        if event is None or event.get("event") != "conversation_started":
            return None
        user = event.get("user")
        if not isinstance(user, dict) or not user.get("id"):
            return None
        return str(user["id"]), str(event.get("context") or "")

    # -- API -------------------------------------------------------------------------------

    async def _call(self, method: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST /pa/{method}; ViberApiError unless the answer has status 0."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
        url = f"{self.api_base}/pa/{method}"
        try:
            async with self._session.post(
                url, json=payload, headers={"X-Viber-Auth-Token": self.token}
            ) as response:
                if response.status != 200:
                    raise ViberApiError(f"HTTP {response.status} {response.reason or ''}".strip())
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            uncertain = not isinstance(exc, aiohttp.ClientConnectorError | ValueError)
            raise ViberApiError(str(exc) or type(exc).__name__, uncertain=uncertain) from exc
        if not isinstance(answer, dict):
            raise ViberApiError("the answer is not a JSON object")
        status = answer.get("status")
        if status != 0:
            code = status if isinstance(status, int) else None
            raise ViberApiError(f"{answer.get('status_message', 'error')} ({status})", code)
        return answer

    # -- outgoing ------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        """A text message, or a picture (with the text as its description) / a file by URL.

        With several attachments each is a message of its own, the text going with the
        first; the first message's token is returned.
        """
        payloads = [*self._payloads(message)]
        if not payloads:
            raise SendError("nothing to send: no text and no attachment URL", permanent=True)
        sender = await self._sender()
        tokens: list[str] = []
        for payload in payloads:
            body = {
                "receiver": message.external_user_id,
                "sender": sender,
                "tracking_data": str(message.message_id),
                **payload,
            }
            if payload is payloads[-1] and (keyboard := viber_keyboard(message.meta)):
                body["keyboard"] = keyboard
            try:
                answer = await self._call("send_message", body)
            except ViberApiError as exc:
                raise send_error(exc) from exc
            tokens.append(str(answer["message_token"]))
        return tokens[0]

    def _payloads(self, message: OutboundMessage) -> list[dict[str, Any]]:
        text, payloads = message.text, list[dict[str, Any]]()
        for index, attachment in enumerate(message.attachments):
            if attachment.extra.get("content_b64"):
                payload = self._served(message.message_id, index, attachment)
                if payload["type"] == "picture" and len(text) <= MAX_DESCRIPTION:
                    payload["text"], text = text, ""  # the text as the picture's description
                payloads.append(payload)
            elif not attachment.file_id.startswith(("http://", "https://")):
                continue
            elif attachment.kind == "photo" and len(text) <= MAX_DESCRIPTION:
                payloads.append({"type": "picture", "media": attachment.file_id, "text": text})
                text = ""
            elif attachment.size:
                name = attachment.name or attachment.file_id.rsplit("/", 1)[-1]
                payloads.append(
                    {
                        "type": "file",
                        "media": attachment.file_id,
                        "size": attachment.size,
                        "file_name": name,
                    }
                )
            else:
                payloads.append({"type": "url", "media": attachment.file_id})
        if text:
            payloads.insert(0, {"type": "text", "text": text})
        return payloads

    def _served(self, message_id: int, index: int, attachment: Attachment) -> dict[str, Any]:
        """A file queued as bytes, by the link crmhub serves it at: a picture (JPEG or PNG up
        to MAX_PICTURE, without description yet) or a file."""
        media = self.config.media
        if media is None or not media.public_url:
            raise SendError(NO_PUBLIC_URL, permanent=True)
        try:
            size = len(base64.b64decode(str(attachment.extra["content_b64"]), validate=True))
        except binascii.Error:
            raise SendError("the attachment's content is not base64", permanent=True) from None
        mime = attachment.mime.lower()
        default = "photo" if attachment.kind == "photo" else "file"
        name = file_name(attachment.name, mime, default=default)[-MAX_FILE_NAME:]
        url = media.url(message_id, index, name)
        if attachment.kind == "photo" and mime in PICTURE_TYPES and size <= MAX_PICTURE:
            return {"type": "picture", "media": url, "text": ""}
        return {"type": "file", "media": url, "size": size, "file_name": name}

    async def _sender(self) -> dict[str, str]:
        settings = self.config.settings
        name = str(settings.get("sender_name") or "")
        if not name:
            if not self._account_name:
                try:
                    info = await self._call("get_account_info", {})
                except ViberApiError as exc:
                    raise send_error(exc) from exc
                self._account_name = str(info.get("name") or "")
            name = self._account_name
        sender = {"name": name[:MAX_SENDER_NAME]}
        if settings.get("sender_avatar"):
            sender["avatar"] = str(settings["sender_avatar"])
        return sender

    # -- administration ------------------------------------------------------------------

    async def check(self) -> str:
        """The bot account's name."""
        try:
            info = await self._call("get_account_info", {})
        except ViberApiError as exc:
            raise external_error(exc, self.api_base) from exc
        self._account_name = str(info.get("name") or "")
        return self._account_name

    async def set_webhook(self, url: str) -> None:
        """Point Viber at `url`. Viber POSTs a signed `webhook` event to it before answering,
        so the URL must already answer 200 (see `handshake`)."""
        payload = {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": False}
        try:
            await self._call("set_webhook", payload)
        except ViberApiError as exc:
            raise external_error(exc, self.api_base) from exc

    async def poll(self, state: Mapping[str, Any], timeout: float) -> PollResult:  # noqa: ASYNC109
        """Viber cannot be polled: always ExternalError."""
        raise ExternalError(NO_POLLING, code="polling_unsupported")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# -- parsing ---------------------------------------------------------------------------------


def parse_event(kind: Any, event: Mapping[str, Any]) -> list[InboundEvent]:
    if kind == "message":
        return [parse_message(event)]
    if kind in STATUSES:
        error = str(event.get("desc") or "") if kind == "failed" else ""
        return [StatusUpdate(str(event["message_token"]), STATUSES[kind], error)]
    if kind == "subscribed":
        user = event["user"]
        return [SubscriptionChange(str(user["id"]), True, str(user.get("name") or ""))]
    if kind == "unsubscribed":
        return [SubscriptionChange(str(event["user_id"]), False)]
    if kind == "conversation_started" and event.get("subscribed"):
        # Opening the chat subscribes nobody; only an already subscribed user is reported.
        user = event["user"]
        return [SubscriptionChange(str(user["id"]), True, str(user.get("name") or ""))]
    return []  # webhook, conversation_started by a non-subscriber, client_status, ...


BUTTON_PREFIX = "sv:"


def viber_keyboard(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our buttons as a keyboard of reply buttons, one a row: a press sends the button's
    data back as the customer's (silent) text message."""
    buttons = meta.get("buttons")
    if not buttons:
        return None
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": str(b["data"]),
                "Text": str(b["text"]),
                "Silent": True,
            }
            for b in buttons
        ],
    }


def parse_message(event: Mapping[str, Any]) -> InboundMessage:
    sender, message = event["sender"], event["message"]
    kind = str(message["type"])
    text = str(message.get("text") or "")
    attachments: list[Attachment] = []
    meta: dict[str, Any] = {"type": kind}
    phone: str | None = None
    if message.get("tracking_data"):
        meta["tracking_data"] = message["tracking_data"]
    if kind == "text" and text.startswith(BUTTON_PREFIX):
        meta["button"] = text  # our keyboard's reply button (its ActionBody)
    media = str(message.get("media") or "")
    if kind in ("picture", "video", "file"):
        extra = {k: message[k] for k in ("thumbnail", "duration") if message.get(k)}
        attachments.append(
            Attachment(
                kind={"picture": "photo", "video": "video", "file": "document"}[kind],
                file_id=media,
                name=str(message.get("file_name") or ""),
                size=message.get("size"),
                extra=extra,
            )
        )
    elif kind == "contact":
        contact = message["contact"]
        # Viber cannot prove whose number a shared contact is (names are chosen by the
        # sender), so it never identifies the customer: it stays an attachment.
        meta["foreign_contact"] = True
        attachments.append(
            Attachment(
                kind="contact",
                name=str(contact.get("name") or ""),
                extra={"phone": contact.get("phone_number")},
            )
        )
    elif kind == "location":
        location = message["location"]
        extra = {"latitude": location["lat"], "longitude": location["lon"]}
        if location.get("address"):
            extra["address"] = location["address"]
        attachments.append(Attachment(kind="location", extra=extra))
    elif kind == "sticker":
        attachments.append(
            Attachment(kind="sticker", file_id=media, extra={"sticker_id": message["sticker_id"]})
        )
    elif kind == "url":
        text = text or media
    return InboundMessage(
        source_id=str(event["message_token"]),
        external_user_id=str(sender["id"]),
        text=text,
        sent_at=datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC),
        profile_name=str(sender.get("name") or ""),
        phone=phone,
        attachments=tuple(attachments),
        meta=meta,
    )


# -- errors ----------------------------------------------------------------------------------


def send_error(exc: ViberApiError) -> SendError:
    if exc.status == TOO_MANY_REQUESTS:
        return SendError(str(exc), retry_after=1.0)
    # No status: HTTP or network failure, worth another try.
    return SendError(
        str(exc),
        permanent=exc.status in PERMANENT,
        uncertain=exc.uncertain,
        unsubscribed=exc.status == NOT_SUBSCRIBED,
    )


def external_error(exc: ViberApiError, api_base: str = API_BASE) -> ExternalError:
    if exc.status is None and (unreachable := network_error(str(exc), api_base)):
        return unreachable
    if exc.status == AUTH_FAILED:
        return ExternalError(
            TOKEN_REFUSED,
            code="channel_token_refused",
            fields={"token": TOKEN_REFUSED},
            channel="Viber",
            reason=str(exc),
        )
    return ExternalError(REQUEST_FAILED, channel="Viber", reason=str(exc))
