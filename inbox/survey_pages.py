"""The survey page of a survey mailing's email, served by crmhub without a login.

The letter carries one link per option of the first question,
`/survey/{token}/{position}/{option}` (`crm.mailings.surveys`: the token is the
recipient's random one, so a link answers nothing but its own recipient's survey). Opening
a link (GET) only shows the question, the chosen option and a button: mail scanners that
fetch every link answer nothing. The button POSTs the answer; the page then shows the next
question (buttons, or a text box for a free-text question) or thanks. A token nobody was
given, a question or option that does not exist get 404, nothing stored. A later answer to
the same question replaces the earlier one."""

from __future__ import annotations

from html import escape

from aiohttp import web

from crm.company import get_company
from crm.i18n import N_, gettext
from crm.mailings import survey_answers, surveys
from crm.models import MailingRecipient, QuestionKind, SurveyQuestion

__all__ = ["ROUTE", "add_routes"]

ROUTE = "/survey/{token:[A-Za-z0-9_-]{8,24}}/{position:\\d{1,2}}/{option:\\d{1,2}|t}"

TITLE = N_("Survey")
CONFIRM = N_("Your answer: {option}")
SEND = N_("Send the answer")
YOUR_TEXT = N_("Your answer")
THANKS = surveys.THANKS


def _page(locale: str, body: str) -> web.Response:
    title = escape(gettext(TITLE, locale))
    html = (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">'
        f"<title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def _form(token: str, question: SurveyQuestion, locale: str) -> str:
    """A question as buttons (each POSTs its option) or a text box."""
    path = f"/survey/{token}/{question.position}"
    head = f"<p>{escape(question.text)}</p>"
    if question.kind == QuestionKind.TEXT:
        return (
            f'{head}<form method="post" action="{path}/t">'
            f"<label>{escape(gettext(YOUR_TEXT, locale))}<br>"
            f'<textarea name="text" rows="4" cols="50" maxlength="4000" required></textarea>'
            f'</label><br><button type="submit">{escape(gettext(SEND, locale))}</button></form>'
        )
    buttons = "".join(
        f'<form method="post" action="{path}/{n}"><button type="submit">'
        f"{escape(str(label))}</button></form>"
        for n, label in enumerate(question.options)
    )
    return head + buttons


async def _question(request: web.Request) -> tuple[str, SurveyQuestion, str]:
    token = request.match_info["token"]
    recipient = await MailingRecipient.filter(survey_token=token).first()
    if recipient is None:
        raise web.HTTPNotFound()
    question = await SurveyQuestion.filter(
        mailing_id=recipient.mailing_id,  # type: ignore[attr-defined]
        position=int(request.match_info["position"]),
    ).first()
    option = request.match_info["option"]
    if question is None or (option == "t") != (question.kind == QuestionKind.TEXT):
        raise web.HTTPNotFound()
    if option != "t" and int(option) >= len(question.options):
        raise web.HTTPNotFound()
    return token, question, option


async def ask(request: web.Request) -> web.Response:
    token, question, option = await _question(request)
    locale = (await get_company()).default_locale
    if option == "t":
        return _page(locale, _form(token, question, locale))
    chosen = escape(gettext(CONFIRM, locale, option=str(question.options[int(option)])))
    body = (
        f"<p>{escape(question.text)}</p><p>{chosen}</p>"
        f'<form method="post"><button type="submit">{escape(gettext(SEND, locale))}'
        f"</button></form>"
    )
    return _page(locale, body)


async def record(request: web.Request) -> web.Response:
    token, question, option = await _question(request)
    text = ""
    if option == "t":
        form = await request.post()
        text = str(form.get("text") or "")[: survey_answers.MAX_TEXT]
        if not text.strip():
            raise web.HTTPBadRequest()
    answered = await survey_answers.answer(
        surveys.button_data(token, question.position, option), text=text
    )
    if answered is None:
        raise web.HTTPNotFound()
    locale = (await get_company()).default_locale
    following = answered.next_question
    if following is None:
        return _page(locale, f"<p>{escape(gettext(THANKS, locale))}</p>")
    return _page(locale, _form(token, following, locale))


def add_routes(app: web.Application) -> None:
    app.router.add_get(ROUTE, ask)
    app.router.add_post(ROUTE, record)
