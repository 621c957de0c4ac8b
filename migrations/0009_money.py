"""Money facts: invoices against interests and payments against invoices (issue 16)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_notices_sent')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('interest', fields.ForeignKeyField('models.Interest', source_field='interest_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.CASCADE)),
                ('number', fields.CharField(max_length=64)),
                ('issued_on', fields.DateField()),
                ('due_on', fields.DateField(null=True)),
                ('amount', fields.DecimalField(max_digits=16, decimal_places=2)),
                ('currency', fields.CharField(default='RUB', max_length=3)),
                ('paid', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'invoices', 'app': 'models', 'unique_together': (('interest', 'number'),), 'indexes': [Index(fields=['client_id', 'issued_on']), Index(fields=['due_on'])], 'pk_attr': 'id', 'table_description': 'An invoice issued against an interest (a money fact: what the client owes).'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('paid_on', fields.DateField()),
                ('amount', fields.DecimalField(max_digits=16, decimal_places=2)),
                ('overpayment', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'payments', 'app': 'models', 'indexes': [Index(fields=['client_id', 'paid_on'])], 'pk_attr': 'id', 'table_description': 'A payment received against an invoice (revenue is counted on its date).'},
            bases=['Timestamped'],
        ),
    ]
