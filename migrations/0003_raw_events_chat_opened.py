"""A partial index over the raw bodies of opened chats (Viber's `conversation_started`),
for `inbox.lead_sources.viber_contexts`: a customer's first message looks back there for
the deep link they came by, and only these rows are read (the same SQL on both databases;
the lookup repeats the predicate literally, as a partial index requires)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

NAME = "raw_events_chat_opened"
PREDICATE = "body LIKE '%conversation_started%'"


class Migration(migrations.Migration):
    dependencies = [("models", "0002_partial_indexes")]

    initial = False

    operations = [
        ops.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON raw_events (channel_id, created_at)"
            f" WHERE {PREDICATE}",
            reverse_sql=f"DROP INDEX IF EXISTS {NAME}",
        )
    ]
