"""In-process notifications from the inbox (and inquiries decided anywhere) to whoever
listens: the managers' bot, the live desk.

Published after the database commit, so a listener always finds what it is told about.
A failing listener is logged and never breaks ingestion."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InquiryOpened:
    inquiry_id: int
    message_id: int


@dataclass(frozen=True)
class InquiryMessage:
    """Another customer message on an inquiry still waiting to be taken."""

    inquiry_id: int
    message_id: int


@dataclass(frozen=True)
class InterestMessage:
    """A customer message on an open interest: its responsible manager is told."""

    interest_id: int
    message_id: int
    responsible_id: int | None


@dataclass(frozen=True)
class MessageStatusChanged:
    message_id: int
    status: str


@dataclass(frozen=True)
class MergeSuggested:
    """The sender's contact matches another client: probably the same person."""

    client_id: int
    candidate_id: int
    reason: str


@dataclass(frozen=True)
class InquiryDecided:
    """An inquiry taken, rejected or handed over, in the panel, the API or the bot: the
    bot's cards of it and the open desks show who has it. `cards_updated`: the bot, where
    it was decided, has re-rendered its cards already."""

    inquiry_id: int
    conversation_id: int
    cards_updated: bool = False


Event = (
    InquiryOpened
    | InquiryMessage
    | InterestMessage
    | MessageStatusChanged
    | MergeSuggested
    | InquiryDecided
)
Listener = Callable[[Event], Awaitable[None]]

_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Add a listener; returns the function that removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


async def publish(event: Event) -> None:
    for listener in list(_listeners):
        try:
            await listener(event)
        except Exception:
            log.exception("inbox listener failed on %r", event)
