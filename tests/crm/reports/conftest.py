from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from tortoise.context import TortoiseContext

from tests.crm.reports.world import NOW, World, build


@pytest.fixture
async def world(db: TortoiseContext) -> World:
    return await build()


@pytest.fixture
def at_month_end() -> Iterator[None]:
    """Reports read on 31 March 2026, 12:00 in Moscow."""
    with time_machine.travel(NOW, tick=False):
        yield
