"""VK's messages as the hub's values: a customer's message (from a Callback API or long-poll
`message_new` / `message_edit`) as an `InboundMessage`, with its attachments, the deep
link it came by (`ref`, `ref_source`) and the data of our keyboard's button it was sent by
(`meta["button"]`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from inbox.channels.base import Attachment, InboundMessage

CHAT_PEER_START = 2_000_000_000  # peer ids from here on are group chats, not a customer


def parse_message(message: Mapping[str, Any], *, edit: bool) -> InboundMessage | None:
    """A customer's message in a private dialog; None for ours, chats and communities."""
    sender, peer = int(message["from_id"]), int(message["peer_id"])
    if message.get("out") or sender <= 0 or peer >= CHAT_PEER_START:
        return None
    if message.get("id"):
        source_id = str(message["id"])
    else:
        source_id = f"c{peer}:{message['conversation_message_id']}"
    attachments = [parse_attachment(item) for item in message.get("attachments") or ()]
    if geo := message.get("geo"):
        coordinates = geo.get("coordinates") or {}
        place = geo.get("place") or {}
        extra = {"latitude": coordinates.get("latitude"), "longitude": coordinates.get("longitude")}
        attachments.append(
            Attachment(kind="location", name=str(place.get("title", "")), extra=extra)
        )
    meta: dict[str, Any] = {"peer_id": peer}
    if message.get("conversation_message_id"):
        meta["conversation_message_id"] = message["conversation_message_id"]
    if edit and message.get("update_time"):
        meta["edited_at"] = timestamp(message["update_time"]).isoformat()
    if button := pressed(message.get("payload")):
        meta["button"] = button
    return InboundMessage(
        source_id=source_id,
        external_user_id=str(sender),
        text=str(message.get("text") or ""),
        sent_at=timestamp(message["date"]),
        attachments=tuple(attachments),
        edit=edit,
        lead_source=None if edit else deep_link(message),
        meta=meta,
    )


def pressed(payload: Any) -> str:
    """The data of our keyboard's button the customer pressed (its payload `{"sv": ...}`)."""
    if not isinstance(payload, str) or len(payload) > 255:
        return ""
    try:
        value = json.loads(payload)
    except ValueError:
        return ""
    data = value.get("sv") if isinstance(value, dict) else None
    return data if isinstance(data, str) else ""


def deep_link(message: Mapping[str, Any]) -> str | None:
    """`ref` and `ref_source` of vk.me/<community>?ref=R&ref_source=S, as "R / S"."""
    parts = [str(message[key]).strip() for key in ("ref", "ref_source") if message.get(key)]
    return " / ".join(p for p in parts if p) or None


def parse_attachment(item: Mapping[str, Any]) -> Attachment:
    kind = str(item["type"])
    data: Mapping[str, Any] = item.get(kind) or {}
    ref = attachment_ref(kind, data)
    extra: dict[str, Any] = {"vk": ref} if ref else {}
    if kind == "photo":
        url = largest_url(data.get("sizes"))
        return Attachment(kind="photo", file_id=url, extra=extra)
    if kind == "doc":
        return Attachment(
            kind="document",
            file_id=str(data.get("url", "")),
            name=str(data.get("title", "")),
            size=data.get("size"),
            extra=extra,
        )
    if kind == "audio_message":
        url = data.get("link_ogg") or data.get("link_mp3") or ""
        mime = "audio/ogg" if data.get("link_ogg") else "audio/mpeg"
        duration = {"duration": data["duration"]} if "duration" in data else {}
        return Attachment(kind="voice", file_id=str(url), mime=mime, extra={**extra, **duration})
    if kind == "sticker":
        sticker = {"sticker_id": data.get("sticker_id")}
        url = largest_url(data.get("images"))
        return Attachment(kind="sticker", file_id=url, extra=sticker)
    if kind == "link":
        return Attachment(
            kind="link", file_id=str(data.get("url", "")), name=str(data.get("title", ""))
        )
    if kind == "wall":
        url = f"https://vk.com/wall{data.get('owner_id', data.get('from_id'))}_{data.get('id')}"
        return Attachment(
            kind="link", file_id=url, name=str(data.get("text", ""))[:100], extra=extra
        )
    if kind in ("video", "audio"):
        name = data.get("title", "")
        return Attachment(kind=kind, file_id=ref or "", name=str(name), extra=extra)
    return Attachment(kind=kind, file_id=ref or "", extra=extra)


def largest_url(sizes: Any) -> str:
    """The URL of the largest of a photo's or sticker's sizes."""
    if not isinstance(sizes, list) or not sizes:
        return ""
    best = max(sizes, key=lambda size: int(size.get("width", 0)) * int(size.get("height", 1)))
    return str(best.get("url", ""))


def attachment_ref(kind: str, data: Mapping[str, Any]) -> str:
    """`photo612345678_457239123_key`: how messages.send names an attachment."""
    if "owner_id" not in data or "id" not in data:
        return ""
    key = f"_{data['access_key']}" if data.get("access_key") else ""
    return f"{kind}{data['owner_id']}_{data['id']}{key}"


def timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)
