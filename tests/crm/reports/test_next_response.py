"""Next-response time of later customer messages, in working minutes, on the known world
(09:00-18:00 Monday to Friday in Moscow, 9 March a holiday) with these later messages
(Moscow times):

  Q1 (T, Анна; first reply 2.03 10:07):
    W1 the customer 2.03 10:30 and 10:35 (one wait), a robot 10:36, Анна 10:50   -> 20
    W2 the customer Fri 6.03 17:55, Борис Tue 10.03 09:10 (the 9th a holiday)     -> 5 + 10
    W3 the customer 10.03 12:00, no answer yet                                   -> waiting
  Q2 (T, Анна; a robot 6.03 17:51, Анна 10.03 09:20):
       the customer 6.03 17:52 after the robot only: no wait (the first response's)
    W5 the customer 10.03 09:25, Анна 09:29                                      -> 4
  Q3 (V, Борис; replies 11.03 14:00, 15:00):
    W6 the customer 11.03 15:30, Борис 12.03 09:30                               -> 150 + 30
  Q4 (V, rejected by Борис 12.03 11:02): Борис writes 11:03; the customer's 11:30
       opens a new inquiry Q7 (its first message, not a wait of Q4)
  Q5 (T, waiting, never answered): the customer again 13.03 10:05: no wait"""

from __future__ import annotations

from datetime import datetime

import pytest

from crm import company
from crm.errors import PermissionDenied
from crm.models import Direction, Inquiry, Message, MessageStatus, User
from crm.reports import next_response as nr
from crm.reports.filters import ReportFilter
from crm.reports.inquiries import inquiries
from crm.reports.records import parse_place, records
from crm.reports.stats import Spread
from tests.crm.reports.world import World, at, msk

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


async def _message(
    inquiry: Inquiry, moment: datetime, author: User | None = None, *, out: bool = False
) -> Message:
    direction = Direction.OUT if out or author is not None else Direction.IN
    return await at(
        moment,
        lambda: Message.create(
            conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
            channel_id=inquiry.channel_id,  # type: ignore[attr-defined]
            direction=direction,
            text="Вопрос" if direction == Direction.IN else "Ответ",
            status=MessageStatus.RECEIVED if direction == Direction.IN else MessageStatus.SENT,
            author=author,
            sent_at=moment,
        ),
    )


@pytest.fixture
async def waits(world: World) -> dict[str, int]:
    return await later_messages(world)


async def later_messages(world: World) -> dict[str, int]:
    """The world's later messages; the waits' message ids by name."""
    q = world.inquiries
    w = {}
    w["W1"] = (await _message(q["Q1"], msk(3, 2, 10, 30))).id
    await _message(q["Q1"], msk(3, 2, 10, 35))
    await _message(q["Q1"], msk(3, 2, 10, 36), out=True)  # a stage robot
    await _message(q["Q1"], msk(3, 2, 10, 50), world.anna)
    w["W2"] = (await _message(q["Q1"], msk(3, 6, 17, 55))).id
    await _message(q["Q1"], msk(3, 10, 9, 10), world.boris)
    w["W3"] = (await _message(q["Q1"], msk(3, 10, 12))).id
    await _message(q["Q2"], msk(3, 6, 17, 52))
    w["W5"] = (await _message(q["Q2"], msk(3, 10, 9, 25))).id
    await _message(q["Q2"], msk(3, 10, 9, 29), world.anna)
    w["W6"] = (await _message(q["Q3"], msk(3, 11, 15, 30))).id
    await _message(q["Q3"], msk(3, 12, 9, 30), world.boris)
    await _message(q["Q4"], msk(3, 12, 11, 3), world.boris)
    await _message(q["Q4"], msk(3, 12, 11, 30))
    await at(
        msk(3, 12, 11, 30),
        lambda: Inquiry.create(
            conversation_id=q["Q4"].conversation_id,  # type: ignore[attr-defined]
            client_id=q["Q4"].client_id,  # type: ignore[attr-defined]
            channel_id=q["Q4"].channel_id,  # type: ignore[attr-defined]
            first_message_at=msk(3, 12, 11, 30),
        ),
    )
    await _message(q["Q5"], msk(3, 13, 10, 5))
    return w


