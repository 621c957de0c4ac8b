from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.users import User


class ImportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the run itself broke off (unreadable file, lost database, ...)


class ImportJob(Timestamped):
    """One import of clients from a CSV or XLSX file, with its progress and outcome."""

    id = fields.IntField(primary_key=True)
    filename = fields.CharField(max_length=255)
    path = fields.CharField(max_length=500)  # the uploaded file, kept under the data dir
    options: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharEnumField(ImportStatus, max_length=8, default=ImportStatus.PENDING)
    total = fields.IntField(default=0)
    processed = fields.IntField(default=0)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    skipped = fields.IntField(default=0)
    failed_path = fields.CharField(max_length=500, default="")
    error = fields.TextField(default="")
    started_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    finished_at = UtcDatetimeField(null=True)

    class Meta:
        table = "import_jobs"


class ImportMapping(Timestamped):
    """The client field a column heading was last mapped to (offered at the next import)."""

    id = fields.IntField(primary_key=True)
    heading = fields.CharField(max_length=200, unique=True)  # lowercased, spaces collapsed
    target = fields.CharField(max_length=50)

    class Meta:
        table = "import_mappings"
