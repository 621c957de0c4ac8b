"""A small company whose report figures are known: March 2026 in Moscow, working hours
09:00-18:00 Monday to Friday, 9 March a holiday, first reply within 15 working minutes.

Deals (scenario "Продажа": S1 -> S2 -> S3), times in Moscow:
  A  Анна, 100, client cA: S1 on 2.03 10:00, S2 on 4.03 10:00, won 5.03 10:00
  B  Анна,  50, client cB: S1 on 3.03 10:00, lost ("Дорого") 3.03 12:00
  C  Борис, 200, client cC: S1 on 10.03 10:00, S2 on 13.03 10:00, S3 on 14.03 10:00, open
  D  Анна,  30, client cD: S1 on 20.02 10:00, S2 on 2.03 10:00, open
Inquiries (channel T = Telegram, V = VK):
  Q1 T cA 2.03 (Mon) 10:00, Анна accepts 10:03, replies 10:07 (7 working minutes) -> A
  Q2 T cB 6.03 (Fri) 17:50, a robot answers 17:51, Анна accepts Tue 10.03 09:05 (15),
     replies 09:20 (30 working minutes: 9.03 is a holiday) -> B
  Q3 V cC 11.03 12:00, Борис accepts 12:01, replies 14:00 (120) -> C
  Q4 V cE 12.03 11:00, Борис rejects 11:02 ("Спам")
  Q5 T cF 13.03 10:00, waiting
  Q6 T cD 10.02 10:00 (before the period), Анна accepts 10:30
Interactions: Анна did a call with cA on 5.03; planned one on D for 20.03 (overdue on 31.03).
Plans for March: Анна 1000 and 2 wins; Борис 500.
Clients: cA legal, "promo", tag VIP, field Отрасль=Опт, phone +79161234567;
  cB "promo", Розница, email; cC Борис's, "site", Опт; cD Анна's; cE, cF nobody's, cF with
  cA's phone (a possible duplicate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import time_machine

from crm import channels, clients, company, conversations, deals, fields, interactions, scenarios
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    Conversation,
    Direction,
    FieldType,
    Inquiry,
    InquiryStatus,
    Interest,
    ManagerPlan,
    Message,
    MessageStatus,
    ReasonKind,
    Role,
    User,
)
from crm.users import create_user

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=MSK)  # when the reports are read
T = TypeVar("T")


def msk(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


async def at(moment: datetime, action: Callable[[], Awaitable[T]]) -> T:
    with time_machine.travel(moment, tick=False):
        return await action()


@dataclass
class World:
    admin: User
    head: User
    anna: User
    boris: User
    t: Channel
    v: Channel
    field_id: int
    clients: dict[str, Client] = field(default_factory=dict)
    deals: dict[str, Interest] = field(default_factory=dict)
    inquiries: dict[str, Inquiry] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    stages: list[int] = field(default_factory=list)
    scenario_id: int = 0


async def _user(email: str, name: str, role: Role) -> User:
    return await create_user(email=email, full_name=name, role=role, locale="en", actor=None)


async def _inquiry(
    w: World,
    name: str,
    channel: Channel,
    client: Client,
    first: datetime,
    *,
    decided: tuple[User, datetime, InquiryStatus] | None = None,
    deal: str | None = None,
    reason: str | None = None,
) -> Conversation:
    identity = await ChannelIdentity.create(channel=channel, external_id=name, client=client)
    conversation = await at(
        first,
        lambda: Conversation.create(
            channel=channel, identity=identity, client=client, last_message_at=first
        ),
    )
    await at(
        first,
        lambda: Message.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.IN,
            text="Здравствуйте",
            source_id=f"{name}-in",
            status=MessageStatus.RECEIVED,
            sent_at=first,
        ),
    )
    values: dict[str, Any] = {}
    if decided:
        user, moment, status = decided
        values = {
            "status": status,
            "decided_by": user,
            "decided_at": moment,
            "response_seconds": int((moment - first).total_seconds()),
        }
    if deal:
        values["interest"] = w.deals[deal]
    if reason:
        values["rejection_reason_id"] = w.reasons[reason]
    w.inquiries[name] = await at(
        first,
        lambda: Inquiry.create(
            conversation=conversation,
            client=client,
            channel=channel,
            first_message_at=first,
            **values,
        ),
    )
    return conversation


async def _reply(conversation: Conversation, actor: User | None, moment: datetime) -> None:
    await at(moment, lambda: conversations.queue_reply(conversation.id, actor=actor, text="Ответ"))


async def build() -> World:
    admin = await _user("admin@example.com", "Admin", Role.ADMIN)
    head = await _user("head@example.com", "Head", Role.HEAD)
    anna = await _user("anna@example.com", "Анна", Role.MANAGER)
    boris = await _user("boris@example.com", "Борис", Role.MANAGER)
    await company.update_company(
        {
            "default_timezone": "Europe/Moscow",
            "work_day_start": time(9),
            "work_day_end": time(18),
            "work_days": "12345",
            "holidays": ["2026-03-09"],
            "sla_first_reply_minutes": 15,
        },
        actor=None,
    )
    scenario = await scenarios.create_scenario(
        "Продажа", ["S1", "S2", "S3"], require_next_step=False, is_default=True, actor=None
    )
    stages = [s.id for s in await scenarios.stages_of(scenario.id)]
    loss = await scenarios.add_reason(ReasonKind.LOSS, "Дорого", actor=None)
    spam = await scenarios.add_reason(ReasonKind.REJECTION, "Спам", actor=None)
    industry = await fields.create_field(
        name="Отрасль", type=FieldType.LIST, options=["Опт", "Розница"], actor=None
    )
    t = await channels.create_channel(
        kind=ChannelKind.TELEGRAM, name="T", credentials={"token": "1:x"}, actor=None
    )
    v = await channels.create_channel(
        kind=ChannelKind.VK,
        name="V",
        credentials={"token": "x", "secret": "s", "confirmation": "c", "group_id": 1},
        actor=None,
    )
    w = World(admin, head, anna, boris, t, v, industry.id, stages=stages)
    w.scenario_id = scenario.id
    w.reasons = {"Дорого": loss.id, "Спам": spam.id}
    opt = {industry.id: "Опт"}
    w.clients["cA"] = await at(
        msk(2, 1, 10),
        lambda: clients.create_client(
            actor=anna,
            kind="legal",
            name="cA",
            lead_source="promo",
            tags=["VIP"],
            phones=["+79161234567"],
            custom=opt,
        ),
    )
    w.clients["cB"] = await clients.create_client(
        actor=anna,
        name="cB",
        lead_source="promo",
        emails=["b@example.com"],
        custom={industry.id: "Розница"},
    )
    w.clients["cC"] = await clients.create_client(
        actor=boris, name="cC", lead_source="site", custom=opt
    )
    w.clients["cD"] = await clients.create_client(actor=anna, name="cD")
    w.clients["cE"] = await clients.create_client(actor=None, name="cE")
    w.clients["cF"] = await clients.create_client(actor=None, name="cF", phones=["+79161234567"])

    async def deal(name: str, who: User, client: str, amount: int, moment: datetime) -> None:
        w.deals[name] = await at(
            moment,
            lambda: deals.create_interest(
                actor=who, client_id=w.clients[client].id, title=name, amount=amount
            ),
        )

    async def move(name: str, who: User, stage: int, moment: datetime) -> None:
        await at(moment, lambda: deals.move_stage(w.deals[name].id, stages[stage], actor=who))

    await deal("D", anna, "cD", 30, msk(2, 20, 10))
    await move("D", anna, 1, msk(3, 2, 10))
    await deal("A", anna, "cA", 100, msk(3, 2, 10))
    await move("A", anna, 1, msk(3, 4, 10))
    await at(msk(3, 5, 10), lambda: deals.win(w.deals["A"].id, actor=anna))
    await deal("B", anna, "cB", 50, msk(3, 3, 10))
    await at(msk(3, 3, 12), lambda: deals.lose(w.deals["B"].id, loss.id, actor=anna))
    await deal("C", boris, "cC", 200, msk(3, 10, 10))
    await move("C", boris, 1, msk(3, 13, 10))
    await move("C", boris, 2, msk(3, 14, 10))

    accepted, rejected = InquiryStatus.ACCEPTED, InquiryStatus.REJECTED
    q1 = await _inquiry(
        w,
        "Q1",
        t,
        w.clients["cA"],
        msk(3, 2, 10),
        decided=(anna, msk(3, 2, 10, 3), accepted),
        deal="A",
    )
    await _reply(q1, anna, msk(3, 2, 10, 7))
    q2 = await _inquiry(
        w,
        "Q2",
        t,
        w.clients["cB"],
        msk(3, 6, 17, 50),
        decided=(anna, msk(3, 10, 9, 5), accepted),
        deal="B",
    )
    await _reply(q2, None, msk(3, 6, 17, 51))  # a stage robot: not a reply
    await _reply(q2, anna, msk(3, 10, 9, 20))
    q3 = await _inquiry(
        w,
        "Q3",
        v,
        w.clients["cC"],
        msk(3, 11, 12),
        decided=(boris, msk(3, 11, 12, 1), accepted),
        deal="C",
    )
    await _reply(q3, boris, msk(3, 11, 14))
    await _reply(q3, boris, msk(3, 11, 15))  # a second reply changes nothing
    await _inquiry(
        w,
        "Q4",
        v,
        w.clients["cE"],
        msk(3, 12, 11),
        decided=(boris, msk(3, 12, 11, 2), rejected),
        reason="Спам",
    )
    await _inquiry(w, "Q5", t, w.clients["cF"], msk(3, 13, 10))
    await _inquiry(
        w, "Q6", t, w.clients["cD"], msk(2, 10, 10), decided=(anna, msk(2, 10, 10, 30), accepted)
    )
    await at(
        msk(3, 5, 11),
        lambda: interactions.record_done(
            actor=anna, kind="call", client_id=w.clients["cA"].id, interest_id=w.deals["A"].id
        ),
    )
    await at(
        msk(3, 6, 11),
        lambda: interactions.plan_interaction(
            interactions.Plan(kind="call", planned_at=msk(3, 20, 11)),
            actor=anna,
            interest_id=w.deals["D"].id,
        ),
    )
    await ManagerPlan.create(user=anna, month=date(2026, 3, 1), amount=Decimal(1000), wins=2)
    await ManagerPlan.create(user=boris, month=date(2026, 3, 1), amount=Decimal(500))
    return w
