"""Reports: the head-of-sales role, the company's working calendar (working days,
holidays) and first-reply target, the managers' monthly plans, and the indexes of the
reports' reads by period."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from crm.models.users import Role


class AlterChoicesOnly(ops.AlterField):
    """A new member of a text enum (`Role.HEAD`): the column (VARCHAR(16)) stays as it is,
    only the migration state learns the choices. A real ALTER would make SQLite rebuild
    `users`, and dropping the old table with foreign keys on cascades to its referrers."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0005_raw_events_processed")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ManagerPlan",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="plans",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("month", fields.DateField()),
                ("amount", fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ("wins", fields.IntField(null=True)),
            ],
            options={
                "table": "manager_plans",
                "app": "models",
                "unique_together": (("user", "month"),),
                "pk_attr": "id",
                "table_description": (
                    "A manager's plan for one month: an amount won and/or a number of wins."
                ),
            },
            bases=["Timestamped"],
        ),
        ops.AddField(
            model_name="Company",
            name="holidays",
            field=fields.JSONField(
                null=True,
                default=list,
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
        ops.AddField(
            model_name="Company",
            name="sla_first_reply_minutes",
            field=fields.IntField(null=True, default=15),
        ),
        ops.AddField(
            model_name="Company",
            name="work_days",
            field=fields.CharField(default="12345", db_default="12345", max_length=7),
        ),
        AlterChoicesOnly(
            model_name="User",
            name="role",
            field=fields.CharEnumField(
                default=Role.MANAGER,
                description="ADMIN: admin\nHEAD: head\nMANAGER: manager",
                enum_type=Role,
                max_length=16,
            ),
        ),
        # the reports' reads by period (crm/reports/)
        ops.AddIndex(model_name="Inquiry", index=Index(fields=["first_message_at"])),
        ops.AddIndex(model_name="Interest", index=Index(fields=["created_at"])),
        ops.AddIndex(model_name="Interest", index=Index(fields=["closed_at"])),
        ops.AddIndex(model_name="StageChange", index=Index(fields=["created_at"])),
        ops.AddIndex(model_name="StageChange", index=Index(fields=["interest_id", "created_at"])),
    ]
