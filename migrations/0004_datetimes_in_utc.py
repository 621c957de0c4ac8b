"""SQLite: datetimes stored with a UTC offset other than +00:00 rewritten in UTC.

Before crm.models.base.UtcDatetimeField, a moment given to `update()` kept its offset in
SQLite's text (conversations.last_message_at from an email's Date header, `+03:00`), and so
did a moment assigned before `save()`; SQLite compares that text as text, so such rows
sorted and filtered wrongly. PostgreSQL's timestamptz stores moments: nothing to do there.
Only the rows with an offset are touched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import migrations
from tortoise.fields import DatetimeField
from tortoise.migrations import operations as ops


async def datetimes_to_utc(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    for model in apps.apps["models"].values():
        table, pk = model._meta.db_table, model._meta.db_pk_column
        for field in model._meta.fields_map.values():
            if not isinstance(field, DatetimeField):
                continue
            column = field.source_field or field.model_field_name
            _, rows = await client.execute_query(
                f'SELECT "{pk}", "{column}" FROM "{table}"'
                f' WHERE "{column}" IS NOT NULL AND "{column}" NOT LIKE \'%+00:00\''
            )
            for key, text in rows:
                moment = datetime.fromisoformat(str(text))
                if moment.tzinfo is None:  # read as UTC already
                    continue
                await client.execute_query(
                    f'UPDATE "{table}" SET "{column}" = ? WHERE "{pk}" = ?',
                    [moment.astimezone(UTC).isoformat(" "), key],
                )


class Migration(migrations.Migration):
    dependencies = [("models", "0003_raw_events_chat_opened")]

    initial = False

    # Backwards there is nothing to undo: UTC text is what every version reads correctly.
    operations = [ops.RunPython(datetimes_to_utc, reverse_code=ops.RunPython.noop)]
