"""Signed callback data: buttons carry `action|arg|...|signature`, where the signature is an
HMAC of the payload and the Telegram user the button was made for, keyed with the
install's secret key. A button copied to another account, or edited to name another
deal, fails the check and does nothing. Rights are still checked by `crm.access` after.

aiogram-dialog's own buttons (intent id + `\\x1d`) are not signed here: they name state
kept on the server for this user, never a database id."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, TypedDict

from aiogram.filters import Filter
from aiogram.types import CallbackQuery

SEP = "|"
DIALOG_SEP = "\x1d"  # aiogram-dialog's separator between intent id and widget data
MAX_DATA = 64  # bytes Telegram allows in callback_data
SIGNATURE_LENGTH = 11


@dataclass(frozen=True)
class Action:
    """A verified button press: what to do, and its arguments as given when signed."""

    name: str
    args: tuple[str, ...]

    def int(self, index: int) -> int:
        return int(self.args[index])


class Signer:
    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(f"crmhub manager bot callbacks\0{secret}".encode()).digest()
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)  # copied per signature

    def _signature(self, telegram_user_id: int, payload: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{telegram_user_id}{SEP}{payload}".encode())
        # the first 9 bytes encode to the first 12 characters of the whole digest's base64
        return base64.urlsafe_b64encode(mac.digest()[:9]).decode()[:SIGNATURE_LENGTH]

    def pack(self, telegram_user_id: int, name: str, *args: object) -> str:
        parts = [name, *(str(a) for a in args)]
        if any(SEP in p or DIALOG_SEP in p for p in parts):
            raise ValueError(f"callback parts may not contain {SEP!r}: {parts!r}")
        payload = SEP.join(parts)
        data = f"{payload}{SEP}{self._signature(telegram_user_id, payload)}"
        if len(data.encode()) > MAX_DATA:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    def unpack(self, telegram_user_id: int, data: str) -> Action | None:
        """The action, or None when the data was not signed by us for this user."""
        payload, sep, signature = data.rpartition(SEP)
        if not sep or not payload:
            return None
        expected = self._signature(telegram_user_id, payload)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return None
        name, *args = payload.split(SEP)
        return Action(name, tuple(args))


class Button(TypedDict):
    """An inline keyboard button as the Bot API takes it."""

    text: str
    callback_data: str


class Markup(TypedDict):
    """An inline keyboard as the Bot API takes it (`bot.methods.call` sends it as is)."""

    inline_keyboard: list[list[Button]]


class Keyboard:
    """Inline keyboards whose buttons are signed for one Telegram user, built as the JSON
    Telegram takes: a card's keyboard is sent without aiogram's models (`bot.views`)."""

    def __init__(self, signer: Signer, telegram_user_id: int) -> None:
        self.signer = signer
        self.user = telegram_user_id
        self.rows: list[list[Button]] = []

    def button(self, text: str, name: str, *args: object) -> Button:
        return {"text": text, "callback_data": self.signer.pack(self.user, name, *args)}

    def row(self, *buttons: Button) -> Keyboard:
        if buttons:
            self.rows.append(list(buttons))
        return self

    def add(self, text: str, name: str, *args: object) -> Keyboard:
        """One button on a row of its own."""
        return self.row(self.button(text, name, *args))

    def markup(self) -> Markup | None:
        return {"inline_keyboard": self.rows} if self.rows else None


def is_dialog_data(data: str | None) -> bool:
    return bool(data) and DIALOG_SEP in (data or "")


class Pressed(Filter):
    """Matches a verified button press of one of `names` (the middleware verified it)."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    async def __call__(self, event: CallbackQuery, **data: Any) -> bool | dict[str, Any]:
        action = data.get("action")
        if isinstance(action, Action) and action.name in self.names:
            return {"action": action}
        return False
