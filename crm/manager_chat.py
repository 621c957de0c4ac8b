"""The managers' chat as the CRM records it: which chat message is the card of what, who
blocked the bot, which daily digests went out, and the reads the bot's cards are made of.

Reads here take ids the caller has already checked with `crm.access`; writes are the
bot's own bookkeeping, never a change of CRM data."""

from __future__ import annotations

from datetime import date
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery

from crm import clock
from crm.models import (
    CardKind,
    ChatCard,
    Conversation,
    DigestSent,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Message,
    User,
)


async def record_card(
    user_id: int,
    chat_id: int,
    chat_message_id: int,
    kind: CardKind,
    *,
    conversation_id: int | None = None,
    inquiry_id: int | None = None,
    interest_id: int | None = None,
    message_id: int | None = None,
    replace: bool = False,
) -> None:
    """Remember what a bot message in a manager's chat shows. A message just sent is new;
    an edited one (`replace`) may already be recorded as something else."""
    values: dict[str, Any] = {
        "user_id": user_id,
        "kind": kind,
        "conversation_id": conversation_id,
        "inquiry_id": inquiry_id,
        "interest_id": interest_id,
        "message_id": message_id,
    }
    where: dict[str, Any] = {"chat_id": chat_id, "chat_message_id": chat_message_id}
    if replace and await ChatCard.filter(**where).update(**values):
        return
    try:
        await ChatCard.create(**where, **values)
    except IntegrityError:  # recorded meanwhile (or a message id seen again): keep ours
        await ChatCard.filter(**where).update(**values)


async def card_at(user_id: int, chat_id: int, chat_message_id: int) -> ChatCard | None:
    """The card behind a message of this user's chat, if the bot recorded one."""
    return await ChatCard.filter(
        user_id=user_id, chat_id=chat_id, chat_message_id=chat_message_id
    ).first()


async def forget_card(user_id: int, chat_id: int, chat_message_id: int) -> None:
    """The message shows something else now."""
    await ChatCard.filter(
        user_id=user_id, chat_id=chat_id, chat_message_id=chat_message_id
    ).delete()


async def cards_of_inquiry(inquiry_id: int) -> list[ChatCard]:
    """Every manager's card of one inquiry, with its user."""
    return (
        await ChatCard.filter(inquiry_id=inquiry_id, kind=CardKind.INQUIRY)
        .order_by("id")
        .prefetch_related("user")
    )


async def cards_of_reply(message_id: int) -> list[ChatCard]:
    """The delivery-status cards of an outgoing message, with their users."""
    return (
        await ChatCard.filter(message_id=message_id, kind=CardKind.REPLY)
        .order_by("id")
        .prefetch_related("user")
    )


async def set_telegram_blocked(user_id: int, blocked: bool) -> None:
    """Telegram answered 403 (the manager blocked the bot), or the manager is back."""
    await User.filter(id=user_id).update(telegram_blocked=blocked, updated_at=clock.now())


async def reachable_managers() -> list[User]:
    """Active users with a bound Telegram account that has not blocked the bot."""
    return await User.filter(
        is_active=True, telegram_user_id__isnull=False, telegram_blocked=False
    ).order_by("id")


async def claim_digest(user_id: int, day: date) -> bool:
    """Take the digest of `day` for the user; False when it was already taken."""
    try:
        await DigestSent.create(user_id=user_id, day=day)
    except IntegrityError:
        return False
    return True


async def digest_sent(user_id: int, day: date) -> None:
    await DigestSent.filter(user_id=user_id, day=day).update(sent_at=clock.now())


async def release_digest(user_id: int, day: date) -> None:
    """Give a claim back after a transient failure, so a later tick sends it."""
    await DigestSent.filter(user_id=user_id, day=day, sent_at__isnull=True).delete()


async def digests_taken(day_by_user: dict[int, date]) -> set[int]:
    """Of the given users, those whose digest for their own local day is already taken."""
    if not day_by_user:
        return set()
    rows = await DigestSent.filter(
        user_id__in=list(day_by_user), day__in=sorted(set(day_by_user.values()))
    ).values_list("user_id", "day")
    return {int(uid) for uid, day in rows if day_by_user.get(int(uid)) == day}


async def interests_without_next_step(user_id: int, *, limit: int = 50) -> list[Interest]:
    """The user's open interests with no planned interaction."""
    planned = Interaction.filter(state=InteractionState.PLANNED, interest_id__isnull=False).values(
        "interest_id"
    )
    return (
        await Interest.filter(responsible_id=user_id, status=InterestStatus.OPEN)
        .exclude(id__in=Subquery(planned))
        .order_by("updated_at", "id")
        .limit(limit)
        .prefetch_related("client")
    )


async def next_planned(interest_id: int) -> Interaction | None:
    """The soonest planned interaction of an interest."""
    return (
        await Interaction.filter(interest_id=interest_id, state=InteractionState.PLANNED)
        .order_by("planned_at", "id")
        .first()
    )


async def conversation_of_interest(interest_id: int) -> Conversation | None:
    """The most recently active conversation linked to an interest."""
    return (
        await Conversation.filter(interest_id=interest_id)
        .order_by("-last_message_at", "-id")
        .first()
    )


async def last_messages_of_interest(interest_id: int, *, limit: int = 3) -> list[Message]:
    """The newest messages of the interest's conversations, oldest first."""
    rows = await Message.filter(conversation__interest_id=interest_id).order_by("-id").limit(limit)
    return list(reversed(rows))
