"""VK: a community's messages through the Callback API (webhook) or Bots Long Poll.

Credentials: `token` (a community token with messages access), `secret` (the Callback API
secret key; `webhook_secret` is used when `secret` is unset), `confirmation` (the code VK
expects back when the server is added). `group_id` is read from settings, then credentials.

API methods go through vk_api (synchronous, requests) in a worker thread; the long-poll wait
itself uses aiohttp so that it can be cancelled. A message's `source_id` is its VK id, or
`c{peer_id}:{conversation_message_id}` when VK gives no id.

Files a manager sends (`extra["content_b64"]`) are uploaded the way VK documents for messages
(upload server, multipart POST, save) and attached to the one messages.send; see `upload`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
import requests
import vk_api
from jconfig.memory import MemoryConfig

from crm.errors import ExternalError
from crm.i18n import N_
from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundEvent,
    OutboundMessage,
    PollResult,
    SendError,
    SubscriptionChange,
    json_object,
    load_json,
)
from inbox.channels.check_errors import network_error
from inbox.channels.vk_parse import attachment_ref, parse_message

__all__ = ["VkAdapter"]

log = logging.getLogger(__name__)

API_BASE = "https://api.vk.ru"
API_VERSION = "5.199"
INT32_MAX = 2**31 - 1
REQUEST_TIMEOUT = 30.0
# Seconds to wait on "too many requests per second", "flood control", "rate limit reached".
RATE_LIMITS = {6: 1.0, 9: 10.0, 29: 60.0}
RETRYABLE = frozenset({1, 10})  # unknown error, internal server error
AUTH_CODES = frozenset({5, 27, 28})  # invalid token, group/app authorization failed
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})  # what VK takes as a photo
ATTACHMENT_ID = re.compile(r"^(photo|video|audio|doc|wall|market|poll)-?\d+_\d+(_\w+)?$")
TOKEN_REFUSED = N_("{channel} refused the token: {reason}")
REQUEST_FAILED = N_("The request to {channel} failed: {reason}")


class ApiSession(requests.Session):
    """vk_api's requests session: a default timeout, and the API address replaced by
    `api_base` when one is given (vk_api hard-codes https://api.vk.ru)."""

    def __init__(self, api_base: str = "") -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        url = url.decode() if isinstance(url, bytes) else url
        method = method.decode() if isinstance(method, bytes) else method
        if self.api_base and url.startswith(API_BASE):
            url = self.api_base + url.removeprefix(API_BASE)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


class UploadRefused(Exception):
    """VK's upload server answered without the file (too big, wrong format, ...)."""


class VkAdapter:
    """One community. `api_base` replaces https://api.vk.ru (tests, proxies)."""

    kind: ClassVar[str] = "vk"
    ack: ClassVar[str] = "ok"

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        credentials, settings = config.credentials, config.settings
        self.group_id = int(settings.get("group_id") or credentials.get("group_id") or 0)
        self._http = ApiSession(config.api_base)
        self._vk = vk_api.VkApi(
            token=str(credentials.get("token", "")),
            api_version=API_VERSION,
            session=self._http,
            config=MemoryConfig,  # the default reads and writes vk_config.v2.json in the cwd
        )
        self._vk.RPS_DELAY = 1 / 20  # a community token may make 20 calls a second
        # vk_api would sleep and retry "too many requests" forever; the outbox retries.
        self._vk.error_handlers.pop(6, None)
        self._longpoll: aiohttp.ClientSession | None = None

    async def _call(self, method: str, **values: Any) -> Any:
        return await asyncio.to_thread(self._vk.method, method, values)

    async def profiles(self, user_ids: list[str]) -> dict[str, str]:
        """Names of senders (VK events carry none), one users.get for up to 1000 ids;
        {} when VK cannot tell (the lead is then named by its id)."""
        ids = [u for u in user_ids if u.isdigit()][:1000]
        if not ids:
            return {}
        try:
            users = await self._call("users.get", user_ids=",".join(ids))
        except Exception as exc:  # a name is a nicety: never fail ingestion for it
            log.info("VK users.get failed: %s", exc)
            return {}
        names: dict[str, str] = {}
        for user in users or []:
            name = " ".join(
                str(user.get(k, "")).strip() for k in ("first_name", "last_name")
            ).strip()
            if name and not user.get("deactivated"):
                names[str(user.get("id"))] = name
        return names

    # -- webhook -------------------------------------------------------------------------

    def verify_headers(self, headers: Mapping[str, str]) -> bool:
        """VK's secret is in the body: nothing to tell from the headers."""
        return True

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        """The body's `secret` is ours and the event is for our community."""
        credentials = self.config.credentials
        expected = str(credentials.get("secret") or credentials.get("webhook_secret") or "")
        event = json_object(body)
        if not expected or event is None or not self._ours(event):
            return False
        given = event.get("secret")
        return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())

    def handshake(self, body: bytes) -> str | None:
        """The confirmation code for a `confirmation` event, else None."""
        event = json_object(body)
        if event is None or event.get("type") != "confirmation":
            return None
        code = str(self.config.credentials.get("confirmation") or "")
        return code if code and self._ours(event) else None

    def _ours(self, event: Mapping[str, Any]) -> bool:
        return not self.group_id or event.get("group_id") == self.group_id

    def parse(self, body: bytes) -> list[InboundEvent]:
        """Callback API and Bots Long Poll events alike. Our own messages (`message_reply`)
        and events the hub does not handle give []."""
        event = load_json(body)
        if not isinstance(event, dict):
            raise ValueError("a VK event must be a JSON object")
        kind, obj = event.get("type"), event.get("object")
        try:
            if kind in ("message_new", "message_edit") and isinstance(obj, dict):
                message = obj["message"] if "message" in obj else obj
                parsed = parse_message(message, edit=kind == "message_edit")
                if parsed is not None:
                    log.debug("vk event %s: message %s", event.get("event_id"), parsed.source_id)
                return [parsed] if parsed is not None else []
            if kind in ("message_allow", "message_deny") and isinstance(obj, dict):
                user_id = str(obj["user_id"])
                return [SubscriptionChange(user_id, subscribed=kind == "message_allow")]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed VK {kind} event: {exc!r}") from exc
        return []

    # -- outgoing ------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        """messages.send with random_id = our message id, so VK drops a repeated send (its
        files are uploaded again first, which is harmless: VK keeps the first message)."""
        try:
            peer_id = int(message.external_user_id)
        except ValueError:
            raise SendError(
                f"not a peer id: {message.external_user_id!r}", permanent=True
            ) from None
        refs = []
        for item in message.attachments:
            if item.extra.get("content_b64"):
                refs.append(await self.upload(peer_id, item))
            else:
                refs.append(vk_attachment(item))
        attachment = ",".join(filter(None, refs))
        if not message.text and not attachment:
            raise SendError("nothing to send: no text and no VK attachment", permanent=True)
        values: dict[str, Any] = {
            "peer_id": peer_id,
            "random_id": message.message_id % INT32_MAX,
            "message": message.text,
        }
        if attachment:
            values["attachment"] = attachment
        if keyboard := vk_keyboard(message.meta.get("buttons")):
            values["keyboard"] = keyboard
        try:
            sent = await self._call("messages.send", **values)
        except (vk_api.VkApiError, requests.RequestException) as exc:
            raise send_error(exc) from exc
        return str(sent)

    async def upload(self, peer_id: int, attachment: Attachment) -> str:
        """Upload the attachment's bytes for a message to `peer_id`; its messages.send name
        (`photo{owner}_{id}_{key}` or `doc{owner}_{id}`). Raises SendError."""
        try:
            data = base64.b64decode(str(attachment.extra["content_b64"]), validate=True)
        except binascii.Error:
            raise SendError("the attachment's content is not base64", permanent=True) from None
        mime = attachment.mime.lower()
        photo = attachment.kind == "photo" and (not mime or mime in PHOTO_TYPES)
        name = attachment.name or ("photo.jpg" if photo else "file")
        upload = self._upload_photo if photo else self._upload_doc
        try:
            return await asyncio.to_thread(upload, peer_id, name, mime, data)
        except UploadRefused as exc:
            raise SendError(f"VK refused the file {name!r}: {exc}", permanent=True) from exc
        except (vk_api.VkApiError, requests.RequestException) as exc:
            raise send_error(exc) from exc
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise SendError(f"unexpected answer to the upload of {name!r}: {exc!r}") from exc

    def _upload_photo(self, peer_id: int, name: str, mime: str, data: bytes) -> str:
        server = self._vk.method("photos.getMessagesUploadServer", {"peer_id": peer_id})
        answer = self._post_file(server["upload_url"], "photo", name, mime, data)
        if not answer.get("photo") or answer["photo"] == "[]" or "hash" not in answer:
            raise UploadRefused(str(answer.get("error") or "no photo in the answer"))
        values = {key: answer[key] for key in ("server", "photo", "hash")}
        saved = self._vk.method("photos.saveMessagesPhoto", values)
        return attachment_ref("photo", saved[0])

    def _upload_doc(self, peer_id: int, name: str, mime: str, data: bytes) -> str:
        server = self._vk.method(
            "docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id}
        )
        answer = self._post_file(server["upload_url"], "file", name, mime, data)
        if not answer.get("file"):
            raise UploadRefused(str(answer.get("error") or "no file in the answer"))
        saved = self._vk.method("docs.save", {"file": answer["file"], "title": name})
        doc = saved["doc"] if isinstance(saved, dict) else saved[0]  # 5.199 / older versions
        return attachment_ref("doc", doc)

    def _post_file(self, url: str, field: str, name: str, mime: str, data: bytes) -> Any:
        """The multipart POST to an upload server; its JSON answer."""
        files = {field: (name, data, mime or "application/octet-stream")}
        response = self._http.post(url, files=files)
        response.raise_for_status()
        answer = response.json()
        if not isinstance(answer, dict):
            raise UploadRefused(f"unexpected answer {answer!r}")
        return answer

    # -- administration ------------------------------------------------------------------

    async def check(self) -> str:
        """The community's name, once the token is known to belong to `group_id`."""
        try:
            answer = await self._call("groups.getById")
        except (vk_api.VkApiError, requests.RequestException) as exc:
            raise external_error(exc, self.config.api_base) from exc
        groups = answer["groups"] if isinstance(answer, dict) else answer
        group = groups[0]
        if self.group_id and group["id"] != self.group_id:
            reason = f"the token belongs to community {group['id']}, not {self.group_id}"
            raise ExternalError(REQUEST_FAILED, channel="VK", reason=reason)
        return str(group["name"])

    async def set_webhook(self, url: str) -> None:
        """Nothing: the admin adds the Callback API server in the community's settings."""

    async def poll(self, state: Mapping[str, Any], timeout: float) -> PollResult:  # noqa: ASYNC109
        """One Bots Long Poll check. State: `{"server", "key", "ts"}` from
        groups.getLongPollServer, `ts` advanced after each answer; `failed` answers renew
        them and give no bodies this round."""
        current = dict(state)
        if not all(current.get(key) for key in ("server", "key", "ts")):
            current = await self._long_poll_server()
        answer = await self._long_poll_check(current, max(int(timeout), 0))
        failed = answer.get("failed")
        if failed == 1:  # history partly lost: continue from the ts VK gives
            return PollResult([], {**current, "ts": answer["ts"]})
        if failed == 2:  # the key expired
            return PollResult([], {**await self._long_poll_server(), "ts": current["ts"]})
        if failed:  # 3: key and history lost
            return PollResult([], await self._long_poll_server())
        updates = answer.get("updates") or []
        bodies = [json.dumps(update, ensure_ascii=False).encode() for update in updates]
        return PollResult(bodies, {**current, "ts": answer["ts"]})

    async def _long_poll_server(self) -> dict[str, Any]:
        if not self.group_id:
            raise ExternalError(REQUEST_FAILED, channel="VK", reason="group_id is not set")
        try:
            answer = await self._call("groups.getLongPollServer", group_id=self.group_id)
        except (vk_api.VkApiError, requests.RequestException) as exc:
            raise external_error(exc, self.config.api_base) from exc
        return {"server": answer["server"], "key": answer["key"], "ts": answer["ts"]}

    async def _long_poll_check(self, state: Mapping[str, Any], wait: int) -> dict[str, Any]:
        if self._longpoll is None:
            self._longpoll = aiohttp.ClientSession()
        params = {"act": "a_check", "key": state["key"], "ts": state["ts"], "wait": wait}
        try:
            async with self._longpoll.get(
                state["server"], params=params, timeout=aiohttp.ClientTimeout(total=wait + 15)
            ) as response:
                response.raise_for_status()
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise external_error(exc, self.config.api_base) from exc
        if not isinstance(answer, dict):
            raise ExternalError(REQUEST_FAILED, channel="VK", reason="bad long poll answer")
        return answer

    async def close(self) -> None:
        self._http.close()
        if self._longpoll is not None:
            await self._longpoll.close()
            self._longpoll = None


