"""A survey in the panel and the API over HTTP: the mailing form's questions, the preview's
first question with its buttons per channel and its refusals (too few options, more than
VK shows), the start, the report by question with its drill-down and exports, and
GET /api/v1/mailings/{id}/answers; managers are kept out."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from admin_web.app import create_app
from crm import channels
from crm.mailings import service, survey_answers, surveys
from crm.mailings.audience import Audience
from crm.models import (
    ChannelIdentity,
    Client,
    Conversation,
    Interaction,
    InteractionKind,
    Mailing,
    MailingRecipient,
    Role,
    SurveyAnswer,
    User,
)
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.test_api import Api, api, manager_api  # noqa: F401  (fixtures)
from tests.crm import factories

QUESTIONS = "Как мы работаем?\n- Отлично\n- Плохо\n\nЧто улучшить?"


async def reachable(admin: User, name: str, external_id: str) -> int:
    channel = await channels.Channel.filter(kind="vk").first()
    if channel is None:
        channel = await channels.create_channel(
            kind="vk",
            name="Сообщество",
            credentials={"token": "vk1.a.t", "secret": "s", "confirmation": "c"},
            settings={"group_id": 1},
            actor=admin,
            api_base="http://127.0.0.1:9",
        )
    client = await factories.client(admin, name)
    identity = await ChannelIdentity.create(channel=channel, external_id=external_id, client=client)
    await Conversation.create(channel=channel, identity=identity, client=client)
    return client.id


async def answer(
    mailing_id: int, client_id: int, position: int, option: int | str, text: str = ""
) -> None:
    recipient = await MailingRecipient.get(mailing_id=mailing_id, client_id=client_id)
    data = surveys.button_data(str(recipient.survey_token), position, option)
    assert await survey_answers.answer(data, text=text) is not None


async def test_a_survey_from_the_form_to_the_report(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    first = await reachable(admin, "Ирина", "11")
    second = await reachable(admin, "Пётр", "12")
    seller = await make_user(Role.MANAGER, locale="ru", full_name="Олег Продавцов")
    await Client.filter(id=first).update(responsible_id=seller.id)
    await browser.login(admin.email)
    status, page = await browser.get("/mailings/new")
    assert 'name="questions"' in page and "Опрос (вопросы с кнопками ответов)" in page
    form = {
        "name": "Оценка работы",
        "kind": "survey",
        "channel_mode": "auto",
        "text": "Здравствуйте, {client_name}!",
        "client_ids": f"{first} {second}",
        "reply_days": "3",
        "questions": "Как мы работаем?\n- Отлично",
    }
    status, page = await browser.post("/mailings", form)
    mailing = await Mailing.get()
    assert "У вопроса 1 нужно хотя бы два варианта ответа" in page
    status, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert not await MailingRecipient.exists()
    many = "Как мы работаем?\n" + "\n".join(f"Вариант {n}" for n in range(7))
    status, page = await browser.post(f"/mailings/{mailing.id}", {**form, "questions": many})
    assert "VK показывает не больше 6 кнопок, а у вопроса 1 их 7" in page
    status, page = await browser.post(f"/mailings/{mailing.id}", {**form, "questions": QUESTIONS})
    assert 'id="mailing-problems"' not in page
    preview = page.split('id="survey-preview"', 1)[1].split("</div>", 1)[0]
    assert "Как мы работаем?" in preview and preview.count("Отлично") == 4  # per channel
    assert "Как мы работаем?\nОтлично\nПлохо\n\nЧто улучшить?" in page  # kept as typed
    status, page = await browser.post(f"/mailings/{mailing.id}/start")
    assert status == 200 and "Рассылка запущена" in page and 'id="survey-answers"' in page
    assert await MailingRecipient.filter(survey_token__isnull=False).count() == 2
    # Ирина's manager has the survey in the agenda; Пётр has no manager, so nobody does.
    (planned,) = await Interaction.filter(kind=InteractionKind.SURVEY)
    assert planned.client_id == first and planned.responsible_id == seller.id  # type: ignore[attr-defined]

    await answer(mailing.id, first, 1, 0)
    await answer(mailing.id, second, 1, 1)
    await answer(mailing.id, first, 2, "t", "Быстрее отвечайте")
    status, page = await browser.get(f"/mailings/{mailing.id}/survey")
    assert status == 200
    q1 = page.split('id="question-1"', 1)[1].split("</section>", 1)[0]
    assert f"/mailings/{mailing.id}/survey/clients?question=1&amp;option=0" in q1
    assert "50.0%" in q1 and "Ответили клиентов" in q1
    assert "Быстрее отвечайте" in page
    status, page = await browser.get(f"/mailings/{mailing.id}/survey/clients?question=1&option=1")
    assert status == 200 and "Пётр" in page and "Ирина" not in page
    status, page = await browser.get(f"/mailings/{mailing.id}/survey/clients?question=x")
    assert status == 422 and "Введите целое число" in page
    response = await browser.client.get(f"/mailings/{mailing.id}/survey?format=csv")
    csv_text = (await response.read()).decode("utf-8-sig")
    assert (
        response.status == 200 and "Отлично,1,50.0" in csv_text and "Быстрее отвечайте" in csv_text
    )
    response = await browser.client.get(f"/mailings/{mailing.id}/survey?format=xlsx")
    assert response.status == 200 and (await response.read())[:2] == b"PK"

    await browser.post("/logout")
    await browser.login(seller.email)
    status, page = await browser.get("/work")
    assert status == 200 and "Опрос: Оценка работы" in page
    for path in (
        f"/mailings/{mailing.id}/survey",
        f"/mailings/{mailing.id}/survey/clients?question=1",
    ):
        status, _ = await browser.get(path)
        assert status == 403


async def test_survey_answers_through_the_api(api: Api, manager_api: Api, admin: User) -> None:  # noqa: F811
    client_id = await reachable(admin, "Ирина", "21")
    status, body = await api.call(
        "POST",
        "/mailings",
        {
            "name": "Опрос",
            "text": "Ответьте, пожалуйста",
            "kind": "survey",
            "client_ids": [client_id],
            "questions": [{"text": "Довольны?", "options": ["Да", "Нет"]}, {"text": "Почему?"}],
        },
    )
    assert status == 201 and body["kind"] == "survey" and body["preview"]["problems"] == {}
    status, _ = await api.call("POST", f"/mailings/{body['id']}/start")
    assert status == 200
    await answer(body["id"], client_id, 1, 1)
    status, got = await api.call("GET", f"/mailings/{body['id']}/answers")
    assert status == 200 and got["recipients"] == 1
    yes_no, why = got["questions"]
    assert [(o["label"], o["count"], o["share"]) for o in yes_no["options"]] == [
        ("Да", 0, 0.0),
        ("Нет", 1, 1.0),
    ]
    assert why["kind"] == "text" and why["answered"] == 0 and why["texts"] == []
    status, _ = await manager_api.call("GET", f"/mailings/{body['id']}/answers")
    assert status == 403
    status, _ = await api.call("GET", "/mailings/999999/answers")
    assert status == 404


async def test_the_survey_page_needs_no_login_nor_csrf_on_the_panel(
    db: object, settings: object
) -> None:
    """In production the inbox's routes live on the panel's app: a customer's survey link
    passes its login, onboarding and CSRF checks, and answers for itself."""
    admin = await make_user(Role.ADMIN, locale="ru")
    client_id = await reachable(admin, "Ирина", "31")
    draft = service.Draft(
        name="Опрос",
        text="Ответьте",
        kind=service.MailingKind.SURVEY,
        audience=Audience(client_ids=(client_id,)),
        questions=surveys.parse_questions(QUESTIONS),
    )
    mailing = await service.save_draft(draft, actor=admin)
    await service.start(mailing.id, actor=admin)
    token = (await MailingRecipient.get(mailing_id=mailing.id)).survey_token
    app = create_app(settings)  # type: ignore[arg-type]
    hub = Inbox(public_url="https://crm.example")
    hub.mount(app)
    async with TestClient(TestServer(app)) as http:
        forged = await http.post(f"/survey/{'C' * 16}/1/0", allow_redirects=False)
        assert forged.status == 404
        asked = await http.get(f"/survey/{token}/1/1", allow_redirects=False)
        assert asked.status == 200 and "Ваш ответ: Плохо" in await asked.text()
        assert "Set-Cookie" not in asked.headers
        answered = await http.post(f"/survey/{token}/1/1", allow_redirects=False)
        assert answered.status == 200 and "Что улучшить?" in await answered.text()
    await hub.adapters.close()
    assert (await SurveyAnswer.get()).option == 1
