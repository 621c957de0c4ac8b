"""The ledger of the bot's one-off notices: the weekly digest of a head for one week, the
first-reply SLA nudges of one inquiry. A notice is claimed by inserting its row (unique on
kind, subject and day), so two workers ticking at once never both send it; a transient
failure gives the claim back (deletes the unsent row) for a later tick."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField


class NoticeKind(StrEnum):
    WEEK_DIGEST = "week_digest"  # subject: the user; day: the local Monday it was due
    SLA_MANAGER = "sla_manager"  # subject: the inquiry; day: its first message's UTC day
    SLA_HEADS = "sla_heads"  # subject: the inquiry (twice the SLA); day: as above


class NoticeSent(Timestamped):
    """One notice: claimed (`sent_at` empty), then sent."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(NoticeKind, max_length=16)
    subject = fields.BigIntField()
    day = fields.DateField()
    sent_at = UtcDatetimeField(null=True)

    class Meta:
        table = "notices_sent"
        unique_together = (("kind", "subject", "day"),)
