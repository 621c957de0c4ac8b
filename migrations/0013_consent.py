"""Consent and opt-out: client_consents (advertising consent, opt-out) and email_bounces (issue 16)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from crm.models.consent import ConsentSource
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_desk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientConsent',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', unique=True, db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.CASCADE)),
                ('consented_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('source', fields.CharEnumField(null=True, description='IMPORT: import\nFORM: form\nCHAT: chat', enum_type=ConsentSource, max_length=8)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('opted_out_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('opted_out_via', fields.CharField(default='', max_length=16)),
            ],
            options={'table': 'client_consents', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row per client: the advertising consent (when, by what) and the opt-out.'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='EmailBounce',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('address', fields.CharField(unique=True, max_length=254)),
                ('bounced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'email_bounces', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An address our mail did not reach (a bounce, a refused recipient, or marked by'},
            bases=['Timestamped'],
        ),
    ]
