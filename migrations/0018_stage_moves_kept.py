"""The funnel's values kept per stage move (crm/stage_moves.py): when it was left, the
previous entry of the same stage, whether the interest moved on to a later stage; filled
for every existing move by one window UPDATE, then the partial index of unsettled moves."""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from crm import stage_moves
from crm.sql_indexes import STAGE_CHANGES_UNSETTLED, drop_sql


async def backfill(apps: Any, schema_editor: Any) -> None:
    await stage_moves.settle_all(schema_editor.client)


async def nothing(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0017_desk_indexes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StageChange",
            name="left_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="StageChange",
            name="entered_before",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="StageChange",
            name="advanced",
            field=fields.BooleanField(null=True),
        ),
        ops.RunPython(backfill, reverse_code=nothing),
        ops.RunSQL(
            STAGE_CHANGES_UNSETTLED.create_postgres,
            reverse_sql=drop_sql(STAGE_CHANGES_UNSETTLED),
        ),
    ]
