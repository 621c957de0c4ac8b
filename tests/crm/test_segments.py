"""Segment rules against data with known members (crm.segments): client fields, activity
over periods read in the company's time zone (edges included), money, channels, classes,
AND/OR groups; members recomputed with joins and leaves recorded; bad rules refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from crm.errors import ValidationFailed
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    Company,
    Conversation,
    Direction,
    FieldDefinition,
    FieldOption,
    FieldType,
    FieldValue,
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    InterestStatus,
    Invoice,
    Message,
    MessageStatus,
    Payment,
    Segment,
    SegmentMember,
    Stage,
    Tag,
    User,
)
from crm.rows import query
from crm.segments.abcxyz import classify
from crm.segments.compile import compile_rule
from crm.segments.members import recompute, recompute_due
from crm.segments.rules import parse_rule
from tests.crm import factories

# Monday 7 December 2026, 12:00 UTC = 15:00 in Moscow (the company's default zone)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass
class World:
    admin: User
    m1: User
    m2: User
    alfa: Client
    beta: Client
    gamma: Client
    merged: Client
    vip: Tag
    wholesale: Tag
    staff: FieldDefinition
    branch: FieldDefinition
    retail: FieldOption
    scenario_id: int
    stage: Stage


async def _interest(client: Client, world_stage: Stage, **kw: Any) -> Interest:
    return await Interest.create(
        client=client,
        title="Поставка",
        scenario_id=world_stage.scenario_id,  # type: ignore[attr-defined]
        stage=world_stage,
        **kw,
    )


async def _world() -> World:
    admin = await factories.admin()
    m1, m2 = await factories.manager(), await factories.manager()
    staff = await FieldDefinition.create(name="Сотрудники", type=FieldType.NUMBER)
    branch = await FieldDefinition.create(name="Отрасль", type=FieldType.LIST)
    retail = await FieldOption.create(definition=branch, value="Розница")
    await FieldOption.create(definition=branch, value="Опт")
    alfa = await factories.client(
        admin,
        "ООО Альфа",
        kind="legal",
        relation_type="supplier",
        region="Москва",
        responsible_id=m1.id,
        tags=["VIP"],
        lead_source="Сайт",
        emails=["alfa@example.com"],
        birthday=date(1980, 3, 14),
    )
    beta = await factories.client(
        admin, "Бета", region="Татарстан, Казань", responsible_id=m2.id, lead_source="Выставка"
    )
    gamma = await factories.client(admin, "ООО Гамма", kind="legal", region="москва")
    merged = await factories.client(admin, "ООО Альфа (дубль)", kind="legal", region="Москва")
    await Client.filter(id=merged.id).update(merged_into_id=alfa.id)
    vip = await Tag.get(name="VIP")
    wholesale = await Tag.create(name="Опт")
    await gamma.tags.add(vip, wholesale)
    await FieldValue.create(client=alfa, definition=staff, value_number=Decimal(50))
    await FieldValue.create(client=gamma, definition=staff, value_number=Decimal(5))
    await FieldValue.create(client=alfa, definition=branch, value_option=retail)
    scenario = await factories.scenario()
    stage = await Stage.filter(scenario_id=scenario.id).order_by("position").first()
    assert stage is not None
    # Alfa: an open deal; Gamma: won at 23:30 Moscow on 30 November, and 00:30 on 1 December
    await _interest(alfa, stage)
    nov = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)
    dec = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    await _interest(gamma, stage, status=InterestStatus.WON, amount=Decimal(1000), closed_at=nov)
    await _interest(gamma, stage, status=InterestStatus.WON, amount=Decimal(500), closed_at=dec)
    # Beta: payments on the first and last day of November and on 1 December; an invoice
    # 600 short, due 27 November (10 days overdue on 7 December); a paid one long overdue
    deal = await _interest(beta, stage)
    owed = await Invoice.create(
        interest=deal,
        client=beta,
        number="1",
        issued_on=date(2026, 11, 1),
        due_on=date(2026, 11, 27),
        amount=Decimal(1000),
        paid=Decimal(400),
    )
    await Invoice.create(
        interest=deal,
        client=beta,
        number="2",
        issued_on=date(2026, 1, 1),
        due_on=date(2026, 1, 10),
        amount=Decimal(90),
        paid=Decimal(90),
    )
    for day, amount in ((date(2026, 11, 1), 300), (date(2026, 11, 30), 100)):
        await Payment.create(invoice=owed, client=beta, paid_on=day, amount=Decimal(amount))
    await Payment.create(invoice=owed, client=beta, paid_on=date(2026, 12, 1), amount=999)
    # Alfa: a call 5 days ago, a Telegram identity that wrote 2 days ago; Beta: unsubscribed
    # on Viber, wrote 20 days ago
    await Interaction.create(
        client=alfa,
        kind=InteractionKind.CALL,
        state=InteractionState.DONE,
        done_at=NOW - timedelta(days=5),
        sort_at=NOW - timedelta(days=5),
    )
    for client, kind, subscribed, ago in (
        (alfa, ChannelKind.TELEGRAM, True, 2),
        (beta, ChannelKind.VIBER, False, 20),
    ):
        channel = await Channel.create(kind=kind, name=kind.value)
        identity = await ChannelIdentity.create(
            channel=channel, external_id=f"x{client.id}", client=client, subscribed=subscribed
        )
        talk = await Conversation.create(channel=channel, identity=identity, client=client)
        message = await Message.create(
            conversation=talk,
            channel=channel,
            direction=Direction.IN,
            text="Здравствуйте",
            status=MessageStatus.RECEIVED,
        )
        await Message.filter(id=message.id).update(created_at=NOW - timedelta(days=ago))
    return World(
        admin, m1, m2, alfa, beta, gamma, merged, vip, wholesale, staff, branch, retail,
        scenario.id, stage,
    )  # fmt: skip


async def members(rule: dict[str, Any]) -> set[str]:
    sql, params = await compile_rule(parse_rule(rule), now=NOW)
    ids = [row[0] for row in await query(sql, params)]
    return {c.name for c in await Client.filter(id__in=ids)}


def one(**condition: Any) -> dict[str, Any]:
    return {"op": "and", "items": [{"kind": "condition", **condition}]}


ALFA, BETA, GAMMA = "ООО Альфа", "Бета", "ООО Гамма"


async def test_client_fields(db: TortoiseContext) -> None:
    w = await _world()
    assert await members(one(field="kind", op="eq", value="legal")) == {ALFA, GAMMA}
    assert await members(one(field="kind", op="ne", value="legal")) == {BETA}
    assert await members(one(field="relation_type", op="in", values=["supplier"])) == {ALFA}
    assert await members(one(field="region", op="eq", value="МОСКВА")) == {ALFA, GAMMA}
    assert await members(one(field="region", op="contains", value="казань")) == {BETA}
    assert await members(one(field="region", op="in", values=["москва", "Тула"])) == {ALFA, GAMMA}
    assert await members(one(field="responsible", op="in", values=[str(w.m1.id)])) == {ALFA}
    assert await members(one(field="responsible", op="not_in", values=[str(w.m1.id)])) == {
        BETA,
        GAMMA,
    }
    assert await members(one(field="responsible", op="empty")) == {GAMMA}
    assert await members(one(field="tag", op="any", values=[str(w.vip.id)])) == {ALFA, GAMMA}
    both = [str(w.vip.id), str(w.wholesale.id)]
    assert await members(one(field="tag", op="all", values=both)) == {GAMMA}
    assert await members(one(field="tag", op="none", values=[str(w.vip.id)])) == {BETA}
    assert await members(one(field="lead_source", op="contains", value="выст")) == {BETA}
    assert await members(one(field="lead_source", op="empty")) == {GAMMA}


async def test_custom_fields_with_operators_and_list_values(db: TortoiseContext) -> None:
    w = await _world()
    staff = {"field": "custom", "field_id": w.staff.id}
    assert await members(one(**staff, op="gt", value="10")) == {ALFA}
    assert await members(one(**staff, op="lte", value="50")) == {ALFA, GAMMA}
    assert await members(one(**staff, op="eq", value="5,0")) == {GAMMA}
    assert await members(one(**staff, op="empty")) == {BETA}
    branch = {"field": "custom", "field_id": w.branch.id}
    assert await members(one(**branch, op="in", values=[str(w.retail.id)])) == {ALFA}
    assert await members(one(**branch, op="not_in", values=[str(w.retail.id)])) == {BETA, GAMMA}


async def test_and_or_groups(db: TortoiseContext) -> None:
    w = await _world()
    rule = {
        "op": "or",
        "items": [
            {
                "kind": "group",
                "op": "and",
                "items": [
                    {"field": "kind", "op": "eq", "value": "legal"},
                    {"field": "tag", "op": "any", "values": [str(w.wholesale.id)]},
                ],
            },
            {"field": "region", "op": "contains", "value": "Казань"},
        ],
    }
    assert await members(rule) == {BETA, GAMMA}
    rule["op"] = "and"
    assert await members(rule) == set()


async def test_won_amount_by_local_period_edges(db: TortoiseContext) -> None:
    await _world()
    won = {"field": "won_amount"}
    # 23:30 Moscow on 30 November is November's; 00:30 on 1 December is December's
    assert await members(one(**won, op="gte", value="1000", period="last_month")) == {GAMMA}
    assert await members(one(**won, op="gt", value="1000", period="last_month")) == set()
    assert await members(one(**won, op="gte", value="500", period="this_month")) == {GAMMA}
    assert await members(one(**won, op="gt", value="500", period="this_month")) == set()
    # the last 7 days (1-7 December, local) hold the 00:30 win only
    assert await members(one(**won, op="gte", value="500", days=7)) == {GAMMA}
    assert await members(one(**won, op="gt", value="500", days=7)) == set()
    # in UTC both wins are November's
    await Company.filter(id=1).update(default_timezone="UTC")
    assert await members(one(**won, op="gte", value="1500", period="last_month")) == {GAMMA}
    assert await members(one(**won, op="gt", value="0", period="this_month")) == set()


async def test_revenue_receivables_and_days_overdue(db: TortoiseContext) -> None:
    await _world()
    revenue = {"field": "revenue", "period": "last_month"}
    assert await members(one(**revenue, op="gte", value="400")) == {BETA}  # 1st and 30th
    assert await members(one(**revenue, op="gt", value="400")) == set()
    assert await members(one(**revenue, op="lt", value="1")) == {ALFA, GAMMA}
    assert await members(one(field="receivables", op="gte", value="600")) == {BETA}
    assert await members(one(field="receivables", op="gt", value="600")) == set()
    overdue = {"field": "days_overdue"}
    assert await members(one(**overdue, op="gt", value="9")) == {BETA}
    assert await members(one(**overdue, op="gt", value="10")) == set()
    assert await members(one(**overdue, op="gte", value="10")) == {BETA}
    assert await members(one(**overdue, op="lt", value="10")) == {ALFA, GAMMA}
    assert await members(one(**overdue, op="lte", value="10")) == {ALFA, BETA, GAMMA}
    assert await members(one(**overdue, op="gte", value="0")) == {ALFA, BETA, GAMMA}


async def test_activity_channels_birthdays_and_deals(db: TortoiseContext) -> None:
    w = await _world()
    assert await members(one(field="no_interaction_days", op="eq", days=7)) == {BETA, GAMMA}
    assert await members(one(field="no_interaction_days", op="eq", days=4)) == {
        ALFA,
        BETA,
        GAMMA,
    }
    assert await members(one(field="no_incoming_days", op="eq", days=7)) == {BETA, GAMMA}
    assert await members(one(field="no_incoming_days", op="eq", days=30)) == {GAMMA}
    assert await members(one(field="no_won_days", op="eq", days=30)) == {ALFA, BETA}
    assert await members(one(field="channel", op="any", values=["telegram"])) == {ALFA}
    assert await members(one(field="channel", op="any", values=["viber"])) == set()
    assert await members(one(field="channel", op="none", values=["telegram", "viber"])) == {
        BETA,
        GAMMA,
    }
    assert await members(one(field="has_email", op="yes")) == {ALFA}
    assert await members(one(field="has_email", op="no")) == {BETA, GAMMA}
    assert await members(one(field="birthday_month", op="in", values=["3", "4"])) == {ALFA}
    scenario = [f"scenario:{w.scenario_id}"]
    assert await members(one(field="open_interest", op="any", values=scenario)) == {ALFA, BETA}
    assert await members(one(field="open_interest", op="none", values=[f"stage:{w.stage.id}"])) == {
        GAMMA
    }


async def test_classes_in_rules(db: TortoiseContext) -> None:
    await _world()
    await classify(now=NOW)
    assert await members(one(field="abc", op="in", values=["A"])) == {BETA}
    assert await members(one(field="xyz", op="in", values=["Z"])) == {BETA}
    assert await members(one(field="abc", op="not_in", values=["A"])) == {ALFA, GAMMA}


async def test_recompute_records_joins_and_leaves(db: TortoiseContext) -> None:
    w = await _world()
    rule = one(field="tag", op="any", values=[str(w.vip.id)])
    segment = await Segment.create(name="VIP", rule=rule)
    first = await recompute(segment, now=NOW)
    assert (first.members, first.joined, first.left) == (2, 2, 0)
    await w.gamma.tags.remove(w.vip)
    await w.beta.tags.add(w.vip)
    later = NOW + timedelta(days=1)
    second = await recompute(segment, now=later)
    assert (second.members, second.joined, second.left) == (2, 1, 1)
    again = await recompute(segment, now=later + timedelta(hours=1))
    assert (again.joined, again.left) == (0, 0)
    rows = await SegmentMember.filter(segment_id=segment.id).values_list("client_id", "left_at")
    assert sorted(rows) == sorted([(w.alfa.id, None), (w.gamma.id, later), (w.beta.id, None)])
    left = await SegmentMember.get(segment_id=segment.id, client_id=w.gamma.id)
    assert left.left_at == later and left.joined_at == NOW
    await segment.refresh_from_db()
    assert segment.members_count == 2


async def test_nightly_pass_computes_each_segment_once_a_night(db: TortoiseContext) -> None:
    w = await _world()
    segment = await Segment.create(
        name="VIP", rule=one(field="tag", op="any", values=[str(w.vip.id)])
    )
    assert await recompute_due(now=NOW) == 1  # 15:00 Moscow: today's 03:00 has passed
    assert await recompute_due(now=NOW + timedelta(hours=2)) == 0
    # 02:00 Moscow next day: still the same night; 03:00: the next one
    assert await recompute_due(now=datetime(2026, 12, 7, 23, 0, tzinfo=UTC)) == 0
    assert await recompute_due(now=datetime(2026, 12, 8, 0, 0, tzinfo=UTC)) == 1
    await segment.refresh_from_db()
    assert segment.members_count == 2


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        (one(field="colour", op="eq", value="red"), "rule.items.0"),
        (one(field="kind", op="gt", value="legal"), "rule.items.0"),
        (one(field="kind", op="eq", value="alien"), "rule.items.0"),
        (one(field="revenue", op="gt", value="lots", period="last_month"), "rule.items.0"),
        (one(field="revenue", op="gt", value="5"), "rule.items.0"),
        (one(field="no_won_days", op="eq", days=0), "rule.items.0.days"),
        (one(field="tag", op="any", values=[]), "rule.items.0"),
        (one(field="custom", op="eq", value="1"), "rule.items.0"),
        ({"op": "xor", "items": []}, "rule.op"),
    ],
)
async def test_bad_rules_are_refused_with_where(rule: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_rule(rule)
    assert any(name.startswith(where) for name in caught.value.fields), caught.value.fields


async def test_rules_naming_missing_rows_are_refused(db: TortoiseContext) -> None:
    await _world()
    for rule in (
        one(field="tag", op="any", values=["999"]),
        one(field="responsible", op="in", values=["999"]),
        one(field="custom", field_id=999, op="empty"),
        one(field="open_interest", op="any", values=["stage:999"]),
        one(field="open_interest", op="any", values=["planet:1"]),
    ):
        with pytest.raises(ValidationFailed):
            await compile_rule(parse_rule(rule), now=NOW)


def test_groups_nest_at_most_three_deep() -> None:
    deep: dict[str, Any] = {"field": "has_email", "op": "yes"}
    for _ in range(4):
        deep = {"kind": "group", "op": "and", "items": [deep]}
    with pytest.raises(ValidationFailed):
        parse_rule(deep)


async def test_a_segment_filters_the_reports(db: TortoiseContext) -> None:
    """The reports' `segment` filter counts the deals of the segment's clients only."""
    from crm.reports.filters import parse_filter
    from crm.reports.pipeline import pipeline

    w = await _world()
    segment = await Segment.create(name="Москва", rule=one(field="region", op="eq", value="москва"))
    await recompute(segment, now=NOW)
    everyone = await pipeline(parse_filter({}), actor=w.admin)
    assert sum(c.count for c in everyone.cells) == 2  # Alfa's and Beta's open deals
    narrowed = await pipeline(parse_filter({"segment": str(segment.id)}), actor=w.admin)
    assert sum(c.count for c in narrowed.cells) == 1  # Alfa's
    with pytest.raises(ValidationFailed):
        parse_filter({"segment": "x"})
