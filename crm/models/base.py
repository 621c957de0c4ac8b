from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Timestamped(Model):
    """Every table records when a row was made and last changed (timezone-aware)."""

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True