async def test_next_response_in_working_minutes(world: World, waits: dict[str, int]) -> None:
    report = (await inquiries(MARCH, actor=world.head)).next_response
    total = report.total
    assert (total.waits, total.answered, total.waiting) == (5, 4, 1)
    # 4, 15, 20, 180: median 17.5, p90 20 + 0.7 * 160
    assert total.next_response == Spread(4, 17.5, pytest.approx(132.0))  # type: ignore[arg-type]
    assert total.buckets == (1, 0, 2, 1, 0, 0)
    channels = {g.name: g.figures for g in report.channels}
    assert (channels["T"].waits, channels["T"].waiting) == (4, 1)
    assert channels["T"].next_response == Spread(3, 15.0, pytest.approx(15 + 0.8 * 5))  # type: ignore[arg-type]
    assert channels["V"].next_response == Spread(1, 180.0, 180.0)
    managers = {g.name: g.figures for g in report.managers}
    assert (managers["Анна"].waits, managers["Анна"].answered) == (3, 2)  # W3 is Анна's
    assert managers["Анна"].next_response.median == pytest.approx(12.0)
    assert managers["Борис"].next_response == Spread(2, 97.5, pytest.approx(15 + 0.9 * 165))  # type: ignore[arg-type]


async def test_time_zone_moves_the_working_day(world: World, waits: dict[str, int]) -> None:
    # 09:00-18:00 in Vladivostok is 02:00-11:00 in Moscow
    await company.update_company({"default_timezone": "Asia/Vladivostok"}, actor=None)
    report = (await inquiries(MARCH, actor=world.head)).next_response
    managers = {g.name: g.figures for g in report.managers}
    # W2 Sat 00:55 -> Tue 16:10 (Monday the 9th a holiday): 430; W6 22:30 -> 16:30: 450
    assert managers["Борис"].next_response == Spread(2, 440.0, pytest.approx(430 + 0.9 * 20))  # type: ignore[arg-type]
    # W1 17:30 -> 17:50, W5 16:25 -> 16:29
    assert managers["Анна"].next_response == Spread(2, 12.0, pytest.approx(4 + 0.9 * 16))  # type: ignore[arg-type]


async def test_managers_see_the_waits_they_answered(world: World, waits: dict[str, int]) -> None:
    anna = (await nr.next_response(MARCH, actor=world.anna)).total
    assert (anna.waits, anna.answered) == (3, 2)  # W1, W3, W5; W2 was Борис's answer
    boris = await nr.next_response(MARCH, actor=world.boris)
    assert boris.total.next_response == Spread(1, 180.0, 180.0)  # W6
    with pytest.raises(PermissionDenied):
        await nr.drill(
            ReportFilter(manager_ids=(world.anna.id,)), actor=world.boris, figure=nr.WAITED
        )
    mine = await nr.drill(MARCH, actor=world.anna, figure=nr.WAITED)
    assert mine.ids == [waits["W1"], waits["W5"], waits["W3"]]


async def test_drill_downs(world: World, waits: dict[str, int]) -> None:
    async def ids(**place: str) -> list[int]:
        found = await records("inquiries", MARCH, parse_place(place), actor=world.head)
        return found.ids

    assert await ids(figure=nr.BUCKET, key="2") == [waits["W1"], waits["W2"]]
    assert await ids(figure=nr.WAITING) == [waits["W3"]]
    assert await ids(figure=nr.ANSWERED, manager=str(world.anna.id)) == [waits["W1"], waits["W5"]]
    assert await ids(figure=nr.WAITED, in_channel=str(world.v.id)) == [waits["W6"]]
    found = await records("inquiries", MARCH, parse_place({"figure": nr.WAITED}), actor=world.head)
    assert found.total == 5
    w6 = next(row for row in found.rows if row[0] == waits["W6"])
    assert w6[1:4] == ("cC", "V", "Вопрос")
    assert w6[-3:] == (msk(3, 12, 9, 30), "Борис", 180.0)
    w3 = next(row for row in found.rows if row[0] == waits["W3"])
    assert w3[-3:] == (None, "", None)
    assert found.columns[-1] == nr.MINUTES_COLUMN
