"""The bot's one-off notices (`notices_sent`): the heads' weekly digest and the first-reply
SLA nudges, each claimed once by its unique (kind, subject, day)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from crm.models.notices import NoticeKind


class Migration(migrations.Migration):
    dependencies = [("models", "0007_web_sessions")]

    initial = False

    operations = [
        ops.CreateModel(
            name="NoticeSent",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description=(
                            "WEEK_DIGEST: week_digest\nSLA_MANAGER: sla_manager\n"
                            "SLA_HEADS: sla_heads"
                        ),
                        enum_type=NoticeKind,
                        max_length=16,
                    ),
                ),
                ("subject", fields.BigIntField()),
                ("day", fields.DateField()),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notices_sent",
                "app": "models",
                "unique_together": (("kind", "subject", "day"),),
                "pk_attr": "id",
                "table_description": "One notice: claimed (`sent_at` empty), then sent.",
            },
            bases=["Timestamped"],
        ),
    ]
