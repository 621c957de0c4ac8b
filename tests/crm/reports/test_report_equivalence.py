"""The fast report SQL equals the reference (tests/crm/reports/reference.py: the correlated
look-ups it replaced) on demo data with awkward stage histories added: a stage entered
twice, moves back, two moves at the same moment; under several filters, in both funnel
modes. And the dashboard's won figures and plan equal the managers report's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from tortoise.context import TortoiseContext
from tortoise.expressions import Subquery

from crm import demo, stage_moves
from crm.models import (
    Client,
    ClientContact,
    ContactKind,
    FieldDefinition,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Role,
    Stage,
    StageChange,
    Tag,
    User,
)
from crm.reports import base, dashboard, funnel, inquiries, managers, pipeline, sources
from crm.reports.filters import FieldMatch, Preset, ReportFilter
from crm.reports.scope import scope_for
from tests.crm.reports import reference

T0 = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


async def _duplicates() -> None:
    """Clients sharing an INN or a contact, some of them merged away (not counted)."""
    a, b, c, d, e, f = await Client.all().order_by("id").limit(6)
    await Client.filter(id__in=[a.id, b.id]).update(inn="7700000001")
    await Client.filter(id=c.id).update(inn="7700000002", merged_into_id=d.id)
    await Client.filter(id=d.id).update(inn="7700000002")  # its only twin merged into it
    await ClientContact.create(client=e, kind=ContactKind.PHONE, value="+70000000001")
    await ClientContact.create(client=f, kind=ContactKind.PHONE, value="+70000000001")
    await ClientContact.create(client=c, kind=ContactKind.EMAIL, value="x@example.com")
    await ClientContact.create(client=a, kind=ContactKind.EMAIL, value="x@example.com")


async def _awkward_histories() -> None:
    """Stage changes the demo never makes, on a few of its open interests."""
    opened = await Interest.filter(status=InterestStatus.OPEN).order_by("id").limit(4)
    for n, interest in enumerate(opened):
        stages = await Stage.filter(scenario_id=interest.scenario_id).order_by("position")  # type: ignore[attr-defined]
        at = T0 - timedelta(days=20 + n)
        plan = [
            (stages[1], at),
            (stages[0], at + timedelta(hours=1)),  # back
            (stages[2], at + timedelta(hours=1)),  # the same moment: not "later"
            (stages[1], at + timedelta(hours=2)),  # the stage entered again
            (stages[0], at + timedelta(hours=3)),
        ]
        if n == 3:  # moved on only at the very moment it entered: not advanced
            plan = [(stages[1], at), (stages[2], at), (stages[0], at + timedelta(hours=1))]
        for stage, moment in plan:
            change = await StageChange.create(interest=interest, to_stage=stage)
            await StageChange.filter(id=change.id).update(created_at=moment)


def _orm_filter(report_filter: ReportFilter) -> dict[str, object]:
    """The filter's client and manager conditions on interactions, as the ORM says them."""
    out: dict[str, object] = {}
    if report_filter.field is not None:
        out["client__field_values__definition_id"] = report_filter.field.field_id
        out["client__field_values__value_option__value"] = report_filter.field.value
    if report_filter.tag_id is not None:
        out["client__tags__id"] = report_filter.tag_id
    if report_filter.manager_ids:
        out["responsible_id__in"] = report_filter.manager_ids
    if report_filter.lead_source is not None:
        out["client__lead_source"] = report_filter.lead_source
    return out


