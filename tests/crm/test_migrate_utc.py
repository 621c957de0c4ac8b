"""Migration 0004 rewrites SQLite datetimes stored with an offset (as `update()` used to
write an email's Date header) in UTC, and leaves UTC ones alone."""

from __future__ import annotations

import os

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from crm import db
from tests.conftest import BACKEND
from tests.crm import factories as f

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="PostgreSQL stores moments")

BEFORE = "models.0003_raw_events_chat_opened"


async def _texts(ctx: TortoiseContext, user_id: int) -> tuple[str, str]:
    _, rows = await ctx.db().execute_query(
        f"SELECT created_at, updated_at FROM users WHERE id = {int(user_id)}"
    )
    return str(rows[0][0]), str(rows[0][1])


async def test_offsets_stored_by_older_versions_become_utc(tmp_path: os.PathLike[str]) -> None:
    url = f"sqlite://{tmp_path}/old.sqlite3"
    config = db.tortoise_config(url)
    async with TortoiseContext():
        await migrate_api(config=config, target=BEFORE)
        await db.close()
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        try:
            user = await f.admin()
            await ctx.db().execute_query(
                "UPDATE users SET created_at = '2026-11-27 14:00:00.250000+03:00'"
                f" WHERE id = {user.id}"
            )
            _, utc_before = await _texts(ctx, user.id)
        finally:
            await ctx.close_connections()
    async with TortoiseContext():
        await db.migrate(url)
        await db.close()
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        try:
            assert await _texts(ctx, user.id) == ("2026-11-27 11:00:00.250000+00:00", utc_before)
        finally:
            await ctx.close_connections()
