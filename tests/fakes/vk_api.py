"""A loopback VK API server (one community) answering `/method/{name}` as api.vk.ru does.

vk_api hard-codes https://api.vk.ru; give `VkApi(..., session=RewritingSession(base_url))`
so its requests land here. `groups.getLongPollServer` advertises this server's own
`/longpoll`, so `VkBotLongPoll` works unchanged.

Files for messages go the documented way: `photos.getMessagesUploadServer` /
`docs.getMessagesUploadServer` give an `upload_url` on this server (`/upload/...`, standing in
for pu.vk.com), a multipart POST there (field `photo`, or `file0`.. as vk_api's VkUpload sends
it; `file` for documents) answers `{server, photo, hash}` / `{file}`, and
`photos.saveMessagesPhoto` / `docs.save` turn that into a photo or doc whose name
(`photo-{group}_{id}_{access_key}`, `doc-{group}_{id}`) messages.send accepts. `uploads` keeps
every file received, `media` the saved ones; `media_of(message)` gives a delivered message's.

Fault kinds for `fail_next(method, kind=...)`: VK error codes "5", "6", "9", "10", "901",
"902" (answered as `{"error": {...}}` with HTTP 200, like VK), the aliases "401" (= 5),
"429" (= 6), "403" (= 901), "500"/"502" (nginx HTML page), "disconnect". For the long-poll
endpoint use method "longpoll" and kinds "failed1", "failed2", "failed3" or the HTTP ones;
for the upload endpoint method "upload" and the HTTP ones, or "refused" (the upload server
did not take the file: `photo: "[]"`, or `{"error": ...}` for a document).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web

from tests.fakes import limits
from tests.fakes.base import FakeServer, Fault, drop_connection, html_error, json_response
from tests.fakes.limits import Limits

API_BASE = "https://api.vk.ru"
CHAT_PEER_START = 2_000_000_000
INT32_MAX = 2**31 - 1
INT_FIELDS = frozenset(
    "peer_id user_id random_id group_id chat_id server_id reply_to sticker_id server".split()
)
JSON_FIELDS = frozenset("keyboard template content_source forward".split())
ERRORS: dict[int, str] = {
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    100: "One of the parameters specified was missing or invalid",
    113: "Invalid user id",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    911: "Keyboard format is invalid",
    914: "Message is too long",
}
ALIASES = {"401": 5, "429": 6, "403": 901}
Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class RewritingSession(requests.Session):
    """A requests session that sends vk_api's https://api.vk.ru calls to the fake."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.fake_base = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url.decode() if isinstance(url, bytes) else url
        if target.startswith(API_BASE):
            target = self.fake_base + target.removeprefix(API_BASE)
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, target, *args, **kwargs)


class VkError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or ERRORS[code]
        super().__init__(self.message)


def invalid_param(detail: str) -> VkError:
    return VkError(100, f"{ERRORS[100]}: {detail}")


@dataclass
class VkUpload:
    """A file one of the upload servers received (before it is saved)."""

    kind: str  # photo | doc
    peer_id: int
    field: str  # the multipart field it came in
    filename: str
    content_type: str
    content: bytes


@dataclass
class VkMedia:
    """A saved photo or document, as messages.send names it (`photo-1_2_key`)."""

    kind: str
    owner_id: int
    id: int
    access_key: str
    title: str
    upload: VkUpload

    @property
    def ref(self) -> str:
        key = f"_{self.access_key}" if self.access_key else ""
        return f"{self.kind}{self.owner_id}_{self.id}{key}"

    @property
    def content(self) -> bytes:
        return self.upload.content


@dataclass
class VkMessage:
    """A message the community really delivered (deduplicated sends appear once)."""

    id: int
    peer_id: int
    random_id: int
    text: str
    conversation_message_id: int
    date: int
    attachment: str = ""
    keyboard: Any = None
    payload: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_object(self, group_id: int) -> dict[str, Any]:
        """The message as VK shows it in events and messages.getById (out=1)."""
        return {
            "date": self.date,
            "from_id": -group_id,
            "id": self.id,
            "out": 1,
            "version": 10_000_000 + self.id,
            "attachments": [],
            "conversation_message_id": self.conversation_message_id,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": self.peer_id,
            "random_id": self.random_id,
            "text": self.text,
        }


