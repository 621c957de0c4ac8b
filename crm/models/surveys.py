"""Surveys: a mailing of kind "survey" asks its questions in order; each client's answer
to each question is kept once (a later answer to the same question replaces it)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.mailings import Mailing, MailingRecipient


class QuestionKind(StrEnum):
    CHOICE = "choice"  # one of the options, by a button or a link
    TEXT = "text"  # the customer's next message (or the survey page's text box)


class SurveyQuestion(Timestamped):
    """One question of a survey mailing, at `position` (1, 2, ...)."""

    id = fields.IntField(primary_key=True)
    mailing: fields.ForeignKeyRelation[Mailing] = fields.ForeignKeyField(
        "models.Mailing", related_name="questions", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField()
    text = fields.TextField()
    kind = fields.CharEnumField(QuestionKind, max_length=8, default=QuestionKind.CHOICE)
    options: list[Any] = fields.JSONField(default=list)  # the choices' labels, in order

    class Meta:
        table = "survey_questions"
        unique_together = (("mailing", "position"),)


class SurveyAnswer(Timestamped):
    """A client's answer to one question: the option's index, or the free text. One per
    client and question: a second answer replaces the first (`answered_at` moves)."""

    id = fields.BigIntField(primary_key=True)
    question: fields.ForeignKeyRelation[SurveyQuestion] = fields.ForeignKeyField(
        "models.SurveyQuestion", related_name="answers", on_delete=fields.CASCADE
    )
    mailing: fields.ForeignKeyRelation[Mailing] = fields.ForeignKeyField(
        "models.Mailing", related_name=False, on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name=False, on_delete=fields.CASCADE
    )
    recipient: fields.ForeignKeyNullableRelation[MailingRecipient] = fields.ForeignKeyField(
        "models.MailingRecipient", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    option = fields.SmallIntField(null=True)  # choice: the option's index
    text = fields.TextField(default="")  # free text
    answered_at = UtcDatetimeField()

    class Meta:
        table = "survey_answers"
        unique_together = (("question", "client"),)
        indexes = (Index(fields=("mailing_id", "question_id", "option")),)
