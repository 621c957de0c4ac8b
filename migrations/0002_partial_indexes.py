"""Partial indexes tortoise cannot declare on a model: see crm/sql_indexes.py."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from crm.sql_indexes import INDEXES, drop_sql


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    # The same SQL is valid on PostgreSQL and SQLite (checked by tests/crm/test_migrate.py).
    operations = [
        ops.RunSQL(index.create_postgres, reverse_sql=drop_sql(index)) for index in INDEXES
    ]
