from __future__ import annotations

from tortoise import fields

from crm.models.base import Timestamped


class Company(Timestamped):
    """The one company this install serves, and its CRM-wide settings (a single row)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=300, default="")
    inn = fields.CharField(max_length=12, null=True)
    org_form = fields.CharField(max_length=50, default="")
    business_kind = fields.CharField(max_length=100, default="")
    employees = fields.IntField(null=True)
    default_locale = fields.CharField(max_length=8, default="ru")
    default_timezone = fields.CharField(max_length=64, default="Europe/Moscow")
    clients_visible_to_all = fields.BooleanField(default=False)
    reminder_lead_minutes = fields.IntField(default=15)
    work_day_start = fields.TimeField(null=True)
    work_day_end = fields.TimeField(null=True)
    # ISO weekdays that are working days ("12345" = Monday to Friday) and the dates that are
    # not ("YYYY-MM-DD" strings): with the hours above, the calendar of crm.working_time.
    work_days = fields.CharField(max_length=7, default="12345", db_default="12345")
    holidays: list[str] | None = fields.JSONField(null=True, default=list)
    # The target for the first reply to a customer, in working minutes (None: no target).
    sla_first_reply_minutes = fields.IntField(null=True, default=15)
    currency = fields.CharField(max_length=3, default="RUB")
    # Mailings reach customers only between these local times (minutes after midnight).
    mailing_from_minute = fields.SmallIntField(default=9 * 60, db_default=9 * 60)
    mailing_until_minute = fields.SmallIntField(default=21 * 60, db_default=21 * 60)
    # ABC/XYZ (crm.segments.abcxyz): A holds the top abc_a_percent of revenue, B the next
    # abc_b_percent, C the rest; X a variation of monthly revenue up to xyz_x_percent, Y up
    # to xyz_y_percent, Z above.
    abc_a_percent = fields.SmallIntField(default=80, db_default=80)
    abc_b_percent = fields.SmallIntField(default=15, db_default=15)
    xyz_x_percent = fields.SmallIntField(default=10, db_default=10)
    xyz_y_percent = fields.SmallIntField(default=25, db_default=25)
    classes_on = fields.DateField(null=True)  # the night the classes were last computed for
    onboarded = fields.BooleanField(default=False)

    class Meta:
        table = "company"
