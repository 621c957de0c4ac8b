"""Mailings: mailings, mailing_recipients, pace_slots (shared pacing) and the company's mailing hours (issue 16)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from crm.models.mailings import MailingKind, MailingStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_consent')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Mailing',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(default=MailingKind.INFORMATIONAL, description='INFORMATIONAL: info\nADVERTISING: ads', enum_type=MailingKind, max_length=8)),
                ('status', fields.CharEnumField(default=MailingStatus.DRAFT, description='DRAFT: draft\nSCHEDULED: scheduled\nPAUSED: paused\nCANCELLED: cancelled\nDONE: done', enum_type=MailingStatus, max_length=10)),
                ('text', fields.TextField(default='', unique=False)),
                ('subject', fields.CharField(default='', max_length=300)),
                ('html', fields.TextField(default='', unique=False)),
                ('attachment', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('audience', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('channel_mode', fields.CharField(default='auto', max_length=16)),
                ('send_on', fields.DateField(null=True)),
                ('send_minute', fields.SmallIntField(null=True)),
                ('reply_days', fields.SmallIntField(default=3)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('removed', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'mailings', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A template, an audience, the channels in order of preference and a send time (a'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='MailingRecipient',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mailing', fields.ForeignKeyField('models.Mailing', source_field='mailing_id', db_constraint=True, to_field='id', related_name='recipients', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('person', fields.ForeignKeyField('models.ContactPerson', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('identity', fields.ForeignKeyField('models.ChannelIdentity', source_field='identity_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('address', fields.CharField(default='', max_length=254)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('skipped', fields.CharField(default='', max_length=32)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('replied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('inquiry', fields.ForeignKeyField('models.Inquiry', source_field='inquiry_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'mailing_recipients', 'app': 'models', 'indexes': [Index(fields=['due_at', 'id']), Index(fields=['mailing_id', 'id']), Index(fields=['client_id', 'sent_at'])], 'pk_attr': 'id', 'table_description': 'One client (or key person) a started mailing reaches, on one channel, at `due_at`.'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='PaceSlot',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('next_at', fields.FloatField()),
            ],
            options={'table': 'pace_slots', 'app': 'models', 'pk_attr': 'key', 'table_description': 'The next free moment (Unix seconds) of one pacing key, shared by every worker on'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Company',
            name='mailing_from_minute',
            field=fields.SmallIntField(default=540, db_default=540),
        ),
        ops.AddField(
            model_name='Company',
            name='mailing_until_minute',
            field=fields.SmallIntField(default=1260, db_default=1260),
        ),
    ]
