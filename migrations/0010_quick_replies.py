"""Quick replies: canned answers, shared (no owner) or a user's own (issue 15 item 3)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_money')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QuickReply',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=100)),
                ('text', fields.TextField(unique=False)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='quick_replies', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'quick_replies', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'title'])], 'pk_attr': 'id', 'table_description': 'A canned answer with `{client_name}`-style placeholders: shared (no owner, made by an'},
            bases=['Timestamped'],
        ),
    ]
