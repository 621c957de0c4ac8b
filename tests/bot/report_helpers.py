"""Helpers of the bot's report tests: the reports' known world (tests/crm/reports/world.py)
as a fixture, binding its users to Telegram, and texts read without no-break spaces."""

from __future__ import annotations

from typing import Any

import pytest

from crm import users
from crm.models import User
from tests.crm.reports.world import World, build


@pytest.fixture
async def world(db: object) -> World:
    return await build()


async def bind(user: User, telegram_id: int, **changes: Any) -> User:
    """Bind `user` to `telegram_id` through an invite (after `changes` to the user)."""
    if changes:
        await User.filter(id=user.id).update(**changes)
    invite = await users.create_invite(user.id, actor=None)
    return await users.bind_telegram(invite.code, telegram_id)


def plain(text: str) -> str:
    """No-break and thin spaces (Babel's, in money and periods) as spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("\u2009", " ")
