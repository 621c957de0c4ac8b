"""The managers' chat as the CRM records it: which chat message is the card of what, who
blocked the bot, which daily digests went out, and the reads the bot's cards are made of.

Reads here take ids the caller has already checked with `crm.access`; writes are the
bot's own bookkeeping, never a change of CRM data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery

from crm import clock
from crm.models import (
    CardKind,
    ChatCard,
    Client,
    DigestSent,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Message,
    Stage,
    User,
)
from crm.rows import RowReader, query, split

_INTERESTS, _CLIENTS, _STAGES = RowReader(Interest), RowReader(Client), RowReader(Stage)
_INTERACTIONS = RowReader(Interaction)
_CARD_MESSAGES = RowReader(Message, ("id", "direction", "text", "sent_at", "created_at"))
_CARD_COLUMNS = (
    "user_id",
    "kind",
    "conversation_id",
    "inquiry_id",
    "interest_id",
    "message_id",
    "updated_at",
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
) -> None:
    """Remember what a bot message in a manager's chat shows: a message just sent, or one
    edited to show something else (what it showed before is replaced). One upsert on the
    chat's message id, which is unique."""
    stamp = ChatCard._meta.fields_map["updated_at"].to_db_value(clock.now(), ChatCard)
    values: dict[str, Any] = {
        "chat_id": chat_id,
        "chat_message_id": chat_message_id,
        "user_id": user_id,
        "kind": CardKind(kind).value,
        "conversation_id": conversation_id,
        "inquiry_id": inquiry_id,
        "interest_id": interest_id,
        "message_id": message_id,
        "created_at": stamp,
        "updated_at": stamp,
    }
    sql = (
        f"INSERT INTO chat_cards ({', '.join(values)}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(values) + 1))}) "
        "ON CONFLICT (chat_id, chat_message_id) DO UPDATE SET "
        + ", ".join(f"{column} = excluded.{column}" for column in _CARD_COLUMNS)
    )
    await query(sql, list(values.values()))


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


@dataclass(frozen=True)
class DealView:
    """What a deal card shows, read in two queries side by side: the interest with its
    client and stage (`interest.client`, `interest.stage`), the loss reason's text, the
    soonest planned interaction, the most recently active conversation's id, and the last
    messages, oldest first (id, direction, text, sent_at, created_at only)."""

    interest: Interest
    loss_reason: str | None
    planned: Interaction | None
    conversation_id: int | None
    messages: list[Message]


async def deal_view(interest_id: int, *, owner: int | None, messages: int = 3) -> DealView | None:
    """The deal card's data; None unless the interest exists and `owner` (see
    `crm.access.interest_owner`; None: anyone's) is responsible for it or for its client."""
    visible = ""
    params: list[Any] = [interest_id]
    if owner is not None:
        visible = " AND (i.responsible_id = $2 OR c.responsible_id = $2)"
        params.append(owner)
    card_sql = (
        f"SELECT {_INTERESTS.select_list('i')}, {_CLIENTS.select_list('c')}, "
        f"{_STAGES.select_list('s')}, {_INTERACTIONS.select_list('p')}, r.text, "
        "(SELECT cv.id FROM conversations cv WHERE cv.interest_id = i.id"
        " ORDER BY cv.last_message_at DESC, cv.id DESC LIMIT 1) "
        "FROM interests i JOIN clients c ON c.id = i.client_id "
        "JOIN stages s ON s.id = i.stage_id "
        "LEFT JOIN reasons r ON r.id = i.loss_reason_id "
        "LEFT JOIN interactions p ON p.id = (SELECT q.id FROM interactions q"
        f" WHERE q.interest_id = i.id AND q.state = '{InteractionState.PLANNED.value}'"
        " ORDER BY q.planned_at, q.id LIMIT 1) "
        f"WHERE i.id = $1{visible}"
    )
    messages_sql = (
        f"SELECT {_CARD_MESSAGES.select_list('m')} FROM messages m "
        "JOIN conversations cv ON cv.id = m.conversation_id "
        f"WHERE cv.interest_id = $1 ORDER BY m.id DESC LIMIT {int(messages)}"
    )
    rows, message_rows = await asyncio.gather(
        query(card_sql, params), query(messages_sql, [interest_id])
    )
    if not rows:
        return None
    parts = split(rows[0], _INTERESTS, _CLIENTS, _STAGES, _INTERACTIONS)
    interest = _INTERESTS.models([parts[0]])[0]
    interest.client = _CLIENTS.models([parts[1]])[0]
    interest.stage = _STAGES.models([parts[2]])[0]
    planned_id = parts[3][_INTERACTIONS.columns.index("id")]
    planned = _INTERACTIONS.models([parts[3]])[0] if planned_id is not None else None
    loss_reason, conversation_id = parts[4]
    return DealView(
        interest=interest,
        loss_reason=loss_reason,
        planned=planned,
        conversation_id=conversation_id,
        messages=list(reversed(_CARD_MESSAGES.models(message_rows))),
    )
