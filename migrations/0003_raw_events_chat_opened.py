"""A partial index over the raw bodies of opened chats (Viber's `conversation_started`),
for `inbox.lead_sources.viber_contexts`: a customer's first message looks back there for
the deep link they came by, and only these rows are read (the same SQL on both databases;
the lookup repeats the predicate literally, as a partial index requires)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from crm.sql_indexes import CHAT_OPENED_PREDICATE, RAW_EVENTS_CHAT_OPENED, drop_sql

NAME = RAW_EVENTS_CHAT_OPENED.name
PREDICATE = CHAT_OPENED_PREDICATE  # inbox.lead_sources repeats it literally


class Migration(migrations.Migration):
    dependencies = [("models", "0002_partial_indexes")]

    initial = False

    operations = [
        ops.RunSQL(
            RAW_EVENTS_CHAT_OPENED.create_postgres,  # the same SQL on both databases
            reverse_sql=drop_sql(RAW_EVENTS_CHAT_OPENED),
        )
    ]
