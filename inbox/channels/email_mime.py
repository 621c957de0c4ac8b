"""Raw RFC 5322 messages in: parse one into an `InboundMessage` (replies are built by
`email_compose`).

Parsing is lenient on purpose: real mail carries wrong or missing charsets, raw 8-bit headers,
encoded-words split in the middle of a character and HTML-only bodies. Text is decoded with the
declared charset, then UTF-8, then the more plausible of windows-1251 and KOI8-R (the two
Russian 8-bit charsets), and never raises. A message without a sender raises ValueError.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from inbox.channels.base import Attachment, InboundMessage

__all__ = [
    "decode_bytes",
    "decode_header_text",
    "extract_attachments",
    "html_to_text",
    "message_ids",
    "normalize_message_id",
    "parse_email",
]

SYNTHETIC_ID_DOMAIN = "crmhub.invalid"
MAX_REFERENCES = 20  # the first and the newest ones are kept, like most mail clients do

# ---------------------------------------------------------------------------------------------
# Charsets and headers


def _codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it is missing or unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").split("*", 1)[0].lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _cyrillic_score(text: str) -> int:
    """Lowercase Cyrillic letters: a real Russian text is mostly lowercase, a misdecoded one
    (KOI8-R read as windows-1251 and back) is mostly uppercase."""
    return sum(1 for char in text if "а" <= char <= "я" or char == "ё")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text from bytes: the declared charset, else UTF-8, else the likelier Russian 8-bit one."""
    declared = _codec(charset)
    for codec in (declared, "utf-8"):
        if codec is not None:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    guesses = [data.decode(codec, errors="replace") for codec in ("cp1251", "koi8-r")]
    best = max(guesses, key=_cyrillic_score)
    if _cyrillic_score(best) > 0:
        return best
    return data.decode("utf-8", errors="replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_SURROGATES = re.compile("[\udc80-\udcff]")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    """The bytes of one encoded-word's payload, or None when it is not decodable."""
    try:
        if encoding.lower() == "b":
            return base64.b64decode(payload + "=" * (-len(payload) % 4))
        return binascii.a2b_qp(payload.encode("ascii"), header=True)
    except (binascii.Error, ValueError):
        return None


def _raw_header(value: object) -> str:
    """A header value as parsed text; raw 8-bit bytes come back as surrogates."""
    if isinstance(value, Header):  # how compat32 hands out a header with raw 8-bit bytes
        return "".join(
            chunk.decode("ascii", "surrogateescape") if isinstance(chunk, bytes) else chunk
            for chunk, _ in decode_header(value)
        )
    return str(value)


def decode_header_text(value: object) -> str:
    """A header's text: RFC 2047 encoded-words decoded, folding removed, raw 8-bit repaired.

    Adjacent encoded-words in one charset are joined before decoding, since some mailers split
    a multi-byte character between two of them.
    """
    if value is None:
        return ""
    text = _raw_header(value)
    if _SURROGATES.search(text):  # raw 8-bit bytes, kept by the parser as surrogates
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    text = re.sub(r"\r?\n(?=[ \t])", "", text)
    pieces: list[str] = []
    run: bytearray = bytearray()
    run_charset: str | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        charset, encoding, payload = match.groups()
        data = _word_bytes(encoding, payload)
        if data is None:
            data, charset = match.group(0).encode(), "ascii"
        joined = run_charset is not None and between.strip() == ""
        if not (joined and _codec(charset) == _codec(run_charset)):
            if run_charset is not None:
                pieces.append(decode_bytes(bytes(run), run_charset))
                run = bytearray()
            if not joined:
                pieces.append(between)
        run.extend(data)
        run_charset = charset
        position = match.end()
    if run_charset is not None:
        pieces.append(decode_bytes(bytes(run), run_charset))
    pieces.append(text[position:])
    return "".join(pieces).strip()


_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: object) -> list[str]:
    """The message ids in a Message-ID, In-Reply-To or References header, in order."""
    if value is None:
        return []
    text = _raw_header(value)
    found = _MESSAGE_ID.findall(text)
    if not found:  # some clients drop the angle brackets
        found = [token for token in text.split() if "@" in token]
    return found


