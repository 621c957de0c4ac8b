"""A partial index over the processed raw events by when they were processed, for
`inbox.raw_retention`: its hourly pass reads the ones past the retention, oldest first,
and stops there instead of walking every processed row still kept (the same SQL on both
databases; the pass spells `status = 'processed'` literally, as a partial index requires)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from crm.sql_indexes import RAW_EVENTS_PROCESSED, drop_sql


class Migration(migrations.Migration):
    dependencies = [("models", "0004_datetimes_in_utc")]

    initial = False

    operations = [
        ops.RunSQL(
            RAW_EVENTS_PROCESSED.create_postgres,  # the same SQL on both databases
            reverse_sql=drop_sql(RAW_EVENTS_PROCESSED),
        )
    ]
