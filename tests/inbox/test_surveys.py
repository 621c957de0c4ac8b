"""Surveys through the real path: a survey mailing's first question goes out with its
buttons (Telegram inline keyboard through the Bot API fake, VK's and Viber's keyboards
through theirs, links in an email over SMTP); a press posted to the channel's webhook (a
Telegram callback_query, a VK payload, a Viber reply button) records the answer and sends
the next question; a forged or foreign token is refused; free text is the next message;
the email page asks before it records; the managers' planned interactions; the report."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from crm.errors import NotFound
from crm.mailings import service, survey_answers, survey_report, surveys
from crm.mailings.audience import Audience
from crm.models import (
    Channel,
    ChannelIdentity,
    Client,
    Inquiry,
    Interaction,
    InteractionKind,
    InteractionState,
    MailingRecipient,
    Message,
    SurveyAnswer,
    User,
)
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.base import load_fixture
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI, signed_callback
from tests.fakes.vk_api import VkAPI
from tests.inbox.conftest import VIBER_TOKEN, VK_SECRET, post, tg_headers
from tests.inbox.test_mailings import PUBLIC_URL, all_day, wrote
from tests.inbox.test_optout import tg_wrote

QUESTIONS = [
    surveys.Question("Как вы оцениваете нашу работу?", ("Отлично", "Хорошо", "Плохо")),
    surveys.Question("Что нам улучшить?"),
    surveys.Question("Порекомендуете нас друзьям?", ("Да", "Нет")),
]


async def start_survey(admin: User, client_ids: list[int], **kw: Any) -> int:
    await all_day(name="Мебельный дом")
    draft = service.Draft(
        name="Довольны ли вы нами",
        text="Здравствуйте, {client_name}! Ответьте, пожалуйста, на три вопроса.",
        kind=service.MailingKind.SURVEY,
        audience=Audience(client_ids=tuple(client_ids)),
        questions=list(QUESTIONS),
        **kw,
    )
    mailing = await service.save_draft(draft, actor=admin)
    await service.start(mailing.id, actor=admin)
    return mailing.id


def callback(data: str, user_id: int = 5123456789, n: int = 0) -> dict[str, Any]:
    update = load_fixture("telegram", "callback_query")
    update["update_id"] += 100 + n
    update["callback_query"]["id"] = str(900 + n)
    update["callback_query"]["data"] = data
    update["callback_query"]["from"]["id"] = user_id
    update["callback_query"]["message"]["chat"]["id"] = user_id
    return update


async def press(http: Any, inbox: Inbox, tg: Channel, update: dict[str, Any]) -> None:
    response = await post(http, f"/webhooks/telegram/{tg.id}", update, **tg_headers(tg))
    assert response.status == 200
    await inbox.process()


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message["reply_markup"]["inline_keyboard"]
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_a_telegram_survey_from_buttons_to_the_report(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    await tg_wrote(http, inbox, tg, 0, "Здравствуйте")
    client = await Client.get(id=(await ChannelIdentity.get()).client_id)  # type: ignore[attr-defined]
    manager = await factories.manager(full_name="Ольга Петрова")
    await Client.filter(id=client.id).update(responsible_id=manager.id)
    mailing_id = await start_survey(admin, [client.id])
    # The responsible manager's agenda has the survey planned at the send time.
    (planned,) = await Interaction.filter(kind=InteractionKind.SURVEY)
    assert planned.responsible_id == manager.id and planned.client_id == client.id  # type: ignore[attr-defined]
    assert planned.state == InteractionState.PLANNED and planned.planned_at is not None
    assert "Довольны ли вы нами" in planned.subject

    assert (await inbox.send_all()).sent == 1
    first = telegram.delivered[-1]
    assert "Как вы оцениваете нашу работу?" in first["text"]
    buttons = keyboard(first)
    assert [b[0] for b in buttons] == ["Отлично", "Хорошо", "Плохо"]
    assert all(len(data.encode()) <= 64 and data.startswith("sv:") for _, data in buttons)
    recipient = await MailingRecipient.get(mailing_id=mailing_id)
    assert buttons[0][1] == f"sv:{recipient.survey_token}:1:0"  # a random token, not an id
    assert len(str(recipient.survey_token)) == 16
    assert (await Interaction.get(id=planned.id)).state == InteractionState.DONE

    # A forged token and someone else's press are refused: nothing stored, nothing sent.
    token = buttons[0][1].split(":")[1]
    forged = buttons[0][1].replace(token, "A" * len(token))
    await press(http, inbox, tg, callback(forged, n=1))
    await press(http, inbox, tg, callback(buttons[0][1], user_id=999, n=2))
    await press(http, inbox, tg, callback(f"sv:{token}:1:7", n=3))  # no such option
    assert await SurveyAnswer.all().count() == 0
    assert (await inbox.send_all()).sent == 0

    # "Хорошо": recorded, and the free-text question follows (no buttons).
    await press(http, inbox, tg, callback(buttons[1][1], n=4))
    (answer,) = await SurveyAnswer.all()
    assert "904" in telegram.answered_callbacks  # the button stops spinning
    # The answered question's buttons leave the chat (a second press replaces, see below).
    assert not telegram.messages[(first["chat"]["id"], first["message_id"])].get("reply_markup")
    assert answer.option == 1 and answer.client_id == client.id  # type: ignore[attr-defined]
    assert (await inbox.send_all()).sent == 1
    assert telegram.delivered[-1]["text"] == "Что нам улучшить?"
    assert "reply_markup" not in telegram.delivered[-1]
    # Pressing again (a changed mind) replaces the answer and sends nothing again.
    await press(http, inbox, tg, callback(buttons[0][1], n=5))
    assert (await SurveyAnswer.get(question__position=1)).option == 0
    assert (await inbox.send_all()).sent == 0

    # The next message is the free-text answer; it still lands in the inbox.
    await tg_wrote(http, inbox, tg, 1, "Быстрее доставку, пожалуйста")
    text_answer = await SurveyAnswer.get(question__position=2)
    assert text_answer.text == "Быстрее доставку, пожалуйста" and text_answer.option is None
    assert await Message.filter(text="Быстрее доставку, пожалуйста").exists()
    assert (await inbox.send_all()).sent == 1
    last = keyboard(telegram.delivered[-1])
    assert [b[0] for b in last] == ["Да", "Нет"]
    await press(http, inbox, tg, callback(last[0][1], n=6))
    assert (await inbox.send_all()).sent == 1
    assert telegram.delivered[-1]["text"] == "Спасибо за ответы!"
    # A later message is no survey answer.
    await tg_wrote(http, inbox, tg, 2, "И ещё вопрос по заказу")
    assert await SurveyAnswer.all().count() == 3

    found = await survey_report.report(mailing_id, actor=admin)
    assert found.recipients == 1
    q1, q2, q3 = found.questions
    assert [(o.label, o.count, o.share) for o in q1.options] == [
        ("Отлично", 1, 1.0),
        ("Хорошо", 0, 0),
        ("Плохо", 0, 0),
    ]
    assert [t[2] for t in q2.texts] == ["Быстрее доставку, пожалуйста"]
    assert q3.answered == 1 and q3.options[0].count == 1
    drill = await survey_report.drill(mailing_id, 1, 0, actor=admin)
    assert [(r[0], r[2]) for r in drill.rows] == [(client.id, "Отлично")]
    assert (await survey_report.drill(mailing_id, 1, 2, actor=admin)).rows == []
    with pytest.raises(NotFound):
        await survey_report.drill(mailing_id, 9, None, actor=admin)


async def test_vk_and_viber_answer_with_their_keyboards(
    http: Any,
    inbox: Inbox,
    vk: Channel,
    vk_fake: VkAPI,
    viber: Channel,
    viber_fake: ViberAPI,
    admin: User,
) -> None:
    vk_client = await factories.client(admin, "Игорь")
    viber_client = await factories.client(admin, "Ольга Петрова")
    await wrote(vk, vk_client, "612345678")
    await wrote(viber, viber_client, "pttm25kSGUo1919sBORWyA==")
    await start_survey(admin, [vk_client.id, viber_client.id])
    assert (await inbox.send_all()).sent == 2

    sent_vk = vk_fake.delivered[-1]
    board = sent_vk.keyboard  # the fake decodes the keyboard's JSON as VK does
    assert isinstance(board, dict)
    assert board["inline"] is True
    labels = [row[0]["action"]["label"] for row in board["buttons"]]
    assert labels == ["Отлично", "Хорошо", "Плохо"]
    payload = board["buttons"][2][0]["action"]["payload"]
    event = load_fixture("vk", "message_new")
    event["object"]["message"].update(text="Плохо", payload=payload, id=2001)
    event["secret"] = VK_SECRET
    assert (await post(http, f"/webhooks/vk/{vk.id}", event)).status == 200
    await inbox.process()
    (vk_answer,) = await SurveyAnswer.filter(client_id=vk_client.id)
    assert vk_answer.option == 2
    # The press is kept in the conversation, but it is an answer: no inquiry, no waiting.
    pressed = await Message.get(text="Плохо")
    assert (await pressed.conversation).waiting_since is None
    assert not await Inquiry.exists()
    assert (await inbox.send_all()).sent == 1
    assert vk_fake.delivered[-1].text == "Что нам улучшить?"

    sent_viber = viber_fake.delivered[-1]
    buttons = sent_viber.payload["keyboard"]["Buttons"]
    assert [b["Text"] for b in buttons] == ["Отлично", "Хорошо", "Плохо"]
    assert all(b["ActionType"] == "reply" for b in buttons)
    message = load_fixture("viber", "message_text")
    message["message"]["text"] = buttons[0]["ActionBody"]
    body, headers = signed_callback(message, VIBER_TOKEN)
    assert (
        await http.post(f"/webhooks/viber/{viber.id}", data=body, headers=headers)
    ).status == 200
    await inbox.process()
    (viber_answer,) = await SurveyAnswer.filter(client_id=viber_client.id)
    assert viber_answer.option == 0
    # The inbox shows the button's label, not its data.
    assert await Message.filter(text="Отлично", conversation__client_id=viber_client.id).exists()
    assert (await inbox.send_all()).sent == 1
    assert viber_fake.delivered[-1].text == "Что нам улучшить?"
    # Someone else's token in a VK payload answers nothing.
    forged = load_fixture("vk", "message_new")
    data = json.loads(payload)["sv"].replace(":1:2", ":1:0")
    other_token = buttons[0]["ActionBody"].split(":")[1]
    forged["object"]["message"].update(
        text="Отлично",
        payload=json.dumps({"sv": data.replace(data.split(":")[1], other_token)}),
        id=2002,
    )
    forged["secret"] = VK_SECRET
    assert (await post(http, f"/webhooks/vk/{vk.id}", forged)).status == 200
    await inbox.process()
    assert (await SurveyAnswer.get(client_id=viber_client.id)).option == 0
    assert await SurveyAnswer.filter(client_id=vk_client.id).count() == 1


async def test_an_email_survey_asks_before_it_records(
    http: Any, inbox: Inbox, mailbox: Channel, smtp: SmtpServer, admin: User
) -> None:
    inbox.public_url = PUBLIC_URL
    client = await factories.client(admin, "ООО Ромашка", emails=["buh@romashka.ru"])
    await start_survey(admin, [client.id], channel_mode="email")
    assert (await inbox.send_all()).sent == 1
    (letter,) = smtp.received
    body = letter.message.get_body(("plain",)).get_content()
    links = re.findall(re.escape(PUBLIC_URL) + r"(/survey/\S+)", body)
    assert len(links) == 3 and "Как вы оцениваете нашу работу?" in body
    page = await http.get(links[0])
    text = await page.text()
    assert page.status == 200 and "Ваш ответ: Отлично" in text and 'method="post"' in text
    assert await SurveyAnswer.all().count() == 0  # a mail scanner's GET answers nothing
    answered = await http.post(links[0])
    assert answered.status == 200
    assert "Что нам улучшить?" in await answered.text()
    assert (await SurveyAnswer.get()).option == 0
    token = links[0].split("/")[2]
    free = await http.post(f"/survey/{token}/2/t", data={"text": "Всё отлично"})
    assert "Порекомендуете нас друзьям?" in await free.text()
    assert (await SurveyAnswer.get(question__position=2)).text == "Всё отлично"
    done = await http.post(f"/survey/{token}/3/1")
    assert "Спасибо за ответы!" in await done.text()
    for forged in (f"/survey/{'B' * 16}/1/0", f"/survey/{token}/1/5", f"/survey/{token}/9/0"):
        assert (await http.get(forged)).status == 404
        assert (await http.post(forged)).status == 404
    assert await SurveyAnswer.all().count() == 3


async def test_bad_questions_are_refused_in_the_preview(
    vk: Channel, tg: Channel, admin: User
) -> None:
    vk_client = await factories.client(admin, "Игорь")
    await wrote(vk, vk_client, "612345678")
    audience = Audience(client_ids=(vk_client.id,))

    async def problem(questions: list[surveys.Question]) -> str:
        draft = service.Draft(
            name="Опрос",
            text="Вопросы",
            kind=service.MailingKind.SURVEY,
            audience=audience,
            questions=questions,
        )
        mailing = await service.save_draft(draft, actor=admin)
        checked = await service.preview(mailing, actor=admin)
        found = checked.problems.get("questions")
        return found.render("en") if found is not None else ""

    assert "at least one question" in await problem([])
    assert "at least two options" in await problem([surveys.Question("Да?", ("Да",))])
    seven = tuple(str(n) for n in range(7))
    assert "VK shows at most 6 buttons" in await problem([surveys.Question("?", seven)])
    assert "40 characters" in await problem([surveys.Question("?", ("Да", "Н" * 41))])
    assert await problem([surveys.Question("?", ("Да", "Нет")), surveys.Question("Почему?")]) == ""
    assert surveys.parse_questions("Как дела?\n- Хорошо\n- Плохо\n\nПочему?\n") == [
        surveys.Question("Как дела?", ("Хорошо", "Плохо")),
        surveys.Question("Почему?"),
    ]


async def test_a_cancelled_survey_leaves_the_agenda_and_takes_no_answers(
    tg: Channel, admin: User
) -> None:
    client = await factories.client(admin, "Игорь")
    await wrote(tg, client, "777")
    manager = await factories.manager(full_name="Ольга Петрова")
    await Client.filter(id=client.id).update(responsible_id=manager.id)
    mailing_id = await start_survey(admin, [client.id])
    recipient = await MailingRecipient.get(mailing_id=mailing_id)
    await service.cancel(mailing_id, actor=admin)
    (planned,) = await Interaction.filter(kind=InteractionKind.SURVEY)
    assert planned.state == InteractionState.CANCELLED
    data = surveys.button_data(str(recipient.survey_token), 1, 0)
    assert await survey_answers.answer(data) is None
    assert not await SurveyAnswer.exists()
