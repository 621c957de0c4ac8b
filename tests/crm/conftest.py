"""Fixtures shared by the crm tests: the kept values' clock, moved by hand, and a count of
the stages cache's reads."""

from __future__ import annotations

import pytest

from crm import kept, scenarios
from crm.models import Stage


class Clock:
    """`crm.kept`'s monotonic clock, standing still until a test moves `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(kept, "monotonic", moved)
    return moved


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The scenario ids the stages cache read from the database, in order."""
    done: list[int] = []
    read = scenarios._read_stages

    async def counting(scenario_id: int) -> list[Stage]:
        done.append(scenario_id)
        return await read(scenario_id)

    monkeypatch.setattr(scenarios._stage_lists, "load", counting)
    return done
