"""Mail that a program wrote rather than a customer: auto-replies and bounces.

An auto-reply ("I am on holiday", RFC 3834 `Auto-Submitted: auto-replied`) is not a
customer's message: the email adapter drops it, so it neither opens an inquiry nor repeats
in the feed. A bounce (a delivery status notification, RFC 3464, or an old-style
MAILER-DAEMON letter quoting our message) says that one of our messages was not delivered:
the adapter turns it into a `failed` status of that message. Other automatic mail (bulk,
mailing lists, `auto-generated` notifications such as web forms) is kept; `parse_email`
flags it in meta["automatic"].
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from inbox.channels.email_mime import decode_header_text, message_ids

__all__ = ["Bounce", "find_bounce", "is_auto_reply"]

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_QUOTED_ID = re.compile(rb"^Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Bounce:
    """Our messages (Message-IDs without brackets) a bounce reports as undelivered."""

    message_ids: tuple[str, ...]
    reason: str


def _header(message: Message, name: str) -> str:
    return str(message.get(name, "")).strip().lower()


def is_auto_reply(message: Message) -> bool:
    """An automatic answer to a message: vacation notices, "we got your letter" robots."""
    return (
        _header(message, "Auto-Submitted").startswith("auto-replied")
        or _header(message, "Precedence") == "auto_reply"
        or message.get("X-Autoreply") is not None
        or message.get("X-Autorespond") is not None
    )


def _from_daemon(message: Message) -> bool:
    senders = getaddresses([str(value) for value in message.get_all("From", [])])
    return any(address.partition("@")[0].lower() in _DAEMONS for _, address in senders)


def _status_blocks(report: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part (per message, then per recipient)."""
    payload = report.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [email.message_from_string(block, policy=email.policy.compat32) for block in blocks]


def _failure_reason(blocks: list[Message]) -> tuple[bool, str]:
    """(some recipient failed, the first diagnostic); delays and successes are no failure."""
    failed = False
    reasons: list[str] = []
    for block in blocks:
        if _header(block, "Action") != "failed":
            continue
        failed = True
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        recipient = str(block.get("Final-Recipient", "")).partition(";")[2].strip()
        status = str(block.get("Status", "")).strip()
        text = diagnostic.partition(";")[2].strip() or diagnostic or status
        reasons.append(f"{recipient}: {text}" if recipient else text)
    return failed, "; ".join(reason for reason in reasons if reason)


def _quoted_ids(part: Message) -> list[str]:
    """The Message-ID of the returned message in a message/rfc822 or text/rfc822-headers
    part, or quoted in a text part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = [item for item in payload if isinstance(item, Message)]
        return message_ids(inner[0].get("Message-ID")) if inner else []
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return []
    return [found.decode("ascii", "replace").strip("<>") for found in _QUOTED_ID.findall(data)]


def find_bounce(message: Message) -> Bounce | None:
    """The report of a failed delivery in `message`, else None.

    A DSN (multipart/report; report-type=delivery-status) counts when a recipient's Action is
    `failed` (a delay warning does not). A letter from MAILER-DAEMON or postmaster without a
    DSN counts when it quotes a Message-ID. `message_ids` may be empty when the bounce does
    not say which message it returns.
    """
    parts = list(message.walk())
    reports = [part for part in parts if part.get_content_type() == "message/delivery-status"]
    if reports:
        failed, reason = _failure_reason([b for r in reports for b in _status_blocks(r)])
        if not failed:
            return None
    elif _from_daemon(message):
        reason = ""
    else:
        return None
    own_id = set(message_ids(message.get("Message-ID")))
    found: list[str] = []
    for part in parts[1:]:
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers", "text/plain"):
            found.extend(i for i in _quoted_ids(part) if i not in own_id and i not in found)
    if not reason:
        reason = decode_header_text(message.get("Subject")) or "undeliverable"
    return Bounce(tuple(found), reason[:500])
