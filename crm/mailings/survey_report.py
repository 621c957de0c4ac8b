"""A survey's report: per question, how many clients answered, each option's count and
share of them (a share of those who answered the question), the free-text answers (the
latest first); every figure opens the clients behind it (`drill`). Read with one grouped
query per report and one per drill-down page; export as CSV or XLSX through
`crm.reports.export`. Heads of sales and admins only, as mailings are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crm.errors import NotFound
from crm.i18n import N_, gettext
from crm.mailings import service
from crm.models import Mailing, QuestionKind, SurveyAnswer, SurveyQuestion, User
from crm.reports.export import Table
from crm.rows import query

TEXTS_SHOWN = 50
DRILL_PAGE = 100


@dataclass
class OptionFigure:
    index: int
    label: str
    count: int
    share: float  # of the clients who answered the question (0..1)


@dataclass
class QuestionFigures:
    question: SurveyQuestion
    answered: int = 0
    options: list[OptionFigure] = field(default_factory=list)
    # free text: (client id, client name, text, answered at), the latest first
    texts: list[tuple[int, str, str, datetime]] = field(default_factory=list)


@dataclass
class SurveyReport:
    mailing: Mailing
    recipients: int
    questions: list[QuestionFigures]


async def report(mailing_id: int, *, actor: User) -> SurveyReport:
    mailing = await service.get_mailing(mailing_id, actor=actor)
    questions = await SurveyQuestion.filter(mailing_id=mailing.id).order_by("position")
    rows = await query(
        "SELECT question_id, option, COUNT(*) FROM survey_answers WHERE mailing_id = $1"
        " GROUP BY question_id, option",
        [mailing.id],
    )
    counts: dict[int, dict[int | None, int]] = {}
    for question_id, option, count in rows:
        key = None if option is None else int(option)
        counts.setdefault(int(question_id), {})[key] = int(count)
    recipients = await query(
        "SELECT COUNT(DISTINCT client_id) FROM mailing_recipients WHERE mailing_id = $1",
        [mailing.id],
    )
    figures: list[QuestionFigures] = []
    for q in questions:
        got = counts.get(q.id, {})
        answered = sum(got.values())
        item = QuestionFigures(q, answered)
        if q.kind == QuestionKind.CHOICE:
            item.options = [
                OptionFigure(
                    n, str(label), got.get(n, 0), got.get(n, 0) / answered if answered else 0
                )
                for n, label in enumerate(q.options)
            ]
        else:
            latest = (
                await SurveyAnswer.filter(question_id=q.id)
                .order_by("-answered_at", "-id")
                .limit(TEXTS_SHOWN)
                .values_list("client_id", "client__name", "text", "answered_at")
            )
            item.texts = [(int(c), str(n), str(t), a) for c, n, t, a in latest]
        figures.append(item)
    return SurveyReport(mailing, int(recipients[0][0]) if recipients else 0, figures)


@dataclass
class Drill:
    question: SurveyQuestion
    option: int | None  # None: everyone who answered the question
    rows: list[tuple[int, str, str, datetime]]  # client id, name, answer, answered at
    total: int
    page: int


async def drill(
    mailing_id: int, position: int, option: int | None, *, actor: User, page: int = 1
) -> Drill:
    """The clients behind one figure: who answered question `position` (with `option`)."""
    mailing = await service.get_mailing(mailing_id, actor=actor)
    question = await SurveyQuestion.filter(mailing_id=mailing.id, position=position).first()
    if question is None or (option is not None and not 0 <= option < len(question.options)):
        raise NotFound()
    answers = SurveyAnswer.filter(question_id=question.id)
    if option is not None:
        answers = answers.filter(option=option)
    total = await answers.count()
    page = max(1, page)
    rows = (
        await answers.order_by("-answered_at", "-id")
        .offset((page - 1) * DRILL_PAGE)
        .limit(DRILL_PAGE)
        .values_list("client_id", "client__name", "option", "text", "answered_at")
    )
    shown = [
        (int(c), str(n), str(question.options[o]) if o is not None else str(t), a)
        for c, n, o, t, a in rows
        if o is None or 0 <= o < len(question.options)
    ]
    return Drill(question, option, shown, total, page)


def tables(found: SurveyReport, locale: str | None) -> list[Table]:
    """The report as tables for `crm.reports.export`: one per question."""

    def t(text: str) -> str:
        return gettext(text, locale)

    out: list[Table] = []
    for item in found.questions:
        title = f"{item.question.position}. {item.question.text}"[:200]
        if item.question.kind == QuestionKind.CHOICE:
            rows = [(o.label, o.count, round(o.share * 100, 1)) for o in item.options]
            columns = (t(N_("Answer option")), t(N_("Clients")), t(N_("Share of the answers, %")))
            out.append(Table(title, columns, rows))
        else:
            text_rows = [(name, text, at) for _, name, text, at in item.texts]
            columns = (t(N_("Client")), t(N_("Answer")), t(N_("Answered at")))
            out.append(Table(title, columns, list(text_rows)))
    return out
