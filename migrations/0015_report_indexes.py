"""Partial indexes for the reports: planned next steps by interest, people's replies by
conversation (the same SQL on both databases; see crm/sql_indexes.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from crm.sql_indexes import REPORT_INDEXES, drop_sql


class Migration(migrations.Migration):
    dependencies = [("models", "0014_mailings")]

    initial = False

    operations = [
        ops.RunSQL(index.create_postgres, reverse_sql=drop_sql(index)) for index in REPORT_INDEXES
    ]
