"""What a Russian-speaking user reads, and the English words left in it.

`visible_text` keeps what a browser shows of a page: text, not tags, scripts, styles,
attribute values or `<code>` (what one types: placeholders, keys). `english_words` returns
every Latin-letter word of a text that is not a product name, a format, an address or a
time zone: an enum value (`won`, `call`, `relation_type`) or an English label left
untranslated shows up here."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from zoneinfo import available_timezones

# Names and formats a Russian interface writes in Latin letters on purpose
ALLOWED = frozenset(
    word.lower()
    for word in (
        "Telegram VK Viber ВКонтакте CRM crmhub API IMAP SMTP SSL TLS STARTTLS CSV XLSX"
        " UTF Windows JSON ID IANA BotFather Callback Yandex Gmail Mail.ru ru en English"
        " email e-mail SMS TAB HTML URL OpenAPI UTF-8 utf-8 Windows-1251 cp1251 ABC-DEF"
        " Excel https Bots Long Poll CRMHUB_PUBLIC_URL UTC IP"
    ).split()
)
_ADDRESS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|com|local)\b"  # links and host names
    r"|\b[\w-]+\.(?:csv|xlsx)\b"  # file names
    r"|•+\S*"  # a secret shown masked: its last characters
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z]")
_ZONES = frozenset(available_timezones())
_ZONE = re.compile(r"\b[A-Z][A-Za-z_]+(?:/[A-Za-z_\-]+)+\b")


class _Visible(HTMLParser):
    HIDDEN = frozenset({"script", "style", "template", "code"})  # code: what one types

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def english_words(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Latin-letter words of `text` that a Russian interface should not show."""
    text = _ADDRESS.sub(" ", text)
    text = _ZONE.sub(lambda m: " " if m.group(0) in _ZONES else m.group(0), text)
    found = []
    for word in _WORD.findall(text):
        if word.lower() in ALLOWED or word in allowed:
            continue
        found.append(word)
    return found
