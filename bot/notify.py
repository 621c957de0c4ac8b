"""Pushes to managers: inquiry cards, customer messages, reply delivery status (from the
inbox's events), reminders, overdue nags and the daily digest (from scheduler ticks).

Reminders are claimed rows (`crm.reminders`), delivered, then marked: two workers ticking
at once never send one twice, and a crash before the mark only delays it by the lease. A
manager who blocked the bot (Telegram answers 403) is marked `telegram_blocked` and skipped
until they write to the bot again; their reminders are marked, not retried in a loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)

from bot import agenda
from bot.callbacks import Signer
from bot.cards import inquiry_card, load_inquiry, message_card, reply_status_card
from bot.methods import Sent
from bot.views import Card, Viewer, edit_card, remember, send_card
from crm import clock, manager_chat, reminders
from crm.channels import channel_audience
from crm.models import (
    CardKind,
    Conversation,
    InquiryStatus,
    Interaction,
    Interest,
    InterestStatus,
    Message,
    User,
)
from inbox import events

log = logging.getLogger(__name__)

MAX_WAIT = 5.0  # seconds we wait once when Telegram asks us to slow down


class Outcome(Enum):
    SENT = "sent"
    SKIPPED = "skipped"  # nobody to send to: unbound, blocked, deactivated
    FAILED = "failed"  # transient: try again later


class Notifier:
    def __init__(self, bot: Bot, signer: Signer) -> None:
        self.bot = bot
        self.signer = signer
        self._tasks: set[asyncio.Task[None]] = set()
        # the last push of each key (_order_key): pushes of one key go in order, others
        # at once (one chain for all let 200 messages a second queue up for seconds)
        self._last: dict[tuple[str, int], asyncio.Task[None]] = {}
        # the dispatcher's cache of acting users (bot.middleware.BoundUsers.forget): a
        # manager marked blocked is read afresh, so writing again clears the mark at once
        self.forget_user: Callable[[int], None] | None = None

    def viewer(self, user: User) -> Viewer:
        return Viewer(user, self.signer, self.bot)

    # -- delivery ----------------------------------------------------------------------------

    async def send(
        self, user: User, card: Card, *, reply_to: int | None = None
    ) -> tuple[Outcome, list[Sent]]:
        """Send a card to a manager's chat, marking them blocked on 403."""
        if not reachable(user) or user.telegram_user_id is None:
            return Outcome.SKIPPED, []
        for attempt in (1, 2):
            try:
                sent = await send_card(
                    self.bot,
                    user.telegram_user_id,
                    card,
                    reply_to=reply_to,
                    notice=self.viewer(user).notice(card),
                )
            except TelegramForbiddenError:
                await self.blocked(user)
                return Outcome.SKIPPED, []
            except TelegramRetryAfter as exc:
                if attempt == 2:
                    return Outcome.FAILED, []
                await asyncio.sleep(min(float(exc.retry_after), MAX_WAIT))
            except TelegramBadRequest as exc:  # the card, its short form and the notice
                log.warning("Telegram refused a card for user %s: %s", user.id, exc)
                return Outcome.SKIPPED, []
            except (TelegramNetworkError, TelegramAPIError) as exc:
                log.warning("sending to user %s failed: %s", user.id, exc)
                return Outcome.FAILED, []
            else:
                return Outcome.SENT, sent
        return Outcome.FAILED, []

    async def edit(self, user: User, chat_id: int, message_id: int, card: Card) -> None:
        if not reachable(user):
            return
        try:
            await edit_card(self.bot, chat_id, message_id, card)
        except TelegramForbiddenError:
            await self.blocked(user)
        except (TelegramNetworkError, TelegramAPIError) as exc:
            log.warning("editing a card of user %s failed: %s", user.id, exc)

    async def blocked(self, user: User) -> None:
        log.info("user %s blocked the manager bot", user.id)
        user.telegram_blocked = True
        await manager_chat.set_telegram_blocked(user.id, True)
        if self.forget_user is not None and user.telegram_user_id is not None:
            self.forget_user(int(user.telegram_user_id))

    # -- inbox events ------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """The inbox listener: handled in the background, so ingestion never waits for
        Telegram, and in order, so a follow-up never overtakes the card it follows."""
        key = _order_key(event)
        task = asyncio.create_task(self._after(self._last.get(key), event))
        self._last[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, key: tuple[str, int], done: asyncio.Task[None]) -> None:
        if self._last.get(key) is done:
            del self._last[key]

    async def _after(self, previous: asyncio.Task[None] | None, event: events.Event) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        await self.handle(event)

    async def drain(self) -> None:
        """Wait for the pushes in flight (tests; a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def handle(self, event: events.Event) -> None:
        try:
            if isinstance(event, events.InquiryOpened | events.InquiryMessage):
                follow_up = isinstance(event, events.InquiryMessage)
                await self.inquiry_cards(event.inquiry_id, event.message_id, follow_up=follow_up)
            elif isinstance(event, events.InterestMessage):
                await self.interest_message(event.message_id, event.responsible_id)
            elif isinstance(event, events.MessageStatusChanged):
                await self.reply_status(event.message_id)
            elif isinstance(event, events.InquiryDecided) and not event.cards_updated:
                await self.inquiry_decided(event.inquiry_id)  # in the panel or the API
        except Exception:  # a background push: log it, never lose the event loop's task
            log.exception("pushing %r to managers failed", event)

    async def inquiry_cards(self, inquiry_id: int, message_id: int, *, follow_up: bool) -> None:
        """The inquiry's card to every manager who may see its channel."""
        inquiry = await load_inquiry(inquiry_id)
        if inquiry.status != InquiryStatus.OPEN:
            return
        message = await Message.filter(id=message_id).first()
        for user in await channel_audience(inquiry.channel):
            if not reachable(user):
                continue
            card = inquiry_card(self.viewer(user), inquiry, message, follow_up=follow_up)
            _, sent = await self.send(user, card)
            await remember(
                user.id,
                sent,
                CardKind.INQUIRY,
                conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
                inquiry_id=inquiry.id,
                message_id=message_id,
            )

    async def inquiry_decided(
        self, inquiry_id: int, *, clicked: tuple[int, int] | None = None
    ) -> None:
        """Re-render every manager's card of the inquiry: who took or rejected it."""
        inquiry = await load_inquiry(inquiry_id)
        shown: dict[int, Message | None] = {}
        edited = set()
        for card in await manager_chat.cards_of_inquiry(inquiry_id):
            if not reachable(card.user):
                continue
            key = card.message_id  # type: ignore[attr-defined]
            if key not in shown:
                shown[key] = await Message.filter(id=key).first() if key else None
            view = inquiry_card(self.viewer(card.user), inquiry, shown[key])
            await self.edit(card.user, card.chat_id, card.chat_message_id, view)
            edited.add((card.chat_id, card.chat_message_id))
        if clicked is not None and clicked not in edited:
            user = await User.filter(telegram_user_id=clicked[0]).first()
            if user is not None and reachable(user):
                view = inquiry_card(self.viewer(user), inquiry, None)
                await self.edit(user, clicked[0], clicked[1], view)

    async def interest_message(self, message_id: int, responsible_id: int | None) -> None:
        """A customer message on an open interest, to its responsible manager."""
        if responsible_id is None:
            return
        user = await User.filter(id=responsible_id, is_active=True).first()
        message = await Message.filter(id=message_id).prefetch_related("channel").first()
        if user is None or message is None or not reachable(user):
            return
        conversation = await Conversation.get(id=message.conversation_id).prefetch_related(  # type: ignore[attr-defined]
            "client", "interest"
        )
        interest: Interest | None = conversation.interest
        card = message_card(
            self.viewer(user), message, conversation.client, message.channel, interest
        )
        _, sent = await self.send(user, card)
        await remember(
            user.id,
            sent,
            CardKind.MESSAGE,
            conversation_id=conversation.id,
            interest_id=interest.id if interest else None,
            message_id=message.id,
        )

    async def reply_status(self, message_id: int) -> None:
        """Show a reply's new delivery status on the cards that track it."""
        cards = await manager_chat.cards_of_reply(message_id)
        if not cards:
            return
        message = await Message.get(id=message_id)
        conversation = await Conversation.get(id=message.conversation_id).prefetch_related(  # type: ignore[attr-defined]
            "client"
        )
        for card in cards:
            if not reachable(card.user):
                continue
            view = reply_status_card(self.viewer(card.user), message, conversation.client.name)
            await self.edit(card.user, card.chat_id, card.chat_message_id, view)

    # -- scheduler ticks ---------------------------------------------------------------------

    async def deliver_due_reminders_once(self, *, now: datetime | None = None) -> int:
        """One pass: claim due reminders, send each, mark it. Returns how many were sent."""
        due = await reminders.claim_due_reminders(now=now)
        return await self._remind(due, reminders.mark_reminded, nag=False, now=now)

    async def nag_overdue_once(self, *, now: datetime | None = None) -> int:
        """One pass of the overdue nag: once per interaction, an hour after its time."""
        due = await reminders.claim_overdue_nags(now=now)
        return await self._remind(due, reminders.mark_nagged, nag=True, now=now)

    async def _remind(
        self,
        due: list[Interaction],
        mark: Callable[..., Awaitable[None]],
        *,
        nag: bool,
        now: datetime | None,
    ) -> int:
        if not due:
            return 0
        await Interaction.fetch_for_list(due, "client", "interest")
        ids = {i.responsible_id for i in due}  # type: ignore[attr-defined]
        users = {u.id: u for u in await User.filter(id__in=[i for i in ids if i])}
        sent = 0
        for interaction in due:
            user = users.get(interaction.responsible_id)  # type: ignore[attr-defined]
            outcome = Outcome.SKIPPED
            interest: Interest | None = interaction.interest
            if interest is not None and interest.status != InterestStatus.OPEN:
                pass  # a plan kept on a closed deal: marked, never sent
            elif user is not None and reachable(user):
                card = agenda.reminder_card(self.viewer(user), interaction, nag=nag)
                outcome, _ = await self.send(user, card)
            if outcome is Outcome.FAILED:
                continue  # the lease runs out and a later tick tries again
            await mark([interaction.id], now=now)
            sent += outcome is Outcome.SENT
        return sent

    async def send_digests_once(self, *, now: datetime | None = None) -> int:
        """The daily digest to each manager whose local time is 09:00 (until noon, for a
        worker that was down at nine), once per manager and local day."""
        moment = now or clock.now()
        managers = await manager_chat.reachable_managers()
        days = {}
        for user in managers:
            local = moment.astimezone(ZoneInfo(user.timezone))
            if agenda.DIGEST_AT <= local.time() < agenda.DIGEST_UNTIL:
                days[user.id] = local.date()
        taken = await manager_chat.digests_taken(days)
        sent = 0
        for user in _due(managers, days, taken):
            day = days[user.id]
            if not await manager_chat.claim_digest(user.id, day):
                continue
            card = await agenda.digest_card(self.viewer(user), day, moment)
            outcome, _ = await self.send(user, card)
            if outcome is Outcome.FAILED:
                await manager_chat.release_digest(user.id, day)
                continue
            await manager_chat.digest_sent(user.id, day)
            sent += outcome is Outcome.SENT
        return sent


def _order_key(event: events.Event) -> tuple[str, int]:
    """What must stay in order: an inquiry's card and its follow-ups; the messages of one
    deal; a reply's statuses."""
    if isinstance(event, events.InquiryOpened | events.InquiryMessage):
        return ("inquiry", event.inquiry_id)
    if isinstance(event, events.InterestMessage):
        return ("interest", event.interest_id)
    if isinstance(event, events.MessageStatusChanged):
        return ("reply", event.message_id)
    return ("other", 0)


def reachable(user: User) -> bool:
    """A manager the bot can write to: active, bound, not blocked."""
    return user.is_active and user.telegram_user_id is not None and not user.telegram_blocked


def _due(managers: Iterable[User], days: dict[int, Any], taken: set[int]) -> list[User]:
    return [u for u in managers if u.id in days and u.id not in taken]
