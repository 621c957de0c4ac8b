"""Raw RFC 5322 messages out: a plain-text message or the reply to a parsed one, threaded
with In-Reply-To and References that mail clients match (`email_mime` parses the inbound)."""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid
from typing import Any

from inbox.channels.base import InboundMessage
from inbox.channels.email_mime import MAX_REFERENCES, message_ids, normalize_message_id

__all__ = ["build_message", "build_reply", "reply_subject"]

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|ответ)\s*(\[\d+\]|\(\d+\))?\s*:", re.IGNORECASE)

_PLAIN_ID = re.compile(r"[!-;=?-~]+")  # printable ASCII without spaces or angle brackets


class _MessageIdsHeader(BaseHeader):
    """In-Reply-To and References as message ids, folded only between two ids.

    The standard library treats both as unstructured text: it folds before the first id (a
    parser then reads the value with a leading space) and turns a long id into RFC 2047
    encoded-words that no mail client matches against a Message-ID. Ids that cannot be
    written as plain ASCII are dropped.
    """

    max_count = 1

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        ids = [found for found in message_ids(value) if _PLAIN_ID.fullmatch(found)]
        kwds["decoded"] = " ".join(f"<{found}>" for found in ids)
        kwds["parse_tree"] = None

    def fold(self, *, policy: Policy) -> str:
        limit = policy.max_line_length or 998  # None or 0: no folding wanted, RFC limit
        lines = [f"{self.name}:"]
        for token in str(self).split():
            if len(lines[-1]) + 1 + len(token) > limit and len(lines[-1]) > len(self.name) + 1:
                lines.append("")
            lines[-1] += f" {token}"
        return policy.linesep.join(lines) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("in-reply-to", _MessageIdsHeader)
_HEADERS.map_to_type("references", _MessageIdsHeader)

# 7bit keeps the body ASCII on the wire (base64 or quoted-printable, whichever is shorter),
# so servers without 8BITMIME accept it; headers get RFC 2047 encoded-words. The header
# objects fold themselves, so the ids stay intact whichever policy the sender flattens with.
_OUTBOUND_POLICY = email.policy.SMTP.clone(cte_type="7bit", header_factory=_HEADERS)


def reply_subject(subject: str) -> str:
    """`Re: <subject>`, unless the subject already is a reply."""
    subject = subject.strip()
    if _REPLY_PREFIX.match(subject):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def _bracketed(message_id: str) -> str:
    return f"<{normalize_message_id(message_id) or message_id.strip('<> ')}>"


def _reference_chain(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """Previous references plus the replied-to id, deduplicated, trimmed to the first and the
    newest MAX_REFERENCES - 1."""
    chain: list[str] = []
    for reference in [*references, in_reply_to or ""]:
        normalized = normalize_message_id(reference) or reference.strip("<> ")
        if normalized and normalized not in chain:
            chain.append(normalized)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() or "localhost"


def build_message(
    sender_name: str,
    sender_address: str,
    to: str | Sequence[str],
    subject: str,
    text: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    message_id_domain: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A UTF-8 plain-text message with `message_id` or a fresh Message-ID (on
    `message_id_domain`, default the sender's domain) and, when it answers something,
    In-Reply-To and References."""
    message = EmailMessage(policy=_OUTBOUND_POLICY)
    message["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    recipients = [to] if isinstance(to, str) else list(to)
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = (
        _bracketed(message_id)
        if message_id
        else make_msgid(domain=message_id_domain or _domain(sender_address))
    )
    replied = normalize_message_id(_bracketed(in_reply_to)) if in_reply_to else ""
    if _PLAIN_ID.fullmatch(replied):
        message["In-Reply-To"] = f"<{replied}>"
    chain = [
        reference
        for reference in _reference_chain(references, in_reply_to)
        if _PLAIN_ID.fullmatch(reference)
    ]
    if chain:
        message["References"] = " ".join(f"<{reference}>" for reference in chain)
    message["MIME-Version"] = "1.0"
    message.set_content(text, charset="utf-8")
    return message


def build_reply(
    original: InboundMessage,
    *,
    sender_name: str,
    sender_address: str,
    text: str,
    message_id_domain: str | None = None,
) -> EmailMessage:
    """The answer to a parsed inbound message: to its Reply-To (else From), `Re:` subject,
    threaded after it."""
    meta = original.meta
    reply_to = list(meta.get("reply_to") or [])
    recipient = reply_to[0] if reply_to else original.email or original.external_user_id
    return build_message(
        sender_name,
        sender_address,
        recipient,
        reply_subject(str(meta.get("subject", ""))),
        text,
        in_reply_to=str(meta.get("message_id") or "") or None,
        references=list(meta.get("references") or []),
        message_id_domain=message_id_domain,
    )
