"""Indexes for the web desk's lists, search, card, deals, board and inbox at scale: see crm/desk_indexes.py."""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from crm import desk_indexes


async def create(apps: Any, schema_editor: Any) -> None:
    await desk_indexes.create(schema_editor.client)


async def drop(apps: Any, schema_editor: Any) -> None:
    await desk_indexes.drop(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0016_segments")]

    initial = False

    operations = [ops.RunPython(create, reverse_code=drop)]
