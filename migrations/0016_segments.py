"""Segments (saved rules, their members with join and leave moments), ABC/XYZ classes of clients and their thresholds in the company settings (issue 16)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_report_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientClass',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.IntField(unique=True)),
                ('abc', fields.CharField(max_length=1)),
                ('xyz', fields.CharField(max_length=1)),
                ('revenue', fields.DecimalField(max_digits=18, decimal_places=2)),
                ('variation', fields.FloatField()),
                ('computed_on', fields.DateField()),
            ],
            options={'table': 'client_classes', 'app': 'models', 'indexes': [Index(fields=['abc', 'xyz'])], 'pk_attr': 'id', 'table_description': "A client's ABC class (by revenue over the last 12 whole months) and XYZ class (by the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Segment',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('rule', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('members_count', fields.IntField(default=0)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'segments', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A saved rule (crm.segments.rules.Rule as JSON), its members recomputed nightly and'},
            bases=['Timestamped'],
        ),
        ops.CreateModel(
            name='SegmentMember',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('segment', fields.ForeignKeyField('models.Segment', source_field='segment_id', db_constraint=False, to_field='id', related_name='members', on_delete=OnDelete.NO_ACTION)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_index=True, db_constraint=False, to_field='id', related_name=False, on_delete=OnDelete.NO_ACTION)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('left_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'segment_members', 'app': 'models', 'indexes': [Index(fields=['segment_id', 'client_id'])], 'pk_attr': 'id', 'table_description': "A client's stay in a segment: joined at a recompute, left at a later one (`left_at`"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Company',
            name='abc_a_percent',
            field=fields.SmallIntField(default=80, db_default=80),
        ),
        ops.AddField(
            model_name='Company',
            name='abc_b_percent',
            field=fields.SmallIntField(default=15, db_default=15),
        ),
        ops.AddField(
            model_name='Company',
            name='classes_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Company',
            name='xyz_x_percent',
            field=fields.SmallIntField(default=10, db_default=10),
        ),
        ops.AddField(
            model_name='Company',
            name='xyz_y_percent',
            field=fields.SmallIntField(default=25, db_default=25),
        ),
    ]
