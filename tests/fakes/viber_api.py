"""A loopback Viber REST Bot API server answering `/pa/{method}` as chatapi.viber.com does.

Viber answers HTTP 200 with a `status` code in the body for every API-level error.
Fault kinds for `fail_next(method, kind=...)`: any status code "1".."14", the aliases
"401" (= 2 invalidAuthToken), "403" (= 6 not subscribed), "429" (= 12 too many requests),
"500"/"502" (nginx HTML page) and "disconnect".

Viber takes files only as URLs it downloads itself. The fake downloads a picture's, video's or
file's `media` when it points at loopback (crmhub's own `/media/...` links in tests), keeps
the bytes and headers on the delivered message (`media`), and answers status 1 (invalidUrl)
when the download fails; other URLs are trusted unfetched. A picture's URL must end in a
.jpg/.jpeg/.png/.gif path segment, as Viber documents.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from aiohttp import web

from tests.fakes import limits
from tests.fakes.base import FakeServer, Fault, drop_connection, html_error, json_response
from tests.fakes.limits import Limits

STATUS_MESSAGES: dict[int, str] = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "notSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "Too many requests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
}
ALIASES = {"401": 2, "403": 6, "429": 12}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "picture": ("media",),
    "video": ("media", "size"),
    "file": ("media", "size", "file_name"),
    "contact": ("contact",),
    "location": ("location",),
    "url": ("media",),
    "sticker": ("sticker_id",),
    "rich_media": ("rich_media",),
}
ALL_EVENT_TYPES = [
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
    "message",
    "webhook",
]
MAX_TEXT = 7000
MAX_SENDER_NAME = 28
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MEDIA_TYPES = ("picture", "video", "file")
PICTURE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif")
Handler = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]


def signature(body: bytes, token: str) -> str:
    """`X-Viber-Content-Signature`: HMAC-SHA256 of the raw body keyed by the auth token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def signed_callback(event: dict[str, Any], token: str) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a callback exactly as Viber would POST it to the webhook."""
    body = json.dumps(event, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Viber-Content-Signature": signature(body, token),
    }
    return body, headers


class ViberError(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        self.status = status
        self.message = message or STATUS_MESSAGES[status]
        super().__init__(self.message)


@dataclass(frozen=True)
class Download:
    """What Viber fetched from a message's `media` URL."""

    url: str
    content: bytes
    content_type: str
    content_disposition: str


@dataclass
class ViberMessage:
    """A message Viber accepted for delivery; `payload` is the send_message body, `media`
    the download of its loopback media URL."""

    message_token: int
    receiver: str
    type: str
    text: str | None
    payload: dict[str, Any]
    media: Download | None = None


