"""Kept figures of the inquiries (crm.reports.kept_minutes): the first reply a person wrote,
the working minutes to acceptance and to that reply, the calendar they were counted under;
a message's "not yet given to its inquiries" flag. The first replies are filled by one
UPDATE; the minutes are left to the worker's settle step (the rows are stamped STALE, and
the reports count the old way until it has caught up)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

from crm.reports.kept_minutes import backfill_first_replies
from crm.sql_indexes import MESSAGES_FIGURES_PENDING, drop_sql


async def backfill(apps: Any, schema_editor: Any) -> None:
    await backfill_first_replies(schema_editor.client, give_pending=False)


async def nothing(apps: Any, schema_editor: Any) -> None:
    pass


class Migration(migrations.Migration):
    dependencies = [('models', '0020_surveys')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Inquiry',
            name='accept_minutes',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Inquiry',
            name='first_reply_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Inquiry',
            name='first_reply_minutes',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Inquiry',
            name='kept_calendar',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='figures_pending',
            field=fields.BooleanField(null=True, default=True),
        ),
        ops.RunPython(backfill, reverse_code=nothing),
        ops.AddIndex(
            model_name='Inquiry',
            index=Index(fields=['kept_calendar']),
        ),
        ops.RunSQL(
            MESSAGES_FIGURES_PENDING.create_postgres,
            reverse_sql=drop_sql(MESSAGES_FIGURES_PENDING),
        ),
    ]
