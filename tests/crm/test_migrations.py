"""The committed migrations are the schema: they apply cleanly and match the models."""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from crm.db import MODELS, tortoise_config


async def test_models_and_migrations_agree() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        try:
            assert ctx.apps is not None
            detector = MigrationAutodetector(ctx.apps, config["apps"])
            writers = await detector.changes()
            pending = [op for w in writers for op in w.operations]
            assert pending == [], (
                "models changed without a migration; run "
                "`.venv/bin/tortoise -c crm.db.TORTOISE_ORM makemigrations -n <what>`"
            )
        finally:
            await ctx.close_connections()
    assert MODELS == ["crm.models"]
