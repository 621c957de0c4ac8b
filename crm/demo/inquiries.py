"""The demo's conversations and inquiries, for the reports: a customer's first message on
a channel, the inquiry it opened, its decision and the manager's first reply, with
response times as a team shows them: within minutes during the working day (09:00-18:00
Moscow time, Monday to Friday), the next morning for messages sent in the evening or at
the weekend, and a slow tail. Accepted inquiries open the client's deals; some are
rejected with a reason; the newest ones are still waiting. After the first reply some
customers write again, and the manager answers the same way (next-response time; drawn
from a generator of the conversation's own, so the rest of the demo stays as it was).
Rows are plain tuples in DEMO_COLUMNS' columns, like crm.demo.rows'."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DAY = 86_400
MSK = 3 * 3600  # Moscow has kept UTC+3 since 2014
OPENS, CLOSES = 9 * 3600, 18 * 3600

TS = ("id", "created_at", "updated_at")
DEMO_COLUMNS: dict[str, tuple[str, ...]] = {
    "channel_identities": (
        *TS, "channel_id", "client_id", "external_id", "display_name", "subscribed",
    ),
    "conversations": (
        *TS, "channel_id", "identity_id", "client_id", "interest_id", "last_message_at",
    ),
    "messages": (
        *TS, "conversation_id", "channel_id", "direction", "text", "attachments", "meta",
        "source_id", "status", "author_id", "attempts", "last_error", "sent_at",
    ),
    "inquiries": (
        *TS, "conversation_id", "client_id", "channel_id", "status", "first_message_at",
        "decided_by_id", "decided_at", "response_seconds", "interest_id", "rejection_reason_id",
    ),
}  # fmt: skip
GREETINGS = (
    "Здравствуйте! Сколько стоит?",
    "Добрый день, хотим заказать",
    "Подскажите по срокам поставки",
    "Можно счёт на оплату?",
    "Интересует ваше предложение",
)
LATER = (
    "А со скидкой?",
    "Когда сможете отгрузить?",
    "Пришлите, пожалуйста, договор",
    "Спасибо, а доставка входит?",
)
REPLIES = (
    "Добрый день! Сейчас подготовлю предложение",
    "Здравствуйте, уточните, пожалуйста, объём",
    "Спасибо за обращение, перезвоню в течение часа",
)


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def working(ts: int) -> bool:
    local = ts + MSK
    weekday = (local // DAY + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    return weekday < 5 and OPENS <= local % DAY < CLOSES


def next_opening(ts: int) -> int:
    """The start of the next working day's hours after `ts` (Moscow)."""
    local = ts + MSK
    day = local // DAY
    if local % DAY >= OPENS:
        day += 1
    while (day + 3) % 7 >= 5:
        day += 1
    return day * DAY + OPENS - MSK


