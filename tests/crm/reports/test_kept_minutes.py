"""The inquiries' kept figures (crm.reports.kept_minutes) equal the figures counted afresh:
on demo data, after a calendar change, and for a reply written after the report was read;
a person's reply sets them, a stage robot's message does not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from tortoise.context import TortoiseContext

from crm import company, conversations, demo
from crm.company import get_company, work_calendar
from crm.models import Conversation, Inquiry, InquiryStatus, Role, User
from crm.reports import inquiries, inquiry_rows, kept_minutes, managers
from crm.reports import inquiries as q
from crm.reports.filters import Preset, ReportFilter
from crm.reports.scope import scope_for
from crm.reports.stats import as_moment
from crm.rows import query
from crm.working_time import working_minutes
from tests.crm.reports.world import World

T0 = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


async def _kept_equal_fresh() -> int:
    """Every inquiry's kept figures against the first reply and minutes counted now."""
    calendar = work_calendar(await get_company())
    assert await kept_minutes.ready(calendar)
    rows = await query(
        "SELECT q.id, q.status, q.first_message_at, q.decided_at,"
        f" {kept_minutes.first_reply('created_at')}, q.first_reply_at, q.accept_minutes,"
        " q.first_reply_minutes, q.kept_calendar FROM inquiries q ORDER BY q.id"
    )
    answered = 0
    for r in rows:
        first, decided, replied = as_moment(r[2]), as_moment(r[3]), as_moment(r[4])
        assert first is not None
        assert as_moment(r[5]) == replied, r[0]
        accepted = r[1] == InquiryStatus.ACCEPTED.value and decided is not None
        accept = working_minutes(first, decided, calendar) if accepted and decided else None
        reply = None if replied is None else working_minutes(first, replied, calendar)
        assert r[6] == pytest.approx(accept, abs=1e-6), r[0]
        assert r[7] == pytest.approx(reply, abs=1e-6), r[0]
        assert r[8] == kept_minutes.calendar_stamp(calendar)
        answered += replied is not None
    return answered


def _shape(report: inquiries.InquiriesReport) -> Any:
    def spread(s: Any) -> tuple[Any, ...]:
        return (
            s.count,
            None if s.median is None else round(s.median, 6),
            s.p90 and round(s.p90, 6),
        )

    def figures(f: inquiries.ResponseFigures) -> tuple[Any, ...]:
        reasons = [(r.reason_id, r.reason, r.count) for r in f.rejected_by_reason]
        share = None if f.sla_share is None else round(f.sla_share, 9)
        return (f.received, f.accepted, f.rejected, f.waiting, reasons, spread(f.accept),
                spread(f.first_response), f.buckets, f.sla_met, share)  # fmt: skip

    groups = [
        [(g.key, g.name, figures(g.figures)) for g in groups]
        for groups in (report.channels, report.managers)
    ]
    return figures(report.total), groups


async def _old_way(report_filter: ReportFilter, actor: User) -> Any:
    """The report's figures as counted before the kept figures: from every row."""
    scope = await scope_for(report_filter, actor)
    rows, sla = await inquiry_rows.read_rows(scope), scope.sla_minutes
    old = inquiries.InquiriesReport(
        scope.period,
        sla,
        inquiry_rows.figures(rows, sla),
        inquiry_rows.groups(rows, "channel_id", "channel", sla),
        inquiry_rows.groups(rows, "manager_id", "manager", sla),
        await inquiries.next_response_of(scope),
    )
    return _shape(old)


async def _same_drills(report_filter: ReportFilter, admin: User) -> None:
    """Each figure's drill-down (SQL conditions on the kept columns) lists the inquiries the
    old way matched."""
    scope = await scope_for(report_filter, admin)
    rows = await inquiry_rows.read_rows(scope)
    reasons = {r.reason_id for r in rows if r.reason_id is not None}
    figures = [
        *((f, None) for f in (q.RECEIVED, q.ACCEPTED, q.REJECTED, q.WAITING, q.UNANSWERED)),
        *((f, None) for f in (q.ANSWERED, q.SLA_MET, q.SLA_MISSED)),
        *((q.BUCKET, k) for k in range(len(q.BUCKETS) + 1)),
        *((q.REASON, k) for k in (0, *reasons)),
    ]
    for figure, key in figures:
        expected = [r.id for r in rows if inquiry_rows.matches(r, figure, key, scope.sla_minutes)]
        page = await q.drill(report_filter, actor=admin, figure=figure, key=key, per_page=1000)
        assert (page.total, page.ids) == (len(expected), expected[:1000]), figure
    manager = next(r.manager_id for r in rows if r.manager_id is not None)
    channel = rows[0].channel_id
    expected = [r.id for r in rows if r.manager_id == manager and r.channel_id == channel]
    page = await q.drill(
        report_filter, actor=admin, figure=q.RECEIVED, manager_id=manager, channel_id=channel
    )
    assert page.total == len(expected) and page.ids == expected[:50]


async def _same_reports(admin: User) -> None:
    for report_filter in (
        ReportFilter(preset=Preset.LAST_YEAR),
        ReportFilter(preset=Preset.THIS_MONTH),
    ):
        fast = await inquiries.inquiries(report_filter, actor=admin)
        assert _shape(fast) == await _old_way(report_filter, admin)
        await _same_drills(report_filter, admin)
        team = await managers.managers(report_filter, actor=admin)
        by_rows = {g.key: g.figures for g in fast.managers if g.key is not None}
        for row in team.rows:
            if row.manager_id in by_rows:
                assert row.accepted == by_rows[row.manager_id].accepted
                assert row.first_response == by_rows[row.manager_id].first_response


