"""Text for Telegram's HTML parse mode: escaping, Telegram's 4,096-character limit, and the
locale-aware bits every card shows (kinds, dates, money).

Every message the bot sends is HTML. Anything not written by us (customer text, client
and deal names, subjects) goes through `h()` or into a `Quote`, which is escaped and split
where needed; nothing else is ever interpolated raw."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from crm import labels
from crm.i18n import format_datetime, format_money, format_time, gettext
from crm.models import InteractionKind

LIMIT = 4096  # characters of a message after entity parsing
EDIT_QUOTE = 1000  # characters of customer text kept when a card is re-rendered
# Customer text a card shows before "…" and a "Show all" button: the card stays well under
# LIMIT (a margin for what we and Telegram might count differently), the rest is a tap away.
CARD_QUOTE = 3000
SHORT_QUOTE = 300  # a card Telegram refused is sent again with this much of each quote
ECHO = 60  # characters of a manager's own query repeated back ("No client matches …")
_TAG = re.compile(r"<[^<>]+>")

KIND_LABELS = labels.INTERACTION_KIND
KIND_ICONS: dict[str, str] = {
    InteractionKind.CALL: "📞",
    InteractionKind.MEETING: "🤝",
    InteractionKind.EMAIL: "✉️",
    InteractionKind.MESSAGE: "💬",
    InteractionKind.SMS: "📱",
    InteractionKind.TASK: "📌",
    InteractionKind.NOTE: "📝",
    InteractionKind.SURVEY: "📋",
}


def h(value: object) -> str:
    """Escape text for HTML parse mode."""
    return html.escape(str(value), quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """The length of HTML `markup` once Telegram has parsed it."""
    return units(html.unescape(_TAG.sub("", markup)))


@dataclass(frozen=True)
class Quote:
    """Someone else's text, shown escaped (in italics by default) and split if long."""

    text: str
    tag: str = "i"

    def wrap(self, piece: str) -> str:
        if not piece:
            return ""
        return f"<{self.tag}>{h(piece)}</{self.tag}>" if self.tag else h(piece)


Part = str | Quote  # a str is ready HTML, short and self-contained


def _cut(text: str, room: int) -> tuple[str, str]:
    """Split `text` where at most `room` units fit, at a line break or space if possible."""
    if units(text) <= room:
        return text, ""
    end = 0
    count = 0
    for index, char in enumerate(text):
        count += 2 if ord(char) > 0xFFFF else 1
        if count > room:
            break
        end = index + 1
    head = text[:end]
    for sep in ("\n", " "):
        at = head.rfind(sep)
        if at > end // 2:
            return text[: at + 1].rstrip(), text[at + 1 :]
    return head, text[end:]


def shorten(text: str, room: int) -> tuple[str, str]:
    """`text` cut to `room` units with "…" when longer, and what was cut off ("" if
    nothing was)."""
    if units(text) <= room:
        return text, ""
    head, rest = _cut(text, room - 1)
    return head + "…", rest


def pack(parts: Sequence[Part], limit: int = LIMIT) -> list[str]:
    """Join parts line by line into messages of at most `limit` visible characters;
    a long quote continues in the next message."""
    messages: list[str] = []
    lines: list[str] = []
    used = 0

    def flush() -> None:
        nonlocal lines, used
        if lines:
            messages.append("\n".join(lines))
        lines, used = [], 0

    for part in parts:
        if isinstance(part, str):
            size = visible_length(part) + (1 if lines else 0)
            if used + size > limit:
                flush()
                size = visible_length(part)
            lines.append(part)
            used += size
            continue
        rest = part.text
        while rest:
            room = limit - used - (1 if lines else 0)
            if room < min(200, limit // 4):
                flush()
                continue
            piece, rest = _cut(rest, room)
            if not piece:
                flush()
                continue
            lines.append(part.wrap(piece))
            used += units(piece) + (1 if len(lines) > 1 else 0)
            if rest:
                flush()
    flush()
    return messages or [""]


def fit(parts: Sequence[Part], limit: int = LIMIT, quote_room: int = EDIT_QUOTE) -> str:
    """One message: quotes shortened to `quote_room` characters with an ellipsis."""
    short: list[Part] = []
    for part in parts:
        if isinstance(part, Quote) and units(part.text) > quote_room:
            short.append(Quote(shorten(part.text, quote_room)[0], part.tag))
        else:
            short.append(part)
    texts = pack(short, limit)
    return texts[0]


# -- locale-aware pieces -------------------------------------------------------------------


def kind_label(kind: str, locale: str) -> str:
    label = KIND_LABELS.get(kind)
    return f"{KIND_ICONS.get(kind, '•')} {gettext(label, locale) if label else h(kind)}"


def when(moment: datetime | None, locale: str, tz: str) -> str:
    if moment is None:
        return "—"
    return h(format_datetime(moment, locale, tz, "short"))


def clock_time(moment: datetime, locale: str, tz: str) -> str:
    return h(format_time(moment, locale, tz))


def money(amount: Decimal | None, currency: str, locale: str) -> str:
    if amount is None:
        return "—"
    return _money(amount, currency, locale)


@lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    # Babel parses the locale's currency pattern on every call (~0.2 ms); a list of deals
    # shows the same few amounts again and again.
    return h(format_money(amount, currency, locale))


def excerpt(text: str, size: int = 80) -> str:
    """A one-line beginning of `text`, unescaped (the caller escapes)."""
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"