def normalize_message_id(value: object) -> str:
    """A Message-ID without angle brackets or whitespace; "" when there is none."""
    ids = message_ids(value)
    return ids[0] if ids else ""


# ---------------------------------------------------------------------------------------------
# HTML to text


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML document, with a line break per block."""

    SKIP = frozenset({"script", "style", "head", "title", "template"})
    PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "pre", "hr"}
    )
    LINE = frozenset(
        {"div", "li", "tr", "dd", "dt", "section", "article", "header", "footer", "address"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.preformatted = 0
        self.links: list[tuple[str, int]] = []

    def _break(self, count: int) -> None:
        """End the current line: at least `count` newlines after the text so far."""
        tail = "".join(self.parts[-4:]).rstrip(" ")
        present = len(tail) - len(tail.rstrip("\n"))
        if present < count:
            self.parts.append("\n" * (count - present))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skipping.clear()  # a <head> that was never closed
        elif tag in self.SKIP:
            self.skipping.append(tag)
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.PARAGRAPH:
            self._break(2)
        elif tag in self.LINE:
            self._break(1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self.preformatted += 1
        elif tag == "li":
            self.parts.append("- ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            if tag in self.skipping:
                del self.skipping[self.skipping.index(tag) :]
        elif tag in self.PARAGRAPH:
            self._break(2)
        elif tag in self.LINE and tag != "br":
            self._break(1)
        if tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)
        elif tag == "a" and self.links:
            self._close_link(*self.links.pop())

    def _close_link(self, href: str, start: int) -> None:
        label = "".join(self.parts[start:]).strip()
        if href.startswith(("http://", "https://")) and href not in (label, ""):
            self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not self.preformatted:
            data = re.sub(r"\s+", " ", data)
        self.parts.append(data)

    def text(self) -> str:
        raw = "".join(self.parts).replace("\xa0", " ")
        lines = [line.strip() for line in raw.splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: no tags, scripts or styles; blocks on their own
    lines; entities unescaped; links kept as `label (url)`."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


# ---------------------------------------------------------------------------------------------
# MIME structure


def _leaves(part: Message) -> Iterator[Message]:
    """The non-multipart parts in order; an attached message counts as one part."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _leaves(child)
    else:
        yield part


def _is_body_text(part: Message) -> bool:
    """A text/plain or text/html part shown as the message itself, not attached to it."""
    if part.get_content_type() not in ("text/plain", "text/html"):
        return False
    return part.get_content_disposition() != "attachment" and not part.get_filename()


def _payload_bytes(part: Message) -> bytes:
    """The decoded content of a leaf part (an attached message as its raw bytes)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return b"".join(inner.as_bytes() for inner in payload if isinstance(inner, Message))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message) -> str:
    return decode_bytes(_payload_bytes(part), part.get_content_charset()).replace("\r\n", "\n")


def _body_text(message: Message) -> str:
    """The plain-text parts joined, or the HTML parts as text when there is no plain text."""
    plain: list[str] = []
    html: list[str] = []
    for part in _leaves(message):
        if _is_body_text(part):
            target = plain if part.get_content_subtype() == "plain" else html
            target.append(_part_text(part))
    text = "\n\n".join(chunk.strip() for chunk in plain if chunk.strip())
    if not text and html:
        text = "\n\n".join(html_to_text(chunk) for chunk in html)
    return text.strip()


def _attachment_name(part: Message, index: int) -> str:
    """The attachment's file name, or one made up from its position and type."""
    name = decode_header_text(part.get_filename() or part.get_param("name") or "")
    if name:
        return name.replace("/", "_").replace("\\", "_")
    mime = part.get_content_type()
    extension = ".eml" if mime == "message/rfc822" else mimetypes.guess_extension(mime) or ""
    return f"attachment-{index}{extension}"


