"""The panel in Russian: a deal is "сделка" (never 1C's "интерес"), and no raw English.

`test_every_page_reads_russian` fills the database with demo data and what demo data does
not make (channels of every kind, a conversation with a queued reply, a card's history,
an import, an API key, robots), logs in as a Russian-speaking admin, renders every page of
the panel (each GET route the app has, with real ids) and fails on any Latin-letter word
in the visible text that is not a product name, a format or an address
(`tests/russian_text.py`): enum values (`won`, `call`, `relation_type`), credential keys
(`token`, `group_id`) and untranslated labels all show up."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import FormData

from admin_web.keys import IMPORTS
from crm import apikeys, channels, clients, conversations, deals, demo, fields, scenarios
from crm.mailings import service as mailings
from crm.mailings import survey_answers, surveys
from crm.mailings.audience import Audience
from crm.models import (
    ChannelIdentity,
    Client,
    ClientKind,
    Conversation,
    ImportJob,
    Interest,
    MailingKind,
    MailingRecipient,
    Message,
    QuickReply,
    Role,
    Scenario,
    Segment,
    StageActionKind,
    User,
)
from inbox import hub
from inbox.channels.base import InboundMessage
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.import_data import legal_inn
from tests.crm import factories
from tests.russian_text import english_words, visible_text

# a demo tag: the customer's words, not the interface's; a placeholder a quick reply's
# text (typed by the user, in its textarea) holds
# a demo tag, a placeholder in a mailing's text: the user's words, not the interface's
DATA = frozenset({"VIP", "client_name"})
# a demo deal's title ("Настройка IP-телефонии"), drawn or not depending on the hour the demo
# is generated at
DATA |= {"IP"}
# ABC/XYZ analysis and its classes are named by these letters in Russian too
DATA |= {"ABC", "XYZ", "A", "B", "C", "X", "Y", "Z"}
# 1C's "интерес" as a word of the interface; "Пропал интерес" is a demo loss reason
INTERES = re.compile(r"\b[Ии]нтерес(?:ы|а|ов|ом|ам|ами|ах|е|у)?\b")
# GET routes that are not pages a person reads (JSON, files, the way in and out)
NOT_PAGES = {
    "/login",
    "/logout",
    "/onboarding",
    "/onboarding/company",
    "/import/jobs/{id}/status",
    "/import/jobs/{id}/failed.csv",
    "/import/money/{token}/failed.csv",
    "/inbox/events",  # the live desk's event stream
    "/inbox/{id}/quick-replies",  # the reply box's quick replies, JSON
    "/clients/export.csv",
    "/clients/export.xlsx",
    "/healthz",
}


async def test_deals_are_sdelki_with_plural_filters(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    await factories.scenario()
    client = await factories.client(admin, name="ООО Ромашка")
    await deals.create_interest(actor=admin, client_id=client.id, title="Диван в офис")
    await browser.login(admin.email)

    status, page = await browser.get("/deals")
    assert status == 200
    assert "<h1>Сделки</h1>" in page
    for tab in ("Открытые", "Выигранные", "Проигранные", "Все"):
        assert f">{tab}</a>" in page
    assert ">Открыть</a>" not in page  # "to open" is a button's word, not a filter's
    status, card = await browser.get(f"/clients/{client.id}")
    assert status == 200
    assert "<h2>Сделки</h2>" in card
    for text in (page, card):
        assert "нтерес" not in text


async def test_the_way_in_reads_russian(browser: Browser) -> None:
    """Before anyone logs in: the first-run form, then the login page (the browser's language)."""
    ru = {"Accept-Language": "ru-RU,ru;q=0.9"}
    status, page = await browser.get("/onboarding", headers=ru)
    assert status == 200 and 'name="admin_email"' in page
    assert english_words(visible_text(page)) == []
    await make_user(Role.ADMIN, locale="ru")
    status, page = await browser.get("/login", headers=ru)
    assert status == 200 and "E-mail" in page
    assert english_words(visible_text(page)) == []


async def test_a_sole_proprietor_is_ip(browser: Browser) -> None:
    admin = await make_user(Role.ADMIN, locale="ru")
    ip = await clients.create_client(
        actor=admin, kind=ClientKind.INDIVIDUAL, name="Хабибуллин Ринат", inn="500102030400"
    )
    person = await clients.create_client(
        actor=admin, kind=ClientKind.INDIVIDUAL, name="Петров Ринат"
    )
    legal = await clients.create_client(actor=admin, kind=ClientKind.LEGAL, name="ООО Вектор")
    await browser.login(admin.email)
    for client, kind in ((ip, "ИП"), (person, "Физлицо"), (legal, "Юрлицо")):
        _, card = await browser.get(f"/clients/{client.id}")
        assert f"<dt>Вид</dt><dd>{kind}</dd>" in card


async def _channels(admin: User) -> None:
    made = [
        ("telegram", {"token": "7100000001:AAHsecretTokenForTestsOnly_0001"}, {}),
        ("telegram", {"token": "7100000002:AAHsecretTokenForTestsOnly_0002"}, {"mode": "webhook"}),
        (
            "vk",
            {"token": "vk1.a.secret-token", "secret": "s3cret", "confirmation": "abc123"},
            {"group_id": "123456"},
        ),
        ("viber", {"token": "4453b6ac-secret-viber"}, {"sender_name": "Магазин"}),
        (
            "email",
            {"password": "app-password"},
            {
                "address": "shop@example.ru",
                "sender_name": "Магазин",
                "imap_host": "imap.example.ru",
                "imap_port": 993,
                "smtp_host": "smtp.example.ru",
                "smtp_port": 465,
                "smtp_ssl": True,
                "smtp_starttls": False,
            },
        ),
    ]
    for kind, credentials, settings in made:
        await channels.create_channel(
            kind=kind, name=f"Канал {kind}", credentials=credentials, settings=settings, actor=admin
        )


async def _conversation(admin: User) -> Conversation:
    channel = await channels.Channel.filter(kind="telegram").order_by("id").first()
    assert channel is not None
    await hub.ingest(
        channel,
        InboundMessage(
            source_id="5551001:1",
            external_user_id="5551001",
            text="Хочу купить диван",
            sent_at=datetime.now(UTC),
            profile_name="Ринат Хабибуллин",
        ),
    )
    message = await Message.get(source_id="5551001:1").prefetch_related("conversation")
    conversation = message.conversation
    await conversations.queue_reply(conversation.id, actor=admin, text="Здравствуйте!")
    return conversation


async def _history(admin: User) -> Client:
    client = await clients.create_client(
        actor=admin, kind=ClientKind.LEGAL, name="ООО Вектор", relation_type="buyer"
    )
    manager = await User.filter(role=Role.MANAGER).order_by("id").first()
    assert manager is not None
    vat = await fields.create_field(name="Платит НДС", type="flag", actor=admin)
    signed = await fields.create_field(name="Договор подписан", type="date", actor=admin)
    await clients.update_client(
        client.id,
        {
            "relation_type": "supplier",
            "responsible_id": manager.id,
            "birthday": "1980-05-17",
            "is_lead": True,
            "phones": ["+7 916 123-45-67"],
            "tags": ["Опт"],
        },
        custom={vat.id: True, signed.id: "2026-03-02"},
        actor=admin,
    )
    return client


async def _import(browser: Browser, tmp_path: Path) -> tuple[str, ImportJob]:
    path = tmp_path / "clients.csv"
    lines = ["Наименование;ИНН;Телефон;E-mail"] + [
        f"ООО Клиент {i};{legal_inn(i)};8 916 100-00-0{i};client{i}@example.ru" for i in range(1, 6)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await browser.get("/import")
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import")
    form.add_field("file", path.read_bytes(), filename="clients.csv")
    resp = await browser.client.post("/import", data=form)
    preview = resp.url.path
    await browser.get(preview)
    fields = {"column_0": "name", "column_1": "inn", "column_2": "phone", "column_3": "email"}
    await browser.post(preview, {**fields, "kind": "auto", "relation_type": "buyer"})
    job = await ImportJob.all().order_by("-id").first()
    assert job is not None
    await browser.app[IMPORTS].wait(job.id)
    # a second upload left at its preview, so the preview page is walked too
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import")
    form.add_field("file", path.read_bytes(), filename="clients.csv")
    resp = await browser.client.post("/import", data=form)
    return resp.url.path, job


async def _money_import(browser: Browser, tmp_path: Path) -> str:
    """An accounting export with a row that fails: its result page lists it with the reason."""
    path = tmp_path / "money.csv"
    path.write_text("Контрагент;Номер счёта;Сумма\nООО Нет такого;1;100\n", encoding="utf-8")
    await browser.get("/import/money")
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import/money")
    form.add_field("file", path.read_bytes(), filename="money.csv")
    resp = await browser.client.post("/import/money", data=form)
    assert resp.status == 200
    return resp.url.path


async def _robots(admin: User) -> Scenario:
    scenario = await Scenario.filter(is_active=True).order_by("id").first()
    assert scenario is not None
    stage = (await scenarios.stages_of(scenario.id))[0]
    await scenarios.add_stage_action(
        stage.id,
        StageActionKind.SEND_MESSAGE,
        {"template": "Здравствуйте, {client_name}!"},
        actor=admin,
    )
    await scenarios.add_stage_action(
        stage.id,
        StageActionKind.CREATE_TASK,
        {"subject": "Позвонить", "due_in_hours": 24},
        actor=admin,
    )
    return scenario


async def _mailings(admin: User, conversation: Conversation) -> tuple[int, int, int, int]:
    """A draft (its preview: what each rule removed), a started mailing (its results), a
    survey's draft (its first question's buttons) and a started survey answered once."""
    audience = Audience(client_ids=(conversation.client_id,), tag_ids=(1,))  # type: ignore[attr-defined]
    draft = await mailings.save_draft(
        mailings.Draft(name="Акция", text="Здравствуйте, {client_name}!", audience=audience),
        actor=admin,
    )
    started = await mailings.save_draft(
        mailings.Draft(name="Новости", text="Мы переехали", audience=audience), actor=admin
    )
    bot = await channels.Channel.filter(kind="telegram", is_active=True).first()
    assert bot is not None  # the demo's own channels are inactive: the client writes here too
    await ChannelIdentity.create(
        channel=bot, external_id="5551001", client_id=audience.client_ids[0]
    )
    await mailings.start(started.id, actor=admin)
    questions = [
        surveys.Question("Как мы работаем?", ("Отлично", "Плохо")),
        surveys.Question("Что улучшить?"),
    ]
    survey_values = {"name": "Опрос", "text": "Ответьте", "kind": MailingKind.SURVEY}
    survey_draft = await mailings.save_draft(
        mailings.Draft(**survey_values, audience=audience, questions=questions), actor=admin
    )
    survey = await mailings.save_draft(
        mailings.Draft(**survey_values, audience=audience, questions=questions), actor=admin
    )
    await mailings.start(survey.id, actor=admin)
    recipient = await MailingRecipient.get(mailing_id=survey.id)
    await survey_answers.answer(surveys.button_data(str(recipient.survey_token), 1, 0))
    await survey_answers.answer(
        surveys.button_data(str(recipient.survey_token), 2, "t"), text="Быстрее"
    )
    return draft.id, started.id, survey_draft.id, survey.id


async def _segment(admin: User) -> Segment:
    """A segment whose rule shows every kind of value widget, its members computed, and
    the ABC/XYZ classes of a client with revenue."""
    from crm.segments import service
    from crm.segments.members import recompute

    rule = {
        "op": "or",
        "items": [
            {"field": "kind", "op": "eq", "value": "legal"},
            {"field": "relation_type", "op": "in", "values": ["buyer"]},
            {"field": "region", "op": "in", "values": ["Москва", "Казань"]},
            {"field": "no_interaction_days", "op": "eq", "days": 30},
            {"field": "revenue", "op": "gt", "value": "1000", "period": "last_month"},
            {"field": "won_amount", "op": "gte", "value": "10", "days": 90},
            {"field": "has_email", "op": "yes"},
            {"field": "birthday_month", "op": "in", "values": ["3"]},
            {"field": "abc", "op": "in", "values": ["A"]},
        ],
    }
    segment = await service.create_segment("Крупные покупатели", rule, actor=admin)
    await recompute(segment)
    return segment


async def test_every_page_reads_russian(browser: Browser, tmp_path: Path) -> None:
    admin = await make_user(Role.ADMIN, locale="ru", full_name="Анна Петрова")
    await demo.generate(12, seed=7)
    await _channels(admin)
    conversation = await _conversation(admin)
    changed = await _history(admin)
    scenario = await _robots(admin)
    await apikeys.create_key("Сайт", admin.id, actor=admin)
    await QuickReply.create(title="Приветствие", text="Здравствуйте, {client_name}!")
    await QuickReply.create(title="Своё", text="Добрый день", owner=admin)
    draft_id, started_id, survey_draft_id, survey_id = await _mailings(admin, conversation)
    manager = await User.filter(role=Role.MANAGER).order_by("id").first()
    assert manager is not None
    await browser.login(admin.email)
    preview, job = await _import(browser, tmp_path)
    money_result = await _money_import(browser, tmp_path)

    some_clients = [c.id for c in await Client.filter(merged_into_id=None).order_by("id").limit(12)]
    won = await Interest.filter(status="won").first()
    lost = await Interest.filter(status="lost").first()
    open_deal = await Interest.filter(status="open").first()
    assert won is not None and lost is not None and open_deal is not None
    segment = await _segment(admin)
    pages = {
        "/": ["/"],
        "/clients": ["/clients", "/clients?kind=individual&relation_type=buyer"],
        "/clients/new": ["/clients/new"],
        "/clients/{id}": [
            f"/clients/{i}" for i in [*some_clients, changed.id, won.client_id, lost.client_id]
        ],  # type: ignore[attr-defined]
        "/deals": ["/deals", "/deals?status=won", "/deals?status=lost", "/deals?status=all"],
        "/inbox": ["/inbox", "/inbox?scope=mine&state=waiting", "/inbox?scope=inquiries"],
        "/inbox/{id}": [f"/inbox/{conversation.id}"],
        "/settings": ["/settings"],
        "/fields": ["/fields"],
        "/scenarios": ["/scenarios"],
        "/scenarios/{id}": [f"/scenarios/{scenario.id}"],
        "/tags": ["/tags"],
        "/reasons": ["/reasons"],
        "/channels": ["/channels"],
        "/channels/new/{kind}": [
            f"/channels/new/{k}" for k in ("telegram", "vk", "viber", "email")
        ],
        "/users": ["/users"],
        "/users/{id}": [f"/users/{admin.id}", f"/users/{manager.id}"],
        "/import": ["/import"],
        "/import/{token}": [preview],
        "/import/jobs/{id}": [f"/import/jobs/{job.id}"],
        "/import/money": ["/import/money"],
        "/import/money/{token}": [money_result],
        "/api-keys": ["/api-keys"],
        "/clients/{id}/merge": [f"/clients/{some_clients[0]}/merge?merged_id={some_clients[1]}"],
        "/reports": ["/reports"],
        "/plans": ["/plans"],
        "/quick-replies": ["/quick-replies"],
        "/quick-replies/shared": ["/quick-replies/shared"],
        "/clients/{id}/write": [
            f"/clients/{some_clients[0]}/write",
            f"/clients/{conversation.client_id}/write",  # type: ignore[attr-defined]
        ],
        "/mailings": ["/mailings"],
        "/mailings/new": ["/mailings/new"],
        "/mailings/{id}": [
            f"/mailings/{i}" for i in (draft_id, started_id, survey_draft_id, survey_id)
        ],
        "/mailings/{id}/survey": [f"/mailings/{survey_id}/survey"],
        "/mailings/{id}/survey/clients": [
            f"/mailings/{survey_id}/survey/clients?question=1&option=0",
            f"/mailings/{survey_id}/survey/clients?question=2",
        ],
        "/work": ["/work", f"/work?manager_id={manager.id}"],
        "/board": ["/board", f"/board?scenario={won.scenario_id}"],  # type: ignore[attr-defined]
        "/deals/{id}": [f"/deals/{won.id}", f"/deals/{lost.id}", f"/deals/{open_deal.id}"],
        "/deals/{id}/plan": [f"/deals/{open_deal.id}/plan"],
        "/reports/{report}": [
            f"/reports/{name}?period=this_year"
            for name in ("funnel", "pipeline", "managers", "inquiries", "sources", "base")
        ]
        + ["/reports/funnel?period=this_year&cohort=1", "/reports/base?group_by=relation"],
        "/segments": ["/segments"],
        "/segments/new": ["/segments/new"],
        "/segments/{segment_id}": [
            f"/segments/{segment.id}",
            f"/segments/{segment.id}?left_days=7",
        ],
        "/segments/{segment_id}/edit": [f"/segments/{segment.id}/edit"],
        "/reports/abcxyz": ["/reports/abcxyz"],
        "/reports/{report}/records": [
            f"/reports/funnel/records?period=this_year&figure=entered&key={won.stage_id}",  # type: ignore[attr-defined]
            "/reports/pipeline/records?figure=open",
            "/reports/base/records?figure=no_interaction",
            f"/reports/managers/records?period=this_year&figure=done&manager={manager.id}",
        ],
    }
    routes = set()
    for resource in browser.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        if any(r.method == "GET" for r in resource) and not path.startswith(
            ("/api/", "/webhooks/", "/media/", "/static")
        ):
            routes.add(path.replace("{id:\\d+}", "{id}").replace("{token:[0-9a-f]{32}}", "{token}"))
    assert routes - NOT_PAGES - set(pages) == set(), "walk these pages too"

    found: dict[str, list[str]] = {}
    for urls in pages.values():
        for url in urls:
            status, html = await browser.get(url)
            assert status == 200, url
            text = visible_text(html)
            words = english_words(text, DATA)
            words += INTERES.findall(text.replace("Пропал интерес", ""))
            if words:
                found[url] = sorted(set(words))
    for url, words in found.items():
        print(url, words)
    assert found == {}
    _, card = await browser.get(f"/clients/{changed.id}")
    history = visible_text(card.split('id="history"', 1)[1])
    for line in ("Тип отношений\nПокупатель\nПоставщик", "Платит НДС\nда", "мар. 2026"):
        assert line in history
    _, users_page = await browser.get("/users")
    assert "<th>E-mail</th>" in users_page and "Письмо" not in users_page  # not "a letter"

    # a manager's panel: their own (here empty) lists and the read-only note
    seller = await make_user(Role.MANAGER, locale="ru", full_name="Олег Продавцов")
    await browser.post("/logout")
    await browser.login(seller.email)
    for url in ("/", "/work", "/clients", "/deals", "/deals?status=won", "/inbox"):
        status, html = await browser.get(url)
        assert status == 200 and "Олег Продавцов" in html, url  # logged in, not the login page
        assert english_words(visible_text(html), DATA) == [], url
