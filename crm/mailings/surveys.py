"""Surveys: a mailing of kind "survey" carries questions the customer answers with
buttons (Telegram inline buttons, VK and Viber keyboards), links in an email, or free text.

The questions are typed as blocks separated by an empty line: the block's first line is the
question, each further line an option; a block of one line is a free-text question
(`parse_questions`). The preview refuses a survey with no question, a choice with fewer
than two options, and more options or longer labels than a platform the mailing uses shows
(`problems`): nothing is started then.

Every button and link carries `sv:{token}:{position}:{option}`: `token` is the recipient's
random `survey_token` (made at the start, 96 bits), so a customer can only answer their own
survey, never name another recipient or client by an id (`button_data`, `parse_data`).

Planned surveys appear in the managers' agenda: at the start each reached client whose
responsible manager is known gets one planned interaction of kind "survey" at the moment
the survey is due for them, inserted with one INSERT ... SELECT (cheap at 100k recipients);
it becomes done when the survey is handed to the outbox for that client, and is cancelled
with the mailing (`plan_interactions`, `interactions_done`, `interactions_cancelled`).
The manager sees in their agenda which of their clients get the survey and when, without
any reminder."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm import clock
from crm.company import get_company
from crm.i18n import N_, Text, gettext
from crm.models import (
    Interaction,
    InteractionKind,
    InteractionState,
    Mailing,
    QuestionKind,
    SurveyQuestion,
)
from crm.rows import moment, query

PREFIX = "sv"
MAX_QUESTIONS = 20
MAX_QUESTION = 1000
# What each platform shows of a question's options: (buttons, characters of a label).
# Telegram: callback data up to 64 bytes (ours ~30), 100 inline buttons; VK: an inline
# keyboard of 6 rows (one option a row), labels up to 40 characters; Viber: a keyboard of
# up to 24 buttons; email: links, as many as make sense.
LIMITS: dict[str, tuple[int, int]] = {
    "telegram": (20, 64),
    "vk": (6, 40),
    "viber": (24, 250),
    "email": (20, 200),
}
PLATFORM_NAMES = {"telegram": "Telegram", "vk": "VK", "viber": "Viber", "email": "email"}
SUBJECT = N_("Survey: {name}")
THANKS = N_("Thank you for your answers!")
_DATA = re.compile(r"^sv:([A-Za-z0-9_-]{8,24}):(\d{1,2}):(\d{1,2}|t)$")


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...] = ()

    @property
    def kind(self) -> QuestionKind:
        return QuestionKind.CHOICE if self.options else QuestionKind.TEXT


def parse_questions(typed: str) -> list[Question]:
    """Blocks separated by an empty line: a question, then its options one a line (a
    leading "-", "*" or "1." is dropped); one line alone is a free-text question."""
    questions: list[Question] = []
    for block in re.split(r"\n\s*\n", typed.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        options = tuple(re.sub(r"^(?:[-*•]|\d{1,2}[.)])\s*", "", o) for o in lines[1:])
        questions.append(Question(lines[0], tuple(o for o in options if o)))
    return questions


def typed_questions(questions: list[SurveyQuestion]) -> str:
    """The stored questions as the form's textarea shows them."""
    return "\n\n".join("\n".join([q.text, *q.options]) for q in questions)


async def questions_of(mailing_id: int) -> list[SurveyQuestion]:
    return await SurveyQuestion.filter(mailing_id=mailing_id).order_by("position")


async def save_questions(mailing_id: int, questions: list[Question]) -> None:
    """Replace a draft's questions (inside the caller's transaction)."""
    await SurveyQuestion.filter(mailing_id=mailing_id).delete()
    await SurveyQuestion.bulk_create(
        [
            SurveyQuestion(
                mailing_id=mailing_id,
                position=n,
                text=q.text,
                kind=q.kind,
                options=list(q.options),
            )
            for n, q in enumerate(questions, start=1)
        ]
    )