async def test_fast_sql_equals_the_reference(db: TortoiseContext) -> None:
    with time_machine.travel(T0, tick=False):
        await demo.generate(300, seed=5, now=T0)
        await _awkward_histories()
        await _duplicates()
        await stage_moves.settle()  # as funnel.funnel does before its reads
        admin = await User.get(role=Role.ADMIN)
        manager = await User.filter(role=Role.MANAGER).order_by("id").first()
        assert manager is not None
        loyalty = await FieldDefinition.get(name="Лояльность")
        tag = await Tag.all().order_by("id").first()
        assert tag is not None
        year = {"preset": Preset.LAST_YEAR}
        this = {"preset": Preset.THIS_YEAR}
        filters = [
            ReportFilter(**year),
            ReportFilter(**this),
            ReportFilter(**this, field=FieldMatch(loyalty.id, "Высокая")),
            ReportFilter(**this, tag_id=tag.id),
            ReportFilter(**this, manager_ids=(manager.id,)),
            ReportFilter(**this, lead_source="nothing-like-it"),
        ]
        checked, duplicates = 0, 0
        for report_filter in filters:
            scope = await scope_for(report_filter, admin)
            for cohort in (False, True):
                counts = await funnel._stage_counts(scope, cohort)
                assert counts == await reference.stage_counts(scope, cohort)
                assert await funnel._times(scope, cohort) == await reference.times(scope, cohort)
                checked += sum(c[0] for c in counts.values())
            cells = (await pipeline.pipeline(report_filter, actor=admin)).cells
            fast = sorted(
                (c.stage_id, c.manager_id, c.count, c.amount, c.no_next_step, c.overdue)
                for c in cells
            )
            assert fast == await reference.pipeline(scope)
            # the reports that join clients only for some filters: the interactions done
            # count the same with the clients joined as without
            team = await managers.managers(report_filter, actor=admin)
            done = await Interaction.filter(
                state=InteractionState.DONE,
                done_at__gte=scope.period.start,
                done_at__lt=scope.period.end,
                responsible_id__isnull=False,
                id__in=Subquery(Interaction.filter(**_orm_filter(report_filter)).values("id")),
            ).count()
            assert sum(r.interactions_done for r in team.rows) == done
            for report in (inquiries.inquiries, sources.sources):
                await report(report_filter, actor=admin)
            for group_by in [("kind",), ("tag", "responsible"), (f"field:{loyalty.id}",)]:
                clients = await base.base(report_filter, actor=admin, group_by=group_by)
                fast_groups = sorted(
                    (
                        (g.keys, g.clients, g.with_open_interests, g.won_amount, *g.last_contact)
                        for g in clients.groups
                    ),
                    key=repr,
                )
                assert fast_groups == await reference.base_groups(scope, group_by)
            quality = clients.quality
            assert (
                quality.clients,
                quality.no_contacts,
                quality.no_responsible,
                quality.no_interaction,
                quality.duplicates,
            ) == await reference.base_quality(scope)
            duplicates = max(duplicates, quality.duplicates)
        assert checked > 100  # the funnels counted something
        assert duplicates >= 4


async def test_dashboard_won_figures_are_the_managers_reports(db: TortoiseContext) -> None:
    with time_machine.travel(T0, tick=False):
        await demo.generate(200, seed=9, now=T0)
        admin = await User.get(role=Role.ADMIN)
        for actor in [admin, *await User.filter(role=Role.MANAGER).order_by("id").limit(2)]:
            board = await dashboard.dashboard(actor)
            this = await managers.managers(ReportFilter(preset=Preset.THIS_MONTH), actor=actor)
            last = await managers.managers(ReportFilter(preset=Preset.LAST_MONTH), actor=actor)
            assert board.won == sum(r.won for r in this.rows)
            assert board.won > 0 or actor != admin
            assert board.won_amount == sum((r.won_amount for r in this.rows), Decimal(0))
            assert board.last_won == sum(r.won for r in last.rows)
            assert board.last_won_amount == sum((r.won_amount for r in last.rows), Decimal(0))
            plans = [r.plan_amount for r in this.rows if r.plan_amount is not None]
            assert plans and board.plan_amount == sum(plans, Decimal(0))


def test_response_buckets_at_their_bounds() -> None:
    def by_loop(minutes: float) -> int:  # the bucket as the report first found it
        for index, bound in enumerate(inquiries.BUCKETS):
            if minutes < bound:
                return index
        return len(inquiries.BUCKETS)

    for minutes in (0.0, 4.999, 5.0, 5.001, 14.99, 15.0, 60.0, 239.9, 240.0, 1440.0, 1e6):
        assert inquiries.bucket_of(minutes) == by_loop(minutes)