async def test_kept_figures_equal_fresh_ones(db: TortoiseContext) -> None:
    with time_machine.travel(T0, tick=False):
        await demo.generate(300, seed=5, now=T0)
        admin = await User.get(role=Role.ADMIN)
        assert await _kept_equal_fresh() > 50
        await _same_reports(admin)
        # the calendar changes: every row is counted again before the next report
        await company.update_company(
            {"work_days": "123456", "work_day_start": time(10), "work_day_end": time(19)},
            actor=None,
        )
        await _same_reports(admin)
        await _kept_equal_fresh()
        # a reply written after the report was read, to an inquiry nobody answered yet
        waiting = await query(
            "SELECT q.id, q.conversation_id FROM inquiries q"
            f" WHERE {kept_minutes.first_reply('id')} IS NULL ORDER BY q.id DESC LIMIT 1"
        )
        inquiry_id, conversation_id = int(waiting[0][0]), int(waiting[0][1])
        manager = await User.filter(role=Role.MANAGER).order_by("id").first()
        assert manager is not None
        await conversations.queue_reply(conversation_id, actor=manager, text="Добрый день")
        await _same_reports(admin)
        await _kept_equal_fresh()
        assert (await Inquiry.get(id=inquiry_id)).first_reply_at == T0


@pytest.mark.usefixtures("at_month_end")
async def test_a_reply_sets_the_figures_a_robot_message_does_not(world: World) -> None:
    q5 = world.inquiries["Q5"]  # waiting, nobody has answered
    calendar = work_calendar(await get_company())
    conversation = await Conversation.get(id=q5.conversation_id)  # type: ignore[attr-defined]
    await conversations.queue_reply(conversation.id, actor=None, text="Мы скоро ответим")
    await kept_minutes.settle(calendar)
    kept = await Inquiry.get(id=q5.id)
    assert (kept.first_reply_at, kept.first_reply_minutes) == (None, None)
    await conversations.queue_reply(conversation.id, actor=world.anna, text="Здравствуйте")
    assert await kept_minutes.settle(calendar) == 1  # the worker's tick
    kept = await Inquiry.get(id=q5.id)
    assert kept.first_reply_at is not None and kept.first_reply_minutes is not None
    assert kept.first_reply_minutes == pytest.approx(
        working_minutes(q5.first_message_at, kept.first_reply_at, calendar)
    )
    assert kept.kept_calendar == kept_minutes.calendar_stamp(calendar)
    assert await kept_minutes.settle(calendar) == 0  # nothing left


@pytest.mark.usefixtures("at_month_end")
async def test_a_decision_and_a_calendar_change_count_again(world: World) -> None:
    calendar = work_calendar(await get_company())
    await kept_minutes.settle(calendar)
    q2 = await Inquiry.get(id=world.inquiries["Q2"].id)
    before = q2.first_reply_minutes
    await company.update_company({"work_days": "1234567", "holidays": []}, actor=None)
    changed = work_calendar(await get_company())
    assert await kept_minutes.unsettled(changed, 100) == len(world.inquiries)
    await kept_minutes.settle(changed)
    q2 = await Inquiry.get(id=q2.id)
    assert q2.first_reply_minutes != before
    assert q2.first_reply_at is not None
    assert q2.first_reply_minutes == pytest.approx(
        working_minutes(q2.first_message_at, q2.first_reply_at, changed)
    )
    assert await kept_minutes.unsettled(changed, 100) == 0


def test_the_calendar_stamp_follows_the_calendar() -> None:
    from crm.working_time import WorkCalendar

    a = WorkCalendar(day_start=time(9), day_end=time(18))
    assert kept_minutes.calendar_stamp(a) == kept_minutes.calendar_stamp(
        WorkCalendar(day_start=time(9), day_end=time(18))
    )
    for other in (
        WorkCalendar(day_start=time(10), day_end=time(18)),
        WorkCalendar(timezone="Asia/Yekaterinburg", day_start=time(9), day_end=time(18)),
        WorkCalendar(
            holidays=frozenset({T0.date() + timedelta(days=1)}), day_start=time(9), day_end=time(18)
        ),
    ):
        assert kept_minutes.calendar_stamp(other) != kept_minutes.calendar_stamp(a)
    assert kept_minutes.calendar_stamp(a) != kept_minutes.STALE


@pytest.mark.usefixtures("at_month_end")
async def test_the_report_counts_the_old_way_while_many_rows_wait(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    march = ReportFilter()
    before = _shape(await inquiries.inquiries(march, actor=world.head))
    await company.update_company({"work_days": "1234567", "holidays": []}, actor=None)
    changed = work_calendar(await get_company())
    monkeypatch.setattr(kept_minutes, "READY_LIMIT", 2)  # the worker has not caught up
    assert not await kept_minutes.ready(changed)
    old = await inquiries.inquiries(march, actor=world.head)
    old_missed = await inquiries.drill(march, actor=world.head, figure=inquiries.SLA_MISSED)
    assert await kept_minutes.unsettled(changed, 100) == len(world.inquiries)  # read only
    monkeypatch.setattr(kept_minutes, "READY_LIMIT", 20_000)
    new = await inquiries.inquiries(march, actor=world.head)
    assert _shape(old) == _shape(new) != before
    missed = await inquiries.drill(march, actor=world.head, figure=inquiries.SLA_MISSED)
    assert missed.ids == old_missed.ids