def problems(questions: list[SurveyQuestion], kinds: set[str]) -> Text | None:
    """Why these questions cannot go out on these channels; None when they can."""
    if not questions:
        return Text(N_("A survey needs at least one question"))
    if len(questions) > MAX_QUESTIONS:
        return Text(N_("A survey has at most {count} questions"), count=MAX_QUESTIONS)
    for q in questions:
        if len(q.text) > MAX_QUESTION:
            return Text(N_("Question {n} is too long"), n=q.position)
        if q.kind != QuestionKind.CHOICE:
            continue
        if len(q.options) < 2:
            return Text(N_("Question {n} needs at least two options"), n=q.position)
        for kind in sorted(kinds):
            buttons, label = LIMITS.get(kind, LIMITS["email"])
            if len(q.options) > buttons:
                return Text(
                    N_("{platform} shows at most {count} buttons: question {n} has {options}"),
                    platform=PLATFORM_NAMES.get(kind, kind),
                    count=buttons,
                    n=q.position,
                    options=len(q.options),
                )
            if any(len(str(o)) > label for o in q.options):
                return Text(
                    N_("{platform} shows at most {count} characters on a button (question {n})"),
                    platform=PLATFORM_NAMES.get(kind, kind),
                    count=label,
                    n=q.position,
                )
    return None


# --- tokens and buttons ---------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits


def button_data(token: str, position: int, option: int | str) -> str:
    return f"{PREFIX}:{token}:{position}:{option}"


@dataclass(frozen=True)
class Pressed:
    token: str
    position: int
    option: int | None  # None: the free-text form of the survey page


def parse_data(data: str) -> Pressed | None:
    """A button's or link's data, or None when it is not one of ours."""
    found = _DATA.match(data.strip())
    if found is None:
        return None
    option = found.group(3)
    return Pressed(found.group(1), int(found.group(2)), None if option == "t" else int(option))


def buttons(token: str, question: SurveyQuestion) -> list[dict[str, str]]:
    """The question's options as the adapters' buttons: `{"text", "data"}` each."""
    if question.kind != QuestionKind.CHOICE:
        return []
    return [
        {"text": str(label), "data": button_data(token, question.position, n)}
        for n, label in enumerate(question.options)
    ]


async def thanks() -> str:
    return gettext(THANKS, (await get_company()).default_locale)


# --- the managers' agenda ---------------------------------------------------------------------


_PLAN_SQL = (
    "INSERT INTO interactions (created_at, updated_at, client_id, responsible_id, kind,"
    " subject, content, state, planned_at, sort_at, mailing_id)"
    " SELECT $1, $1, r.client_id, c.responsible_id, $2, $3, '', $4, MIN(r.due_at),"
    " MIN(r.due_at), $5 FROM mailing_recipients r JOIN clients c ON c.id = r.client_id"
    " WHERE r.mailing_id = $5 AND c.responsible_id IS NOT NULL"
    " GROUP BY r.client_id, c.responsible_id"
)


async def plan_interactions(mailing: Mailing) -> None:
    """One planned "survey" interaction per reached client with a responsible manager, at
    the client's send time (one statement; inside the start's transaction)."""
    locale = (await get_company()).default_locale
    subject = gettext(SUBJECT, locale, name=mailing.name)[:300]
    await query(
        _PLAN_SQL,
        [
            moment(clock.now()),
            InteractionKind.SURVEY.value,
            subject,
            InteractionState.PLANNED.value,
            mailing.id,
        ],
    )


async def interactions_done(mailing_id: int, client_ids: list[int], at: datetime) -> None:
    if client_ids:
        await Interaction.filter(
            mailing_id=mailing_id, client_id__in=client_ids, state=InteractionState.PLANNED
        ).update(state=InteractionState.DONE, done_at=at, sort_at=at)


async def interactions_cancelled(mailing_id: int) -> None:
    await Interaction.filter(mailing_id=mailing_id, state=InteractionState.PLANNED).update(
        state=InteractionState.CANCELLED
    )


def first_question_meta(questions: list[SurveyQuestion], token: str) -> dict[str, Any]:
    """What a survey's first message carries besides its text."""
    if not questions:
        return {}
    return {"survey": questions[0].position, "buttons": buttons(token, questions[0])}
