"""A mailing's file is stored once, on the mailing: each of its messages carries
`mailing_file` (the mailing's id) instead of the bytes, read here when the outbox sends
the message or a platform (Viber) fetches it from `inbox.media`."""

from __future__ import annotations

from typing import Any

from crm.models import Mailing


async def attachment_content(attachment: dict[str, Any]) -> dict[str, Any]:
    """A message's attachment with its bytes: a mailing's file is read from the mailing."""
    mailing_id = attachment.get("mailing_file")
    if mailing_id is None:
        return attachment
    mailing = await Mailing.filter(id=int(mailing_id)).first()
    content = (mailing.attachment or {}).get("content_b64", "") if mailing else ""
    return {**attachment, "content_b64": content}
