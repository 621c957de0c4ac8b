"""Surveys (issue 16, section 4): survey_questions, survey_answers; mailing_recipients.survey_token; interactions.mailing_id and the kind "survey"."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from crm.models.interactions import InteractionKind
from crm.models.mailings import MailingKind
from crm.models.surveys import QuestionKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class AlterChoicesOnly(ops.AlterField):
    """A new member of a text enum (`InteractionKind.SURVEY`, `MailingKind.SURVEY`): the
    column stays as it is, only the migration state learns the choices. A real ALTER would
    make SQLite rebuild `interactions` (a million rows, and its indexes dropped with it)."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0019_client_last_contact')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SurveyQuestion',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mailing', fields.ForeignKeyField('models.Mailing', source_field='mailing_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField()),
                ('text', fields.TextField(unique=False)),
                ('kind', fields.CharEnumField(default=QuestionKind.CHOICE, description='CHOICE: choice\nTEXT: text', enum_type=QuestionKind, max_length=8)),
                ('options', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'survey_questions', 'app': 'models', 'unique_together': (('mailing', 'position'),), 'pk_attr': 'id', 'table_description': 'One question of a survey mailing, at `position` (1, 2, ...).'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='SurveyAnswer',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('question', fields.ForeignKeyField('models.SurveyQuestion', source_field='question_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('mailing', fields.ForeignKeyField('models.Mailing', source_field='mailing_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('models.MailingRecipient', source_field='recipient_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('option', fields.SmallIntField(null=True)),
                ('text', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'survey_answers', 'app': 'models', 'unique_together': (('question', 'client'),), 'indexes': [Index(fields=['mailing_id', 'question_id', 'option'])], 'pk_attr': 'id', 'table_description': "A client's answer to one question: the option's index, or the free text. One per"},
            bases=['Timestamped'],
        ),
        AlterChoicesOnly(
            model_name='Interaction',
            name='kind',
            field=fields.CharEnumField(description='CALL: call\nMEETING: meeting\nEMAIL: email\nMESSAGE: message\nSMS: sms\nTASK: task\nNOTE: note\nSURVEY: survey', enum_type=InteractionKind, max_length=8),
        ),
        ops.AddField(
            model_name='Interaction',
            name='mailing_id',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='Interaction',
            index=Index(fields=['mailing_id', 'client_id']),
        ),
        AlterChoicesOnly(
            model_name='Mailing',
            name='kind',
            field=fields.CharEnumField(default=MailingKind.INFORMATIONAL, description='INFORMATIONAL: info\nADVERTISING: ads\nSURVEY: survey', enum_type=MailingKind, max_length=8),
        ),
        ops.AddField(
            model_name='MailingRecipient',
            name='survey_token',
            field=fields.CharField(null=True, unique=True, max_length=24),
        ),
    ]
