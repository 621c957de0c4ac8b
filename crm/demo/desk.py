"""Today's desk in the demo: what a team finds when it opens the inbox. The bulk's history
(crm.demo.inquiries) is answered and decided; here, for the managers whose clients the last
chunk holds, come inquiries still waiting to be taken (from the last working hours, a few
past the first-reply SLA; some from leads nobody is responsible for), conversations where
the customer wrote again and nobody answered yet, and deals just accepted with no reply.
Times count back from the last working moment (Moscow, 09:00-18:00, Monday to Friday), so a
demo made at night or at the weekend still shows a working day's desk. A few hundred rows
whatever the size, in DEMO_COLUMNS' columns, with ids from the bulk's allocator."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crm.demo.inquiries import CLOSES, DAY, GREETINGS, MSK, REPLIES, _at, working

Row = tuple[Any, ...]
Rows = dict[str, list[Row]]

FOLLOW_UPS = (
    "Добрый день! Есть новости по заказу?",
    "Пришлите, пожалуйста, счёт на оплату",
    "Получили предложение, есть вопросы по цене",
    "А можно оплатить двумя частями?",
    "Когда ждать доставку?",
    "Нужны ещё 20 штук, успеете до пятницы?",
    "Перезвоните, пожалуйста, после обеда",
    "Договор подписали, куда отправить скан?",
)
# minutes the waiting inquiries have waited: a few within the SLA, the rest past it
WAITED = (2, 4, 7, 11, 13, 24, 38, 55, 90, 140, 210)
PER_MANAGER = 3  # waiting inquiries and unanswered conversations, at most, each


def last_working(ts: int) -> int:
    """`ts` in working hours, else a minute before the last working day's close."""
    if working(ts):
        return ts
    local = ts + MSK
    day = local // DAY
    if local % DAY < CLOSES:
        day -= 1
    while (day + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
        day -= 1
    return day * DAY + CLOSES - MSK - 60


def desk_rows(
    rng: random.Random,
    columns: dict[str, tuple[str, ...]],
    last_chunk: Rows,
    channels: list[int],
    new_id: Callable[[str], int],
    now: datetime,
) -> Rows:
    """Today's desk for the clients and open deals of `last_chunk` (the bulk's last)."""
    rows: Rows = defaultdict(list)
    if not channels or not last_chunk.get("clients"):
        return rows
    desk = _Desk(rng, rows, channels, new_id, int(now.timestamp()))
    c, i = columns["clients"], columns["interests"]
    cid, cname, cresp = c.index("id"), c.index("name"), c.index("responsible_id")
    names = {row[cid]: row[cname] for row in last_chunk["clients"]}
    by_manager: dict[int | None, list[int]] = defaultdict(list)
    for row in last_chunk["clients"]:
        by_manager[row[cresp]].append(row[cid])
    deals: dict[int, list[tuple[int, int]]] = defaultdict(list)
    iid, iclient, iresp, istatus = (
        i.index("id"),
        i.index("client_id"),
        i.index("responsible_id"),
        i.index("status"),
    )
    for row in last_chunk["interests"]:
        if row[istatus] == "open" and row[iresp] is not None:
            deals[row[iresp]].append((row[iid], row[iclient]))
    for manager in sorted(m for m in by_manager if m is not None):
        clients = by_manager[manager]
        for client in rng.sample(clients, min(len(clients), rng.randint(0, PER_MANAGER))):
            desk.waiting(client, names[client])
        own = deals.get(manager, [])
        for interest, client in rng.sample(own, min(len(own), rng.randint(1, PER_MANAGER))):
            desk.unanswered(client, names[client], interest, manager)
    leads = by_manager.get(None, [])
    for client in rng.sample(leads, min(len(leads), 3)):
        desk.waiting(client, names[client])
    return rows


class _Desk:
    def __init__(
        self,
        rng: random.Random,
        rows: Rows,
        channels: list[int],
        new_id: Callable[[str], int],
        now_ts: int,
    ) -> None:
        self.rng, self.rows, self.channels, self.new_id = rng, rows, channels, new_id
        self.anchor = last_working(now_ts)

    def waiting(self, client: int, name: str) -> None:
        """A first message in the last working hours: an inquiry nobody took yet."""
        first = self.anchor - self.rng.choice(WAITED) * 60 - self.rng.randrange(60)
        conversation, channel = self._conversation(client, name, first, None)
        self._message(conversation, channel, first, "in", self.rng.choice(GREETINGS), None)
        self._inquiry(conversation, client, channel, first, None)

    def unanswered(self, client: int, name: str, interest: int, manager: int) -> None:
        """A conversation whose customer wrote last: mostly an old one, answered back then,
        with a new question; now and then an inquiry accepted minutes ago, not answered."""
        r = self.rng
        if r.random() < 0.25:
            first = self.anchor - r.choice(WAITED) * 60
            conversation, channel = self._conversation(client, name, first, interest)
            self._message(conversation, channel, first, "in", r.choice(GREETINGS), None)
            self._inquiry(conversation, client, channel, first, (manager, interest, 90))
            return
        first = self.anchor - r.randrange(2 * DAY, 20 * DAY)
        conversation, channel = self._conversation(client, name, first, interest)
        self._message(conversation, channel, first, "in", r.choice(GREETINGS), None)
        reply = first + r.randrange(120, 1800)
        self._message(conversation, channel, reply, "out", r.choice(REPLIES), manager)
        self._inquiry(conversation, client, channel, first, (manager, interest, reply - first))
        last = self.anchor - r.randrange(5 * 60, 26 * 3600)
        for at in sorted({last, last - r.randrange(60, 900)})[-r.randint(1, 2) :]:
            self._message(conversation, channel, at, "in", r.choice(FOLLOW_UPS), None)

    def _conversation(
        self, client: int, name: str, first: int, interest: int | None
    ) -> tuple[int, int]:
        channel = self.rng.choice(self.channels)
        identity, conversation = self.new_id("channel_identities"), self.new_id("conversations")
        at = _at(first)
        self.rows["channel_identities"].append(
            (identity, at, at, channel, client, f"demo-{identity}", name, True)
        )
        self.rows["conversations"].append(
            (conversation, at, at, channel, identity, client, interest, at)
        )
        return conversation, channel

    def _message(
        self, conversation: int, channel: int, ts: int, direction: str, text: str, author: Any
    ) -> None:
        at, message = _at(ts), self.new_id("messages")
        status = "received" if direction == "in" else "delivered"
        self.rows["messages"].append(
            (message, at, at, conversation, channel, direction, text, "[]", "{}",
             f"{direction}-{message}", status, author, int(direction == "out"), "", at)
        )  # fmt: skip
        # the conversation's last message moment (its row is the last one added)
        for index in range(len(self.rows["conversations"]) - 1, -1, -1):
            row = self.rows["conversations"][index]
            if row[0] == conversation:
                if row[7] < at:
                    self.rows["conversations"][index] = (*row[:2], at, *row[3:7], at)
                break

    def _inquiry(
        self,
        conversation: int,
        client: int,
        channel: int,
        first: int,
        accepted: tuple[int, int, int] | None,
    ) -> None:
        at = _at(first)
        if accepted is None:
            row: Row = (self.new_id("inquiries"), at, at, conversation, client, channel, "open",
                        at, None, None, None, None, None)  # fmt: skip
        else:
            manager, interest, after = accepted
            decided = _at(first + after)
            row = (self.new_id("inquiries"), at, decided, conversation, client, channel,
                   "accepted", at, manager, decided, after, interest, None)  # fmt: skip
        self.rows["inquiries"].append(row)
