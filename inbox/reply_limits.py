"""What a channel can take from a manager, checked before a reply is queued.

The outbox would learn the same from the platform, but only after the reply was queued and
shown as sent-to-be: a file the platform refuses for its size, or a Viber file with no
`CRMHUB_PUBLIC_URL` for Viber to fetch it from, would then fail for good. `check_reply`
refuses such a reply at once (ValidationFailed on the `files` field, with the reason), so
the reply box can say why and nothing is queued. A customer who unsubscribed or blocked the
bot is refused by `crm.conversations.queue_reply` itself.

The limits are the platforms' documented ones for bots: Telegram sends documents up to
50 MB and photos up to 10 MB, VK documents up to 200 MB and photos up to 50 MB, Viber files
up to 50 MB; an email carries at most 25 MB of attachments (what the large mail services
accept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm.errors import ValidationFailed
from crm.i18n import N_
from inbox.channels.viber import NO_PUBLIC_URL

MB = 1024**2
# bytes of one file, per channel kind and attachment kind
FILE_LIMITS: dict[str, dict[str, int]] = {
    "telegram": {"photo": 10 * MB, "document": 50 * MB},
    "vk": {"photo": 50 * MB, "document": 200 * MB},
    "viber": {"photo": 50 * MB, "document": 50 * MB},
    "email": {"photo": 25 * MB, "document": 25 * MB},
}
EMAIL_TOTAL = 25 * MB  # every attachment of one email together

TOO_LARGE = N_("{name} is larger than {channel} accepts ({limit} MB at most)")


def photo_or_document(mime: str, size: int, channel_kind: str) -> str:
    """A JPEG or PNG within the channel's photo limit goes as a photo, anything else as a
    document (a large photo still reaches the customer, as a file)."""
    limits = FILE_LIMITS.get(channel_kind, {})
    if mime in ("image/jpeg", "image/png") and size <= limits.get("photo", 0):
        return "photo"
    return "document"


def check_reply(
    channel_kind: str, attachments: Sequence[Mapping[str, Any]], *, public_url: str | None
) -> None:
    """Raise ValidationFailed when the channel cannot take these attachments."""
    if not attachments:
        return
    if channel_kind == "viber" and not public_url:
        raise ValidationFailed.field("files", NO_PUBLIC_URL, code="no_public_url")
    limits = FILE_LIMITS.get(channel_kind, {})
    for attachment in attachments:
        size = int(attachment.get("size") or 0)
        limit = limits.get(str(attachment.get("kind")), limits.get("document"))
        if limit is not None and size > limit:
            raise _too_large(str(attachment.get("name")), channel_kind, limit)
    total = sum(int(a.get("size") or 0) for a in attachments)
    if channel_kind == "email" and total > EMAIL_TOTAL:
        raise _too_large("", channel_kind, EMAIL_TOTAL)


def _too_large(name: str, channel_kind: str, limit: int) -> ValidationFailed:
    return ValidationFailed.field(
        "files",
        TOO_LARGE,
        code="file_too_large",
        name=name or "…",
        channel=channel_kind.title() if channel_kind != "vk" else "VK",
        limit=limit // MB,
    )