@dataclass
class Inquiries:
    """Adds a client's inquiries to the bulk rows; `new_id(table)` allocates ids."""

    rng: random.Random
    channels: list[int]
    rejection_reasons: list[int]
    now_ts: int
    new_id: Callable[[str], int]
    rows: dict[str, list[tuple[Any, ...]]]

    def reply_delay(self, first: int, rng: random.Random | None = None) -> int:
        """Seconds from a first message to the reply: minutes in working hours (a log-normal
        with a median of about 6), the next morning (or, for a third, the same evening) out
        of them, and now and then hours late."""
        r = rng or self.rng
        if working(first) or r.random() < 0.3:
            delay = int(60 * math.exp(r.gauss(1.8, 1.1)))
        else:
            delay = next_opening(first) - first + int(60 * math.exp(r.gauss(2.3, 0.9)))
        if r.random() < 0.05:
            delay += r.randrange(3600, 6 * 3600)
        return max(delay, 20)

    def accepted(
        self, client: int, interest: int, manager: int | None, start: int, name: str
    ) -> None:
        """The inquiry that opened `interest` at `start` (its acceptance)."""
        r = self.rng
        reply = self.reply_delay(start - 3600)
        accept = max(int(reply * (0.2 + 0.7 * r.random())), 10)
        first = start - accept
        self._write(client, first, name, ("accepted", manager, accept, interest, None), reply)

    def other(self, client: int, manager: int | None, created: int, name: str) -> None:
        """An inquiry that opened no deal: rejected with a reason, or (when recent) waiting."""
        r = self.rng
        first = created + int(r.random() * max(self.now_ts - created - 600, 1))
        if self.now_ts - first < 2 * DAY and r.random() < 0.6:
            self._write(client, first, name, ("open", None, None, None, None), None)
            return
        reply = self.reply_delay(first)
        after = max(int(reply * r.random()), 10)
        if first + after >= self.now_ts:
            self._write(client, first, name, ("open", None, None, None, None), None)
            return
        reason = r.choice(self.rejection_reasons) if self.rejection_reasons else None
        decided = ("rejected", manager, after, None, reason)
        self._write(client, first, name, decided, reply if r.random() < 0.5 else None)

    def _later(self, conversation: int, replied: int) -> list[tuple[int, bool]]:
        """The later messages after the first reply at `replied`: (when, from the customer),
        up to two questions, each a while after the last answer, each answered (unless
        the answer would come after now)."""
        r = random.Random(conversation)
        out: list[tuple[int, bool]] = []
        ts = replied
        for _ in range(r.choice((0, 0, 1, 1, 2))):
            asked = ts + int(60 * math.exp(r.gauss(3.5, 1.5)))  # a median of half an hour
            if asked >= self.now_ts:
                break
            out.append((asked, True))
            answered = asked + self.reply_delay(asked, r)
            if answered >= self.now_ts:
                break
            out.append((answered, False))
            ts = answered
        return out

    def _write(
        self,
        client: int,
        first: int,
        name: str,
        decision: tuple[str, int | None, int | None, int | None, int | None],
        reply: int | None,
    ) -> None:
        r, rows = self.rng, self.rows
        status, manager, decided_after, interest, reason = decision
        channel = r.choice(self.channels)
        identity, conversation = self.new_id("channel_identities"), self.new_id("conversations")
        at = _at(first)
        last = first + reply if reply is not None and first + reply < self.now_ts else first
        later = self._later(conversation, last) if last > first and manager is not None else []
        last = max([last, *(ts for ts, _ in later)])
        rows["channel_identities"].append(
            (identity, at, at, channel, client, f"demo-{identity}", name, True)
        )
        rows["conversations"].append(
            (conversation, at, _at(last), channel, identity, client, interest, _at(last))
        )
        message = self.new_id("messages")
        rows["messages"].append(
            (message, at, at, conversation, channel, "in", r.choice(GREETINGS), "[]", "{}",
             f"in-{message}", "received", None, 0, "", at)
        )  # fmt: skip
        if reply is not None and manager is not None and first + reply < self.now_ts:
            sent = _at(first + reply)
            answer = self.new_id("messages")
            rows["messages"].append(
                (answer, sent, sent, conversation, channel, "out", r.choice(REPLIES), "[]", "{}",
                 f"out-{answer}", "delivered", manager, 1, "", sent)
            )  # fmt: skip
        for ts, incoming in later:
            one, sent = self.new_id("messages"), _at(ts)
            words = LATER if incoming else REPLIES
            text, state = words[ts % len(words)], "received" if incoming else "delivered"
            rows["messages"].append(
                (one, sent, sent, conversation, channel, "in" if incoming else "out", text, "[]",
                 "{}", f"{'in' if incoming else 'out'}-{one}", state,
                 None if incoming else manager, 0 if incoming else 1, "", sent)
            )  # fmt: skip
        decided = None if decided_after is None else first + decided_after
        rows["inquiries"].append(
            (self.new_id("inquiries"), at, _at(decided or first), conversation, client, channel,
             status, at, manager if decided else None, _at(decided) if decided else None,
             decided_after, interest, reason)
        )  # fmt: skip
