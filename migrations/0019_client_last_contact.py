"""A client's last contact kept on the client (crm/last_contact.py), filled from the done
interactions set-based, and the client list's indexes by last contact and by responsible
(crm/desk_indexes.py LATER)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
import datetime
from tortoise.fields.db_defaults import SqlDefault
from tortoise import fields

from crm import desk_indexes, last_contact


async def fill(apps: Any, schema_editor: Any) -> None:
    await last_contact.backfill(schema_editor.client)
    await desk_indexes.create_later(schema_editor.client)


async def unfill(apps: Any, schema_editor: Any) -> None:
    await desk_indexes.drop_later(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0018_stage_moves_kept")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Client",
            name="last_contact_at",
            field=fields.DatetimeField(
                default=datetime.datetime.fromisoformat("1900-01-01T00:00:00+00:00"),
                db_default=SqlDefault("'1900-01-01 00:00:00+00:00'"),
                auto_now=False,
                auto_now_add=False,
            ),
        ),
        ops.RunPython(fill, reverse_code=unfill),
    ]