def _attachment(part: Message, index: int, payload: bytes) -> Attachment:
    mime = part.get_content_type()
    extra: dict[str, Any] = {}
    content_id = normalize_message_id(part.get("Content-ID"))
    if content_id:
        extra["content_id"] = content_id
    return Attachment(
        kind="photo" if part.get_content_maintype() == "image" else "file",
        name=_attachment_name(part, index),
        mime=mime,
        size=len(payload),
        extra=extra,
    )


def _parse_bytes(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _attachments(message: Message) -> list[tuple[Attachment, bytes]]:
    found: list[tuple[Attachment, bytes]] = []
    for part in _leaves(message):
        if not _is_body_text(part):
            payload = _payload_bytes(part)
            found.append((_attachment(part, len(found) + 1, payload), payload))
    return found


def extract_attachments(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """Every attachment of a raw message with its decoded content, in message order."""
    return _attachments(_parse_bytes(raw))


# ---------------------------------------------------------------------------------------------
# Inbound


def _addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, lowercased address) pairs from the named headers."""
    values = [_raw_header(value) for name in names for value in message.get_all(name, [])]
    return [
        (decode_header_text(display), address.strip().lower())
        for display, address in getaddresses(values)
        if "@" in address
    ]


def _sent_at(message: Message, fallback: datetime | None) -> tuple[datetime, str]:
    """The Date header as an aware datetime and ISO text; the fallback (now) when unusable."""
    value = message.get("Date")
    if value:
        try:
            parsed = parsedate_to_datetime(str(value))
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed, parsed.isoformat()
    return fallback or datetime.now(UTC), ""


def _thread_ids(message_id: str, in_reply_to: str, references: list[str]) -> tuple[str, ...]:
    """In-Reply-To, then References newest first, without repeats or the message itself."""
    ordered: list[str] = []
    for candidate in [in_reply_to, *reversed(references)]:
        if candidate and candidate != message_id and candidate not in ordered:
            ordered.append(candidate)
    return tuple(ordered)


def _is_automatic(message: Message) -> bool:
    """An auto-reply, bounce or bulk mailing: never worth answering automatically."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or message.get("X-Autoreply") is not None
    )


def synthetic_message_id(raw: bytes) -> str:
    """A stable stand-in for a missing Message-ID: the same bytes give the same id."""
    return f"{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"


def parse_email(raw: bytes, *, received_at: datetime | None = None) -> InboundMessage:
    """One raw RFC 5322 message as an `InboundMessage` (attachments described, not stored).

    `received_at` replaces a missing or unreadable Date (default: now, UTC). `meta` holds
    subject, message_id ("" when the header is missing; source_id is then synthesized from a
    hash of the bytes), in_reply_to, references (oldest first), to, cc, reply_to (lowercased
    addresses), date (ISO 8601 or "") and automatic (auto-reply, bounce, bulk).
    """
    message = _parse_bytes(raw)
    senders = _addresses(message, "From") or _addresses(message, "Sender", "Return-Path")
    if not senders:
        raise ValueError("the message has no sender address")
    profile_name, address = senders[0]
    message_id = normalize_message_id(message.get("Message-ID"))
    in_reply_to = normalize_message_id(message.get("In-Reply-To"))
    references = message_ids(message.get("References"))
    sent_at, date_text = _sent_at(message, received_at)
    meta = {
        "subject": decode_header_text(message.get("Subject")),
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": references,
        "to": [addr for _, addr in _addresses(message, "To")],
        "cc": [addr for _, addr in _addresses(message, "Cc")],
        "reply_to": [addr for _, addr in _addresses(message, "Reply-To")],
        "date": date_text,
        "automatic": _is_automatic(message),
    }
    return InboundMessage(
        source_id=message_id or synthetic_message_id(raw),
        external_user_id=address,
        text=_body_text(message),
        sent_at=sent_at,
        profile_name=profile_name,
        email=address,
        attachments=tuple(attachment for attachment, _ in _attachments(message)),
        meta=meta,
        thread_ids=_thread_ids(message_id, in_reply_to, references),
    )