class ViberAPI(FakeServer):
    """Fake of chatapi.viber.com. State: `delivered`, `webhooks` (per token), `users`,
    `unsubscribed`, `unregistered`. A loopback webhook URL is really called with the
    signed `webhook` event when set, as Viber does; other URLs must be https and are trusted.
    `rate_limits=True` refuses send_message past 20 a second per bot (status 12, counted in
    `limits.refused`).
    """

    fault_kinds = frozenset({*map(str, range(1, 15)), *ALIASES, "500", "502", "disconnect"})
    chat_hostname = "SN-CHAT-05_"

    def __init__(
        self,
        *,
        account_name: str = "CRM Hub",
        account_id: str = "pa:5925429953186752236",
        uri: str = "crmhub",
        tokens: Iterable[str] | None = None,
        require_webhook: bool = True,
        rate_limits: bool = False,
    ) -> None:
        super().__init__()
        # A conservative 20 sends a second per bot; past it status 12 (Too many requests).
        self.limits = Limits(**limits.VIBER) if rate_limits else None
        self.account_name = account_name
        self.account_id = account_id
        self.uri = uri
        self.tokens = set(tokens) if tokens is not None else None
        self.require_webhook = require_webhook
        self.delivered: list[ViberMessage] = []
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.unsubscribed: set[str] = set()
        self.unregistered: set[str] = set()
        self._tokens = itertools.count(5_741_311_803_571_721_087, 7_919)
        self._handlers: dict[str, Handler] = {
            "set_webhook": self._set_webhook,
            "send_message": self._send_message,
            "get_account_info": self._get_account_info,
            "get_user_details": self._get_user_details,
        }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/pa/{method}", self._handle_method)
        return app

    # -- arranging state ---------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, **fields: Any) -> dict[str, Any]:
        user = {
            "id": user_id,
            "name": name,
            "avatar": f"https://media-direct.cdn.viber.com/download_photo?dlid={user_id[:8]}",
            "country": "RU",
            "language": "ru",
            "primary_device_os": "Android 14",
            "api_version": 10,
            "viber_version": "24.6.0.0",
            "device_type": "SM-A546E",
            **fields,
        }
        self.users[user_id] = user
        return user

    def unsubscribe(self, user_id: str) -> None:
        """The user unsubscribed: sends to them answer status 6."""
        self.unsubscribed.add(user_id)

    async def send_callback(self, event: dict[str, Any], token: str | None = None) -> int:
        """POST a signed callback to the webhook set for `token` (or the only one); HTTP status."""
        if token is None:
            (token,) = self.webhooks
        body, headers = signed_callback(event, token)
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.webhooks[token]["url"], data=body, headers=headers) as response,
        ):
            return response.status

    def next_message_token(self) -> int:
        return next(self._tokens)

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        token = request.headers.get("X-Viber-Auth-Token", "")
        try:
            params = await request.json()
        except ValueError:
            params = None
        fault = self.take_fault(method)
        self.record(method, params if isinstance(params, dict) else {}, token, fault)
        if fault is not None:
            return await self._fault_response(request, fault)
        handler = self._handlers.get(method)
        if handler is None:
            return web.Response(status=404, text="Not Found")
        try:
            if not token or (self.tokens is not None and token not in self.tokens):
                raise ViberError(2)
            if not isinstance(params, dict):
                raise ViberError(3)
            result = await handler(params, token)
        except ViberError as err:
            return json_response({"status": err.status, "status_message": err.message})
        return json_response({"status": 0, "status_message": "ok", **result})

    async def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind in ("500", "502"):
            return html_error(int(fault.kind))
        if fault.kind == "disconnect":
            return await drop_connection(request)
        status = ALIASES.get(fault.kind) or int(fault.kind)
        return json_response({"status": status, "status_message": STATUS_MESSAGES[status]})

    # -- methods -----------------------------------------------------------------------------

    async def _set_webhook(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        url = p.get("url")
        if url is None:
            raise ViberError(4)
        if not url:
            self.webhooks.pop(token, None)
            return {"chat_hostname": self.chat_hostname}
        event_types = p.get("event_types") or ALL_EVENT_TYPES
        host = urlsplit(url).hostname or ""
        if host in LOOPBACK_HOSTS:
            await self._verify_webhook(url, token)
        elif not url.startswith("https://"):
            raise ViberError(1)
        self.webhooks[token] = {"url": url, "event_types": event_types}
        return {"event_types": event_types, "chat_hostname": self.chat_hostname}

    async def _verify_webhook(self, url: str, token: str) -> None:
        event = {
            "event": "webhook",
            "timestamp": int(time.time() * 1000),
            "chat_hostname": self.chat_hostname,
            "message_token": self.next_message_token(),
        }
        body, headers = signed_callback(event, token)
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(url, data=body, headers=headers) as response,
            ):
                accepted = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            accepted = False
        if not accepted:
            raise ViberError(1)

    async def _send_message(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        if self.require_webhook and token not in self.webhooks:
            raise ViberError(10)
        receiver, kind = p.get("receiver"), p.get("type")
        sender = p.get("sender")
        if not receiver or kind not in REQUIRED_FIELDS or not isinstance(sender, dict):
            raise ViberError(3)
        if not sender.get("name") or len(sender["name"]) > MAX_SENDER_NAME:
            raise ViberError(3)
        if any(p.get(name) in (None, "") for name in REQUIRED_FIELDS[kind]):
            raise ViberError(3)
        if len(p.get("text") or "") > MAX_TEXT:
            raise ViberError(3)
        if self.limits is not None and not self.limits.allow(bot=token):
            raise ViberError(12)
        if receiver in self.unregistered:
            raise ViberError(5)
        if receiver in self.unsubscribed:
            raise ViberError(6)
        media = await self._fetch_media(kind, str(p.get("media") or ""))
        message = ViberMessage(self.next_message_token(), receiver, kind, p.get("text"), p, media)
        self.delivered.append(message)
        return {"message_token": message.message_token, "chat_hostname": self.chat_hostname}

    async def _fetch_media(self, kind: str, url: str) -> Download | None:
        if kind not in MEDIA_TYPES:
            return None
        parts = urlsplit(url)
        last = unquote(parts.path.rsplit("/", 1)[-1]).lower()
        if kind == "picture" and not last.endswith(PICTURE_EXTENSIONS):
            raise ViberError(3, "badData: the picture URL must end in .jpg, .jpeg, .png or .gif")
        if parts.hostname not in LOOPBACK_HOSTS:
            return None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.get(url) as response,
            ):
                if response.status != 200:
                    raise ViberError(1)
                return Download(
                    url,
                    await response.read(),
                    response.headers.get("Content-Type", ""),
                    response.headers.get("Content-Disposition", ""),
                )
        except (aiohttp.ClientError, TimeoutError):
            raise ViberError(1) from None

    async def _get_account_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        webhook = self.webhooks.get(token, {})
        return {
            "id": self.account_id,
            "name": self.account_name,
            "uri": self.uri,
            "icon": "https://media-direct.cdn.viber.com/pg_download?pgtp=icons&fltp=jpg",
            "background": "https://media-direct.cdn.viber.com/pg_download?pgtp=bg&fltp=jpg",
            "category": "Local Businesses",
            "subcategory": "Advertising Service",
            "location": {"lon": 37.6173, "lat": 55.7558},
            "country": "RU",
            "webhook": webhook.get("url", ""),
            "event_types": webhook.get("event_types", []),
            "subscribers_count": len(self.users) - len(self.unsubscribed & self.users.keys()),
            "members": [{"id": "d3jxe6111111111kjYGgZg==", "name": "Admin", "role": "admin"}],
            "chat_hostname": self.chat_hostname,
        }

    async def _get_user_details(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        user_id = p.get("id")
        if not user_id:
            raise ViberError(3)
        if user_id in self.unregistered:
            raise ViberError(5)
        user = self.users.get(user_id) or {"id": user_id, "name": "Viber user", "avatar": ""}
        user = {key: value for key, value in user.items() if value != ""}
        return {
            "message_token": self.next_message_token(),
            "user": {"mcc": 250, "mnc": 1, **user},
            "chat_hostname": self.chat_hostname,
        }
