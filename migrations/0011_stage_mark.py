"""Money facts: a stage may be marked "invoice" or "paid" (issue 16)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from crm.models.scenarios import StageMark
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_quick_replies')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Stage',
            name='mark',
            field=fields.CharEnumField(default=StageMark.NONE, description='NONE: \nINVOICE: invoice\nPAID: paid', enum_type=StageMark, max_length=8),
        ),
    ]