def vk_attachment(attachment: Attachment) -> str:
    """The messages.send name of an attachment we can forward, else ""."""
    for candidate in (attachment.extra.get("vk"), attachment.file_id):
        if isinstance(candidate, str) and ATTACHMENT_ID.match(candidate):
            return candidate
    return ""


def vk_keyboard(buttons: Any) -> str:
    """Our buttons as an inline keyboard, one a row; each text button's payload carries
    the button's data, which VK sends back in the customer's message (`vk_parse`)."""
    if not buttons:
        return ""
    rows = [
        [
            {
                "action": {
                    "type": "text",
                    "label": str(b["text"])[:40],
                    "payload": json.dumps({"sv": str(b["data"])}),
                },
                "color": "secondary",
            }
        ]
        for b in buttons
    ]
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def send_error(exc: Exception) -> SendError:
    if isinstance(exc, vk_api.ApiError):
        retry_after = RATE_LIMITS.get(exc.code)
        permanent = retry_after is None and exc.code not in RETRYABLE
        return SendError(str(exc), retry_after=retry_after, permanent=permanent)
    # HTTP errors, network failures, captcha: worth another try later.
    return SendError(str(exc) or type(exc).__name__)


def external_error(exc: Exception, api_base: str = "") -> ExternalError:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, requests.ConnectionError | requests.Timeout | aiohttp.ClientError) and (
        unreachable := network_error(f"{type(exc).__name__}: {reason}", api_base or API_BASE)
    ):
        return unreachable
    if isinstance(exc, vk_api.ApiError) and exc.code in AUTH_CODES:
        return ExternalError(
            TOKEN_REFUSED,
            code="channel_token_refused",
            fields={"token": TOKEN_REFUSED},
            channel="VK",
            reason=reason,
        )
    return ExternalError(REQUEST_FAILED, channel="VK", reason=reason)
