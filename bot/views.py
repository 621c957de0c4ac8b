"""Who a message is for (`Viewer`: locale, timezone, signed keyboards) and how a card is
sent or edited within Telegram's limits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot import texts
from bot.callbacks import Keyboard, Markup, Signer
from bot.methods import Sent, call, defaults
from bot.texts import Part, h
from crm import manager_chat
from crm.i18n import N_, gettext, ngettext, pick_locale
from crm.models import CardKind, User

log = logging.getLogger(__name__)

# The last resort when Telegram refuses a card and its shortened form: plain text, no
# markup, so that the manager learns something arrived and where to find it.
REFUSED = N_("Telegram refused to show a card here. Open /inbox, /deals or /today to see it.")


@dataclass(frozen=True)
class Viewer:
    """The bound CRM user a message is rendered for."""

    user: User
    signer: Signer
    bot: Bot

    @property
    def locale(self) -> str:
        return pick_locale(self.user.locale)

    @property
    def tz(self) -> str:
        return self.user.timezone

    @property
    def chat_id(self) -> int:
        if self.user.telegram_user_id is None:
            raise ValueError(f"user {self.user.id} has no Telegram account bound")
        return int(self.user.telegram_user_id)

    def _(self, msgid: str, **params: Any) -> str:
        """Translated, as HTML: the template and every parameter escaped."""
        template = h(gettext(msgid, self.locale))
        return template.format(**{k: h(v) for k, v in params.items()}) if params else template

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        template = h(
            ngettext(singular, plural, n, self.locale, **{k: "{" + k + "}" for k in params})
        )
        return template.format(**{k: h(v) for k, v in params.items()}) if params else template

    def gettext(self, msgid: str, **params: Any) -> str:
        """Translated plain text: button labels and alerts, which are not parsed."""
        return gettext(msgid, self.locale, **params)

    def keyboard(self) -> Keyboard:
        return Keyboard(self.signer, self.chat_id)

    def when(self, moment: datetime | None) -> str:
        return texts.when(moment, self.locale, self.tz)

    def kind(self, kind: str) -> str:
        return texts.kind_label(kind, self.locale)

    async def send(self, card: Card, *, reply_to: int | None = None) -> list[Sent]:
        return await send_card(
            self.bot, self.chat_id, card, reply_to=reply_to, notice=self.notice(card)
        )

    def notice(self, card: Card) -> str:
        """The plain text sent when Telegram refuses the card and its shortened form."""
        return card.notice or self.gettext(REFUSED)

    async def say(self, html: str) -> list[Sent]:
        """A short answer: `html` (escaped where it holds data) as a card of its own."""
        return await self.send(Card([html]))

    async def edit(self, message_id: int, card: Card) -> bool:
        return await edit_card(self.bot, self.chat_id, message_id, card)

    async def edit_keyboard(self, message_id: int, markup: Markup | None) -> bool:
        return await edit_keyboard(self.bot, self.chat_id, message_id, markup)


@dataclass
class Card:
    """A message: HTML parts (long quotes split) and a keyboard on its last message."""

    parts: list[Part] = field(default_factory=list)
    markup: Markup | None = None
    notice: str = ""  # plain text for when Telegram refuses the card (see `send_card`)

    def add(self, *parts: Part | None) -> Card:
        """Append lines (None is skipped; "" is an empty line)."""
        self.parts.extend(p for p in parts if p is not None)
        return self

    def texts(self) -> list[str]:
        return texts.pack(self.parts)

    def single(self) -> str:
        return texts.fit(self.parts)

    def short(self) -> str:
        """One message, every quote cut to a few lines (what is sent when Telegram
        refused the card)."""
        return texts.fit(self.parts, texts.LIMIT // 2, texts.SHORT_QUOTE)


async def remember(user_id: int, sent: Sequence[Sent], kind: CardKind, **ids: int | None) -> None:
    """Record what the sent messages show: the last one is the card itself; earlier parts
    of a long one are message cards of the same conversation (a reply to them still
    reaches the customer)."""
    for index, message in enumerate(sent):
        last = index == len(sent) - 1
        await manager_chat.record_card(
            user_id,
            message.chat_id,
            message.message_id,
            kind if last else CardKind.MESSAGE,
            conversation_id=ids.get("conversation_id"),
            inquiry_id=ids.get("inquiry_id") if last else None,
            interest_id=ids.get("interest_id") if last else None,
            message_id=ids.get("message_id") if last else None,
        )


async def send_card(
    bot: Bot, chat_id: int, card: Card, *, reply_to: int | None = None, notice: str = ""
) -> list[Sent]:
    """Send the card, split at the limit; the keyboard goes with the last message.

    Never nothing: when Telegram refuses it (400: too long, bad markup, anything), the card
    is sent again shortened to one message, and if that is refused too, `notice` as plain
    text without buttons. A refusal of that (and 403, 429, network errors) is raised."""
    try:
        return await _send_texts(bot, chat_id, card.texts(), card.markup, reply_to)
    except TelegramBadRequest as exc:
        log.warning("Telegram refused a card for chat %s: %s; sending it shortened", chat_id, exc)
    if card.parts:
        try:
            return await _send_texts(bot, chat_id, [card.short()], card.markup, reply_to)
        except TelegramBadRequest as exc:
            log.warning("Telegram refused the shortened card for chat %s: %s", chat_id, exc)
    plain = {"chat_id": chat_id, "text": notice or gettext(REFUSED)}
    return [Sent.of(await call(bot, "sendMessage", plain))]


async def _send_texts(
    bot: Bot, chat_id: int, chunks: list[str], markup: Markup | None, reply_to: int | None
) -> list[Sent]:
    sent: list[Sent] = []
    for index, text in enumerate(chunks):
        params: dict[str, Any] = {"chat_id": chat_id, "text": text, **defaults(bot)}
        if reply_to and index == 0:
            reply = {"message_id": reply_to, "allow_sending_without_reply": True}
            if "parse_mode" in params:  # a bot default aiogram applies to quotes too
                reply["quote_parse_mode"] = params["parse_mode"]
            params["reply_parameters"] = reply
        if markup is not None and index == len(chunks) - 1:
            params["reply_markup"] = markup
        sent.append(Sent.of(await call(bot, "sendMessage", params)))
    return sent


async def edit_card(bot: Bot, chat_id: int, message_id: int, card: Card) -> bool:
    """Replace a card's text and keyboard; False when Telegram has nothing to change or
    the message is gone."""
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": card.single(),
        **defaults(bot),
    }
    if card.markup is not None:
        params["reply_markup"] = card.markup
    return await _edit(bot, "editMessageText", params)


async def edit_keyboard(bot: Bot, chat_id: int, message_id: int, markup: Markup | None) -> bool:
    """Replace a card's keyboard (None: remove it); False as for `edit_card`."""
    params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
    if markup is not None:
        params["reply_markup"] = markup
    return await _edit(bot, "editMessageReplyMarkup", params)


async def _edit(bot: Bot, name: str, params: dict[str, Any]) -> bool:
    try:
        await call(bot, name, params)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            log.info("card %s/%s not edited: %s", params["chat_id"], params["message_id"], exc)
        return False
    return True
