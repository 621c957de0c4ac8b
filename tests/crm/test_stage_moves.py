"""The funnel's values kept per stage move (crm.stage_moves) equal what the interests'
moves say, computed here in Python from the rows, after what the services do: moves on
and back, a stage entered again, moves at the same moment, a stage reorder (kept true
without a settle), a stage added, merged clients, a deleted client. And the funnel's
figures equal the reference SQL after a reorder."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from crm import deals, deletion, merge, scenarios, stage_moves
from crm.models import Stage, StageChange, User
from crm.reports import funnel
from crm.reports.filters import Preset, ReportFilter
from crm.reports.scope import scope_for
from tests.crm import factories as f
from tests.crm.reports import reference

pytestmark = pytest.mark.usefixtures("db")

T0 = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
Kept = tuple[datetime | None, datetime | None, bool | None]


async def _expected() -> dict[int, Kept]:
    """Per move: the next move's moment, the previous entry of its stage, and whether a
    strictly later move went to a higher position, from the rows in (moment, id) order."""
    position = {s.id: s.position for s in await Stage.all()}
    moves: dict[int, list[Any]] = defaultdict(list)
    for row in await StageChange.all().values("id", "interest_id", "to_stage_id", "created_at"):
        moves[row["interest_id"]].append(row)
    out: dict[int, Kept] = {}
    for rows in moves.values():
        rows.sort(key=lambda r: (r["created_at"], r["id"]))
        for k, m in enumerate(rows):
            left = rows[k + 1]["created_at"] if k + 1 < len(rows) else None
            same = [r["created_at"] for r in rows[:k] if r["to_stage_id"] == m["to_stage_id"]]
            advanced = any(
                r["created_at"] > m["created_at"]
                and position[r["to_stage_id"]] > position[m["to_stage_id"]]
                for r in rows
            )
            out[m["id"]] = (left, same[-1] if same else None, advanced)
    return out


async def _kept() -> dict[int, Kept]:
    rows = await StageChange.all().values("id", "left_at", "entered_before", "advanced")
    return {r["id"]: (r["left_at"], r["entered_before"], r["advanced"]) for r in rows}


async def _moves(admin: User, stages: list[Stage], traveller: Any) -> list[int]:
    """Two deals with awkward histories; their ids."""
    a, b, c, d = stages
    one = await f.client(admin, "ООО Первый")
    two = await f.client(admin, "ООО Второй")
    first = await deals.create_interest(actor=admin, client_id=one.id, title="Первая")
    second = await deals.create_interest(actor=admin, client_id=two.id, title="Вторая")
    plan = [
        (first, c, 1),
        (first, a, 1),  # back
        (first, b, 0),  # the same moment: not "later" for the move back
        (second, b, 0),  # at the very moment it was created
        (first, a, 2),  # stage A entered a third time
        (second, d, 1),
        (second, b, 3),  # back: B entered again
        (first, d, 0),
    ]
    for interest, stage, hours in plan:
        traveller.shift(timedelta(hours=hours))
        await deals.move_stage(interest.id, stage.id, actor=admin)
    return [first.id, second.id]


async def test_kept_values_equal_the_moves_after_every_change() -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        admin = await f.admin()
        scenario = await f.scenario(stages=("A", "B", "C", "D"), require_next_step=False)
        stages = await scenarios.stages_of(scenario.id)
        await _moves(admin, stages, traveller)
        assert {v[2] for v in (await _kept()).values()} == {None}  # written unsettled
        assert await stage_moves.settle() == await StageChange.all().count()
        expected = await _expected()
        assert await _kept() == expected
        assert {v[2] for v in expected.values()} == {True, False}
        assert any(v[0] is not None and v[1] is not None for v in expected.values())
        assert await stage_moves.settle() == 0  # nothing new: nothing written

        # reversed stages: "later" means the other way now, kept in the reorder itself
        ids = [s.id for s in stages]
        await scenarios.reorder_stages(scenario.id, list(reversed(ids)), actor=admin)
        after = await _expected()
        assert after != expected
        assert await _kept() == after
        await scenarios.add_stage(scenario.id, "Новый", position=1, actor=admin)
        assert await _kept() == await _expected()  # positions shifted, order kept

        # a merged client's deal keeps its moves; a deleted client's go with it
        traveller.shift(timedelta(hours=1))
        survivor = await f.client(admin, "ООО Третий")
        merged = await f.client(admin, "ООО Третий (дубль)")
        moved = await deals.create_interest(actor=admin, client_id=merged.id, title="Ещё")
        await deals.move_stage(moved.id, ids[2], actor=admin)
        await merge.merge_clients(survivor.id, merged.id, actor=admin)
        await stage_moves.settle()
        assert await StageChange.filter(interest_id=moved.id).count() == 2
        assert await _kept() == await _expected()
        await deletion.delete_client(survivor.id, actor=admin)
        assert not await StageChange.filter(interest_id=moved.id).exists()
        await stage_moves.settle()
        assert await _kept() == await _expected()


async def test_funnel_equals_the_reference_after_a_reorder() -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        admin = await f.admin()
        scenario = await f.scenario(stages=("A", "B", "C", "D"), require_next_step=False)
        stages = await scenarios.stages_of(scenario.id)
        await _moves(admin, stages, traveller)
        report_filter = ReportFilter(preset=Preset.THIS_YEAR)
        scope = await scope_for(report_filter, admin)
        before = await funnel.funnel(report_filter, actor=admin)
        for cohort in (False, True):
            counts = await funnel._stage_counts(scope, cohort)
            assert counts == await reference.stage_counts(scope, cohort)
            assert await funnel._times(scope, cohort) == await reference.times(scope, cohort)
        await scenarios.reorder_stages(scenario.id, [s.id for s in stages[::-1]], actor=admin)
        for cohort in (False, True):
            counts = await funnel._stage_counts(scope, cohort)
            assert counts == await reference.stage_counts(scope, cohort)
        after = await funnel.funnel(report_filter, actor=admin)
        assert [s.advanced for s in after.scenarios[0].stages] != [
            s.advanced for s in before.scenarios[0].stages
        ]


async def test_a_move_recorded_after_the_settle_counts_from_the_next_report() -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        admin = await f.admin()
        scenario = await f.scenario(stages=("A", "B", "C", "D"), require_next_step=False)
        stages = await scenarios.stages_of(scenario.id)
        _, second = await _moves(admin, stages, traveller)
        scope = await scope_for(ReportFilter(preset=Preset.THIS_YEAR), admin)
        await stage_moves.settle()
        settled = await funnel._stage_counts(scope, False)
        traveller.shift(timedelta(hours=1))
        await StageChange.create(interest_id=second, to_stage=stages[2])  # not settled yet
        assert await funnel._stage_counts(scope, False) == settled  # as a moment earlier
        await stage_moves.settle()
        assert await funnel._stage_counts(scope, False) == await reference.stage_counts(
            scope, False
        )
        assert await funnel._stage_counts(scope, False) != settled
