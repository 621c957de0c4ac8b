"""The web desk (issue 15): what each user has read, internal notes, reply once-keys, the
live feed's events on PostgreSQL, a conversation's waiting time (filled from the messages
here), and the indexes of the desk's list (conversations by time, a conversation's open
inquiry)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The customer's first message after the last reply a person wrote (the same SQL on both
# databases; as inbox.hub keeps it from now on).
WAITING_SINCE = (
    "UPDATE conversations SET waiting_since = (SELECT MIN(COALESCE(w.sent_at, w.created_at))"
    " FROM messages w WHERE w.conversation_id = conversations.id AND w.direction = 'in'"
    " AND w.id > COALESCE((SELECT MAX(o.id) FROM messages o"
    " WHERE o.conversation_id = conversations.id AND o.direction = 'out'"
    " AND o.author_id IS NOT NULL), 0))"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0011_stage_mark')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConversationNote',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='notes', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
            ],
            options={'table': 'conversation_notes', 'app': 'models', 'indexes': [Index(fields=['conversation_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A note colleagues leave in a conversation: shown in the thread, never sent.'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='ConversationRead',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('last_read_id', fields.BigIntField(default=0)),
            ],
            options={'table': 'conversation_reads', 'app': 'models', 'unique_together': (('user', 'conversation'),), 'pk_attr': 'id', 'table_description': 'The newest message of the conversation the user had seen when they last opened it:'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='DeskEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('conversation_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'desk_events', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One event of the live desk on PostgreSQL (inbox.desk_feed.PostgresFeed): its id is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReplyKey',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=64)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'reply_keys', 'app': 'models', 'unique_together': (('user', 'key'),), 'pk_attr': 'id', 'table_description': "A reply form's one-shot key: the form sent twice queues one message."},
            bases=['Timestamped'],
        ),
        ops.AddField(
            model_name='Conversation',
            name='waiting_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Conversation',
            index=Index(fields=['last_message_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Inquiry',
            index=Index(fields=['conversation_id', 'status']),
        ),
        ops.RunSQL(WAITING_SINCE, reverse_sql="SELECT 1"),
    ]
