"""Files of queued replies, served to the platforms that fetch them by URL (Viber).

Viber's send_message takes a file only as a public URL it downloads itself. crmhub serves the
bytes of an outgoing message's attachment (`content_b64`, as the outbox queued it) at

    GET /media/{message_id}/{index}/{expires}.{signature}/{file name}

The signature is an HMAC-SHA256 of message id, index and expiry keyed by the install's secret
key, so only links crmhub made open, and only until they expire (a day). A forged link gets
404 and an expired one 403, before the database is asked anything; so does a number no
column can hold (a message id past 64 bits, even signed: 404). The file name ends the path
because Viber wants a picture's extension as the URL's last path segment; it is not signed
and not trusted (the stored name is what Content-Disposition gives).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from aiohttp import web

from crm import clock
from crm.models import Direction, Message
from crm.normalize import whole_number
from inbox import mailing_files

__all__ = ["MEDIA_TTL", "MediaLinks", "add_routes", "file_name"]

MEDIA_TTL = timedelta(days=1)
ROUTE = "/media/{message_id:\\d+}/{index:\\d+}/{expires:\\d+}.{signature:[0-9a-f]{64}}/{name}"
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}
MESSAGE_ID_MAX = 2**63 - 1  # messages.id is a bigint


@dataclass(frozen=True)
class MediaLinks:
    """Makes and checks the signed links; `public_url` is where the web app is reachable
    from outside (`CRMHUB_PUBLIC_URL`), "" when it is not."""

    public_url: str
    secret_key: str
    ttl: timedelta = MEDIA_TTL

    def _signature(self, message_id: int, index: int, expires: int) -> str:
        key = hashlib.sha256(b"crmhub-media:" + self.secret_key.encode()).digest()
        payload = f"{message_id}:{index}:{expires}".encode()
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    def url(self, message_id: int, index: int, name: str, *, now: datetime | None = None) -> str:
        """The public link to attachment `index` of message `message_id`."""
        if not self.public_url:
            raise ValueError("no public URL is configured")
        expires = int(((now or clock.now()) + self.ttl).timestamp())
        token = f"{expires}.{self._signature(message_id, index, expires)}"
        path = f"/media/{message_id}/{index}/{token}/{quote(name or 'file', safe='')}"
        return self.public_url.rstrip("/") + path

    def check(
        self, message_id: int, index: int, expires: int, signature: str, *, now: datetime
    ) -> int:
        """200 for a valid link, 404 for a forged one, 403 for an expired one."""
        expected = self._signature(message_id, index, expires)
        if not self.secret_key or not hmac.compare_digest(signature, expected):
            return 404
        return 403 if expires < now.timestamp() else 200


def file_name(name: str, mime: str, *, default: str = "file") -> str:
    """The name to give a file: the stored one, with the extension of a picture's type
    added when it lacks one (Viber checks it)."""
    name = name.strip().replace("/", "_") or default
    extension = EXTENSIONS.get(mime.lower())
    known = {extension, ".jpeg"} if extension == ".jpg" else {extension}
    if extension and not any(name.lower().endswith(ext) for ext in known if ext):
        name += extension
    return name


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (RFC 5987)."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def add_routes(app: web.Application, links: MediaLinks) -> None:
    """Mount `GET /media/...` (HEAD too) on the web app."""

    async def serve(request: web.Request) -> web.StreamResponse:
        info = request.match_info
        message_id = whole_number(info["message_id"], max_digits=19)
        index = whole_number(info["index"], max_digits=4)
        expires = whole_number(info["expires"], max_digits=12)
        if message_id is None or index is None or expires is None or message_id > MESSAGE_ID_MAX:
            raise web.HTTPNotFound()
        status = links.check(message_id, index, expires, info["signature"], now=clock.now())
        if status != 200:
            raise web.HTTPNotFound() if status == 404 else web.HTTPForbidden()
        message = await Message.filter(id=message_id, direction=Direction.OUT).first()
        attachments = message.attachments if message is not None else []
        attachment = attachments[index] if index < len(attachments) else {}
        attachment = await mailing_files.attachment_content(attachment)  # a mailing's file
        try:
            data = base64.b64decode(str(attachment.get("content_b64") or ""), validate=True)
        except binascii.Error:
            data = b""
        if not data:
            raise web.HTTPNotFound()
        name = file_name(str(attachment.get("name") or ""), str(attachment.get("mime") or ""))
        mime = str(attachment.get("mime") or "") or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        disposition = "inline" if mime.lower() in INLINE_TYPES else "attachment"
        headers = {
            "Content-Type": mime,
            "Content-Disposition": content_disposition(disposition, name),
            "X-Content-Type-Options": "nosniff",
            # Served from the panel's origin: never let a file run as a page there.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        }
        return web.Response(body=data, headers=headers)

    app.router.add_get(ROUTE, serve)