class VkAPI(FakeServer):
    """Fake of api.vk.ru for one community, with Bots Long Poll and Callback API settings.

    `rate_limits=True` enforces VK's 20 calls a second per community token (error 6,
    counted in `limits.refused`).
    State: `delivered`, `users`, `denied` (peers who did not allow messages),
    `callback_servers`, `callback_settings`, `events` (everything pushed to the long poll).
    `echo_replies=True` also queues a `message_reply` event for each delivered message, as VK
    does when that event type is enabled.
    """

    fault_kinds = frozenset(
        {*map(str, (5, 6, 9, 10, 901, 902)), *ALIASES, "500", "502", "disconnect"}
        | {"failed1", "failed2", "failed3", "refused"}
    )

    def __init__(
        self,
        *,
        group_id: int = 229_000_001,
        group_name: str = "CRM Hub",
        screen_name: str = "crmhub",
        confirmation_code: str = "a1b2c3d4",
        tokens: Iterable[str] | None = None,
        echo_replies: bool = False,
        rate_limits: bool = False,
    ) -> None:
        super().__init__()
        # VK's limit for a community token: 20 API calls a second; past it error 6.
        self.limits = Limits(**limits.VK) if rate_limits else None
        self.group_id = group_id
        self.group_name = group_name
        self.screen_name = screen_name
        self.confirmation_code = confirmation_code
        self.tokens = set(tokens) if tokens is not None else None
        self.echo_replies = echo_replies
        self.delivered: list[VkMessage] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.denied: set[int] = set()
        self.callback_servers: dict[int, dict[str, Any]] = {}
        self.callback_settings: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.longpoll_key = secrets.token_hex(20)
        self._by_random_id: dict[tuple[int, int], VkMessage] = {}
        self._message_ids = itertools.count(1001)
        self._conversation_ids: dict[int, itertools.count[int]] = {}
        self._server_ids = itertools.count(1)
        self.uploads: list[VkUpload] = []
        self.media: dict[str, VkMedia] = {}  # by `photo-1_2` (the name without access key)
        self._upload_urls: dict[str, tuple[str, int]] = {}  # token -> kind, peer
        self._pending: dict[str, VkUpload] = {}  # uploaded, not saved yet
        self._media_ids = itertools.count(457_239_017)
        self._upload_server = 856_336
        self._upload_secret = secrets.token_bytes(16)
        self._handlers: dict[str, Handler] = {
            "messages.send": self._messages_send,
            "groups.getById": self._groups_get_by_id,
            "groups.getLongPollServer": self._get_long_poll_server,
            "groups.setLongPollSettings": self._set_callback_settings,
            "groups.getCallbackConfirmationCode": self._get_confirmation_code,
            "groups.addCallbackServer": self._add_callback_server,
            "groups.setCallbackServer": self._set_callback_server,
            "groups.getCallbackServers": self._get_callback_servers,
            "groups.setCallbackSettings": self._set_callback_settings,
            "users.get": self._users_get,
            "photos.getMessagesUploadServer": self._photos_upload_server,
            "photos.saveMessagesPhoto": self._photos_save,
            "docs.getMessagesUploadServer": self._docs_upload_server,
            "docs.save": self._docs_save,
        }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/method/{method}", self._handle_method)
        app.router.add_get("/longpoll", self._handle_longpoll)
        app.router.add_post("/upload/{token}", self._handle_upload)
        return app

    # -- arranging state ---------------------------------------------------------------------

    def push_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Queue a Bots Long Poll event; group_id, event_id and v are filled in if missing."""
        event = {
            "group_id": self.group_id,
            "event_id": secrets.token_hex(20),
            "v": "5.199",
            **event,
        }
        self.events.append(event)
        self.notify()
        return event

    def add_user(self, user_id: int, first_name: str, last_name: str, **fields: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "can_access_closed": True,
            "is_closed": False,
            **fields,
        }

    def deny_messages(self, peer_id: int) -> None:
        """The user has not allowed the community to message them: sends fail with 901."""
        self.denied.add(peer_id)

    def expire_longpoll_key(self) -> None:
        """The long-poll key expires: the next check answers {"failed": 2}."""
        self.longpoll_key = secrets.token_hex(20)

    def media_of(self, message: VkMessage) -> list[VkMedia]:
        """The saved photos and documents a delivered message carries, in its order."""
        refs = [ref for ref in message.attachment.split(",") if ref]
        return [self.media[own] for ref in refs if (own := media_key(ref)) in self.media]

    @property
    def longpoll_ts(self) -> int:
        return len(self.events) + 1

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            raw.update(await request.post())
        token = str(raw.pop("access_token", ""))
        try:
            params = {key: decode_value(key, value) for key, value in raw.items()}
        except VkError as err:
            self.record(method, raw, token)
            return self._error(err, method, raw)
        fault = self.take_fault(method)
        self.record(method, params, token, fault)
        if fault is not None:
            return await self._fault_response(request, fault, method, raw)
        try:
            self._check_request(method, params, token)
            if self.limits is not None and not self.limits.allow(token=token):
                raise VkError(6)
            result = await self._handlers[method](params)
        except VkError as err:
            return self._error(err, method, raw)
        return json_response({"response": result})

    def _check_request(self, method: str, params: dict[str, Any], token: str) -> None:
        if not token:
            raise VkError(5, "User authorization failed: no access_token passed.")
        if self.tokens is not None and token not in self.tokens:
            raise VkError(5)
        if not params.get("v"):
            raise VkError(8)
        if method not in self._handlers:
            raise VkError(3)

    def _error(self, err: VkError, method: str, raw: dict[str, Any]) -> web.Response:
        request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        request_params += [{"key": key, "value": str(value)} for key, value in raw.items()]
        body = {"error_code": err.code, "error_msg": err.message, "request_params": request_params}
        return json_response({"error": body})

    async def _fault_response(
        self, request: web.Request, fault: Fault, method: str, raw: dict[str, Any]
    ) -> web.StreamResponse:
        if fault.kind in ("500", "502"):
            return html_error(int(fault.kind))
        if fault.kind == "disconnect":
            return await drop_connection(request)
        return self._error(VkError(ALIASES.get(fault.kind) or int(fault.kind)), method, raw)

    async def _handle_longpoll(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        fault = self.take_fault("longpoll")
        self.record("longpoll", query, query.get("key", ""), fault)
        if fault is not None and fault.kind.startswith("failed"):
            if fault.kind != "failed1":
                self.expire_longpoll_key()
            return json_response({"failed": int(fault.kind[-1]), "ts": self.longpoll_ts})
        if fault is not None:
            return await self._fault_response(request, fault, "longpoll", query)
        if query.get("act") != "a_check" or query.get("key") != self.longpoll_key:
            return json_response({"failed": 2})
        try:
            ts = int(query.get("ts", ""))
            wait = min(max(int(query.get("wait", "25")), 0), 90)
        except ValueError:
            ts, wait = -1, 0
        if not 1 <= ts <= self.longpoll_ts:
            return json_response({"failed": 1, "ts": self.longpoll_ts})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while ts == self.longpoll_ts and not self.closing and deadline > loop.time():
            await self.wait_changed(deadline - loop.time())
        return json_response({"ts": str(self.longpoll_ts), "updates": self.events[ts - 1 :]})

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        """The upload server: one file per POST; answers as pu.vk.com does (HTTP 200, JSON)."""
        token = request.match_info["token"]
        fault = self.take_fault("upload")
        self.record("upload", {"token": token}, "", fault)
        if fault is not None and fault.kind != "refused":
            return await self._fault_response(request, fault, "upload", {})
        target = self._upload_urls.get(token)
        if target is None:
            return json_response({"error": "ERR_UPLOAD_BAD_URL: invalid upload url"})
        kind, peer_id = target
        form = {} if fault is not None else await request.post()
        fields = (
            ("photo", "file0", "file1", "file2", "file3", "file4") if kind == "photo" else ("file",)
        )
        name, part = next(
            ((n, form[n]) for n in fields if isinstance(form.get(n), web.FileField)), ("", None)
        )
        if not isinstance(part, web.FileField):
            if kind == "photo":
                return json_response({"server": self._upload_server, "photo": "[]", "hash": ""})
            return json_response({"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded"})
        upload = VkUpload(kind, peer_id, name, part.filename, part.content_type, part.file.read())
        self.uploads.append(upload)
        self.notify()
        handle = secrets.token_hex(8)
        self._pending[handle] = upload
        if kind == "doc":
            return json_response({"file": f"{peer_id}|0|{handle}|{self._sign(handle)}"})
        photo = json.dumps([{"photo": f"{handle}:w", "sizes": [], "kid": handle}])
        return json_response(
            {"server": self._upload_server, "photo": photo, "hash": self._sign(photo)}
        )

    def _sign(self, value: str) -> str:
        return hmac.new(self._upload_secret, value.encode(), hashlib.md5).hexdigest()

    # -- methods -----------------------------------------------------------------------------

    async def _messages_send(self, p: dict[str, Any]) -> Any:
        if "random_id" not in p:
            raise invalid_param("random_id is a required parameter")
        random_id = p["random_id"]
        if not -INT32_MAX - 1 <= random_id <= INT32_MAX:
            raise invalid_param("random_id is out of int32 range")
        if not (p.get("message") or p.get("attachment") or p.get("sticker_id")):
            raise invalid_param("message is empty or invalid")
        if len(p.get("message", "")) > 4096:
            raise VkError(914)
        if "keyboard" in p and not isinstance(p["keyboard"], dict):
            raise VkError(911)
        self._check_attachments(str(p.get("attachment", "")))
        if "peer_ids" in p:
            peers = [int(peer) for peer in str(p["peer_ids"]).split(",") if peer]
            return [self._send_one(peer, random_id, p) for peer in peers]
        if "peer_id" in p:
            peer = p["peer_id"]
        elif "user_id" in p:
            peer = p["user_id"]
        elif "chat_id" in p:
            peer = CHAT_PEER_START + p["chat_id"]
        else:
            raise invalid_param(
                "you should specify peer_id, user_id, domain, chat_id or user_ids param"
            )
        result = self._send_one(peer, random_id, p)
        if "error" in result:
            raise VkError(result["error"]["code"])
        return result["message_id"]

    def _check_attachments(self, attachment: str) -> None:
        """Our community's photos and docs must exist and carry their access key."""
        for ref in filter(None, attachment.split(",")):
            own = media_key(ref)
            if not own.startswith((f"photo-{self.group_id}_", f"doc-{self.group_id}_")):
                continue
            media = self.media.get(own)
            if media is None or ref != media.ref:
                raise invalid_param(f"attachment {ref} is invalid")

    def _send_one(self, peer: int, random_id: int, p: dict[str, Any]) -> dict[str, Any]:
        if peer in self.denied:
            return {"peer_id": peer, "error": {"code": 901, "description": ERRORS[901]}}
        key = (peer, random_id)
        message = self._by_random_id.get(key) if random_id else None
        if message is None:
            counter = self._conversation_ids.setdefault(peer, itertools.count(1))
            message = VkMessage(
                id=next(self._message_ids),
                peer_id=peer,
                random_id=random_id,
                text=p.get("message", ""),
                conversation_message_id=next(counter),
                date=int(time.time()),
                attachment=p.get("attachment", ""),
                keyboard=p.get("keyboard"),
                payload=p.get("payload"),
                params=p,
            )
            self.delivered.append(message)
            if random_id:
                self._by_random_id[key] = message
            if self.echo_replies:
                self.push_event(
                    {"type": "message_reply", "object": message.as_object(self.group_id)}
                )
        return {
            "peer_id": peer,
            "message_id": message.id,
            "conversation_message_id": message.conversation_message_id,
        }

    async def _groups_get_by_id(self, p: dict[str, Any]) -> Any:
        ids = str(p.get("group_ids") or p.get("group_id") or self.group_id).split(",")
        return {"groups": [self._group(group.strip()) for group in ids], "profiles": []}

    def _group(self, ref: str) -> dict[str, Any]:
        ours = ref in (str(self.group_id), self.screen_name)
        group_id = self.group_id if ours else int(ref) if ref.isdigit() else 1
        return {
            "id": group_id,
            "name": self.group_name if ours else f"Community {group_id}",
            "screen_name": self.screen_name if ours else f"club{group_id}",
            "is_closed": 0,
            "type": "group",
            "photo_50": f"https://sun9-1.userapi.com/c{group_id}/50.jpg",
            "photo_100": f"https://sun9-1.userapi.com/c{group_id}/100.jpg",
            "photo_200": f"https://sun9-1.userapi.com/c{group_id}/200.jpg",
        }

    def _own_group(self, p: dict[str, Any]) -> None:
        if "group_id" not in p:
            raise invalid_param("group_id is undefined")
        if p["group_id"] != self.group_id:
            raise VkError(15, "Access denied: no access to call this method")

    async def _get_long_poll_server(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        return {
            "key": self.longpoll_key,
            "server": f"{self.base_url}/longpoll",
            "ts": str(self.longpoll_ts),
        }

    async def _get_confirmation_code(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        return {"code": self.confirmation_code}

    async def _add_callback_server(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        if not p.get("url") or not p.get("title"):
            raise invalid_param("url and title are required")
        server_id = next(self._server_ids)
        self.callback_servers[server_id] = {
            "id": server_id,
            "title": p["title"],
            "creator_id": 1,
            "url": p["url"],
            "secret_key": p.get("secret_key", ""),
            "status": "unconfigured",
        }
        return {"server_id": server_id}

    async def _set_callback_server(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        server = self.callback_servers.get(p.get("server_id", 0))
        if server is None:
            raise invalid_param("server_id is invalid")
        server.update({key: p[key] for key in ("url", "title", "secret_key") if key in p})
        return 1

    async def _get_callback_servers(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        items = list(self.callback_servers.values())
        return {"count": len(items), "items": items}

    async def _set_callback_settings(self, p: dict[str, Any]) -> Any:
        self._own_group(p)
        settings = self.callback_settings.setdefault(p.get("server_id", 0), {})
        settings.update({key: value for key, value in p.items() if key not in ("group_id", "v")})
        return 1

    async def _photos_upload_server(self, p: dict[str, Any]) -> Any:
        if not p.get("peer_id"):  # a community token must name the dialog
            raise invalid_param("peer_id is undefined")
        url = self._new_upload_url("photo", p["peer_id"])
        return {"album_id": -64, "upload_url": url, "user_id": 0, "group_id": self.group_id}

    async def _docs_upload_server(self, p: dict[str, Any]) -> Any:
        if p.get("type", "doc") not in ("doc", "audio_message", "graffiti"):
            raise invalid_param("type is invalid")
        if not p.get("peer_id"):
            raise invalid_param("peer_id is undefined")
        return {"upload_url": self._new_upload_url("doc", p["peer_id"])}

    def _new_upload_url(self, kind: str, peer_id: int) -> str:
        token = secrets.token_hex(12)
        self._upload_urls[token] = (kind, peer_id)
        return f"{self.base_url}/upload/{token}"

    async def _photos_save(self, p: dict[str, Any]) -> Any:
        photo, given = str(p.get("photo", "")), str(p.get("hash", ""))
        if p.get("server") != self._upload_server or not hmac.compare_digest(
            given, self._sign(photo)
        ):
            raise invalid_param("hash is invalid")
        try:
            (item,) = json.loads(photo)
            upload = self._pending.pop(str(item["kid"]))
        except (ValueError, KeyError, TypeError):
            raise invalid_param("photos_list is invalid") from None
        media = self._save("photo", upload, "")
        return [
            {
                "album_id": -64,
                "date": int(time.time()),
                "id": media.id,
                "owner_id": media.owner_id,
                "access_key": media.access_key,
                "sizes": [
                    {
                        "height": 604,
                        "width": 453,
                        "type": "x",
                        "url": f"https://sun9-1.userapi.com/impg/{media.id}/x.jpg",
                    }
                ],
                "text": "",
                "has_tags": False,
            }
        ]

    async def _docs_save(self, p: dict[str, Any]) -> Any:
        parts = str(p.get("file", "")).split("|")
        if len(parts) != 4 or not hmac.compare_digest(parts[3], self._sign(parts[2])):
            raise invalid_param("file is invalid")
        upload = self._pending.pop(parts[2], None)
        if upload is None:
            raise invalid_param("file is invalid")
        title = str(p.get("title") or upload.filename)
        media = self._save("doc", upload, title)
        ext = title.rsplit(".", 1)[-1] if "." in title else ""
        return {
            "type": "doc",
            "doc": {
                "id": media.id,
                "owner_id": media.owner_id,
                "title": title,
                "size": len(upload.content),
                "ext": ext,
                "date": int(time.time()),
                "type": 1,
                "url": f"https://vk.com/doc{media.owner_id}_{media.id}?hash=abc&dl=def",
            },
        }

    def _save(self, kind: str, upload: VkUpload, title: str) -> VkMedia:
        key = secrets.token_hex(9) if kind == "photo" else ""
        media = VkMedia(kind, -self.group_id, next(self._media_ids), key, title, upload)
        self.media[media_key(media.ref)] = media
        return media

    async def _users_get(self, p: dict[str, Any]) -> Any:
        refs = [ref.strip() for ref in str(p.get("user_ids", "")).split(",") if ref.strip()]
        users = []
        for ref in refs:
            if not ref.isdigit():
                matches = [u for u in self.users.values() if u.get("screen_name") == ref]
                if not matches:
                    raise VkError(113)
                users.append(matches[0])
                continue
            users.append(self.users.get(int(ref)) or deleted_user(int(ref)))
        return users


def deleted_user(user_id: int) -> dict[str, Any]:
    return {
        "id": user_id,
        "first_name": "DELETED",
        "last_name": "",
        "deactivated": "deleted",
        "can_access_closed": True,
        "is_closed": False,
    }


def media_key(ref: str) -> str:
    """`photo-1_2_key` -> `photo-1_2`: an attachment's name without its access key."""
    return "_".join(ref.split("_")[:2])


def decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            raise invalid_param(f"{key} not integer") from None
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
