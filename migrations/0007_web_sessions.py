"""The panel's sessions as rows (crm.sessions): logout, a new password, deactivation and an
admin's "end all sessions" delete them, so a copied cookie stops working."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0006_reports")]

    initial = False

    operations = [
        ops.CreateModel(
            name="WebSession",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="web_sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "web_sessions",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A browser logged in to the panel, found by the digest of the token in its cookie.",
            },
            bases=["Timestamped"],
        ),
    ]
