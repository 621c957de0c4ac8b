"""Mailings through the real path: the rules that remove recipients (consent, opt-out,
each platform's rule), bad input refused with nothing queued, sending through the outbox
to the platform fakes and SMTP on loopback, local send times within the mailing hours,
pause, resume, cancel, and exactly once across concurrent workers."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from crm import clock
from crm.company import get_company
from crm.errors import Conflict, PermissionDenied, ValidationFailed
from crm.mailings import consent, results, rules, schedule, service
from crm.mailings.audience import Audience
from crm.models import (
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Mailing,
    MailingKind,
    MailingRecipient,
    MailingStatus,
    Message,
    MessageStatus,
    User,
)
from inbox import mailer
from inbox.service import Inbox
from inbox.unsubscribe import UnsubscribeLinks
from tests.crm import factories
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.inbox.test_optout import tg_wrote

PUBLIC_URL = "https://crm.example.ru"


async def wrote(
    channel: Channel, client: Client, external_id: str, *, subscribed: bool = True, minutes: int = 0
) -> ChannelIdentity:
    """A customer known on a messenger (as the inbox leaves them after their first message)."""
    identity = await ChannelIdentity.create(
        channel=channel, external_id=external_id, client=client, subscribed=subscribed
    )
    await Conversation.create(
        channel=channel,
        identity=identity,
        client=client,
        last_message_at=clock.now() - timedelta(minutes=minutes),
    )
    return identity


async def all_day(**values: Any) -> None:
    """Mailing hours all day long (the tests run at any hour); saved, so kept reads see it."""
    company = await get_company()
    company.mailing_from_minute, company.mailing_until_minute = 0, 24 * 60
    for key, value in values.items():
        setattr(company, key, value)
    await company.save()


def draft(audience: Audience, **kw: Any) -> service.Draft:
    values: dict[str, Any] = {"name": "Весенняя распродажа", "text": "Здравствуйте, {client_name}!"}
    values.update(kw)
    return service.Draft(audience=audience, **values)


async def test_the_rules_remove_exactly_who_they_should(
    admin: User, tg: Channel, vk: Channel, viber: Channel, mailbox: Channel
) -> None:
    tag_ids: list[int] = []
    made: dict[str, Client] = {}
    for name, emails in (
        ("tg", []),
        ("tg_blocked_email", ["b@example.net"]),
        ("vk_denied", []),
        ("viber", []),
        ("opted", ["o@example.net"]),
        ("bounced", ["x@example.net"]),
        ("nothing", []),
        ("vk_then_tg", []),
    ):
        made[name] = await factories.client(admin, name, emails=emails)
    await wrote(tg, made["tg"], "1")
    await wrote(tg, made["tg_blocked_email"], "2", subscribed=False)
    await wrote(vk, made["vk_denied"], "3", subscribed=False)
    await wrote(viber, made["viber"], "4")
    await wrote(tg, made["opted"], "5")
    await consent.opt_out(made["opted"].id, via="telegram")
    await consent.record_bounce("X@example.net", "550")
    await wrote(tg, made["vk_then_tg"], "6", minutes=30)
    await wrote(vk, made["vk_then_tg"], "7", minutes=5)  # VK is the more recent
    audience = Audience(client_ids=tuple(c.id for c in made.values()), tag_ids=tuple(tag_ids))
    mailing = await service.save_draft(draft(audience), actor=admin)
    checked = await service.preview(mailing, actor=admin)
    plan = checked.plan
    assert plan.audience == 8
    placed = {(r.client_id, r.kind.value) for r in plan.recipients}
    ids = {k: c.id for k, c in made.items()}
    assert placed == {
        (ids["tg"], "telegram"),
        (ids["tg_blocked_email"], "email"),
        (ids["viber"], "viber"),
        (ids["vk_then_tg"], "vk"),
    }
    assert plan.removed == {rules.OPTED_OUT: 1, rules.NO_CHANNEL: 3}
    assert plan.by_channel["telegram"][rules.BLOCKED] == 1
    assert plan.by_channel["vk"][rules.NOT_ALLOWED] == 1
    assert plan.by_channel["email"][rules.EMAIL_BOUNCED] == 1
    assert plan.by_channel["email"]["recipients"] == 1
    # One channel only: everybody else is removed with that channel's reason.
    only_tg = await service.save_draft(draft(audience, channel_mode="telegram"), actor=admin)
    plan = (await service.preview(only_tg, actor=admin)).plan
    assert {r.client_id for r in plan.recipients} == {ids["tg"], ids["vk_then_tg"]}
    assert plan.removed[rules.BLOCKED] == 1 and plan.removed[rules.NOT_WRITTEN] == 4
    # Advertising: only who consented.
    await consent.record_consent(ids["viber"], source="form", actor=admin)
    ads = await service.save_draft(draft(audience, kind=MailingKind.ADVERTISING), actor=admin)
    plan = (await service.preview(ads, actor=admin)).plan
    assert [r.client_id for r in plan.recipients] == [ids["viber"]]
    assert plan.removed[rules.NO_CONSENT] == 6


async def test_bad_input_is_refused_in_the_preview_and_nothing_is_queued(
    admin: User, tg: Channel
) -> None:
    client = await factories.client(admin, "Анна")
    await wrote(tg, client, "11")
    audience = Audience(client_ids=(client.id,))
    cases = {
        "text": draft(audience, text="Привет, {client_nmae}!"),
        "audience": draft(Audience()),
        "send_on": draft(audience, send_on=date(2020, 1, 1), send_minute=600),
    }
    for field, bad in cases.items():
        mailing = await service.save_draft(bad, actor=admin)
        checked = await service.preview(mailing, actor=admin)
        assert field in checked.problems, field
        with pytest.raises(ValidationFailed) as refused:
            await service.start(mailing.id, actor=admin)
        assert field in refused.value.fields
    unknown = await service.preview(
        await service.save_draft(cases["text"], actor=admin), actor=admin
    )
    assert "{client_nmae}" in unknown.problems["text"].render("ru")
    ads = await service.save_draft(draft(audience, kind=MailingKind.ADVERTISING), actor=admin)
    assert "audience" in (await service.preview(ads, actor=admin)).problems
    big = {
        "name": "каталог.pdf",
        "mime": "application/pdf",
        "size": 60 * 1024**2,
        "content_b64": "",
    }
    with_file = await service.save_draft(draft(audience, attachment=big), actor=admin)
    with pytest.raises(ValidationFailed) as refused:
        await service.start(with_file.id, actor=admin, check_file=mailer.check_file(PUBLIC_URL))
    assert "attachment" in refused.value.fields
    with pytest.raises(ValidationFailed):
        await service.save_draft(draft(audience, channel_mode="sms"), actor=admin)
    assert not await MailingRecipient.exists() and not await Message.exists()
    assert await Mailing.filter(status=MailingStatus.DRAFT).count() == await Mailing.all().count()
    manager = await factories.manager()
    with pytest.raises(PermissionDenied):
        await service.save_draft(draft(audience), actor=manager)


async def test_send_time_is_local_and_within_the_mailing_hours() -> None:
    window = schedule.Window(9 * 60, 21 * 60)
    now = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 08:00 in Moscow, 15:00 in Vladivostok
    moscow, vladivostok = (
        schedule.zone("Europe/Moscow", "UTC"),
        schedule.zone("Asia/Vladivostok", "UTC"),
    )
    day = date(2026, 3, 3)
    assert schedule.due_at(day, 10 * 60, moscow, window, now) == datetime(
        2026, 3, 3, 7, 0, tzinfo=UTC
    )
    assert schedule.due_at(day, 10 * 60, vladivostok, window, now) == datetime(
        2026, 3, 3, 0, 0, tzinfo=UTC
    )
    # 22:00 is past the hours: the next morning at 09:00 local.
    assert schedule.due_at(day, 22 * 60, moscow, window, now) == datetime(
        2026, 3, 4, 6, 0, tzinfo=UTC
    )
    # 07:00 is before them: 09:00 that day.
    assert schedule.due_at(day, 7 * 60, vladivostok, window, now) == datetime(
        2026, 3, 2, 23, 0, tzinfo=UTC
    )
    # At once: Moscow waits for 09:00 (it is 08:00), Vladivostok goes now.
    assert schedule.due_at(None, None, moscow, window, now) == datetime(
        2026, 3, 2, 6, 0, tzinfo=UTC
    )
    assert schedule.due_at(None, None, vladivostok, window, now) == now
    # A moment already passed for one zone (today 10:00 in Vladivostok was 00:00 UTC).
    assert schedule.due_at(date(2026, 3, 2), 10 * 60, vladivostok, window, now) == now
    assert schedule.zone("Mars/Olympus", "Europe/Moscow") == moscow


async def test_a_mailing_reaches_telegram_and_email_once_then_skips_who_opted_out(
    http: Any,
    inbox: Inbox,
    tg: Channel,
    telegram: TelegramAPI,
    mailbox: Channel,
    smtp: SmtpServer,
    admin: User,
) -> None:
    inbox.unsubscribe = UnsubscribeLinks(PUBLIC_URL, "secret")
    await tg_wrote(http, inbox, tg, 0, "Здравствуйте")
    tg_client = await Client.get(id=(await ChannelIdentity.get()).client_id)  # type: ignore[attr-defined]
    manager = await factories.manager(full_name="Ольга Петрова")
    await Client.filter(id=tg_client.id).update(responsible_id=manager.id)
    mail_client = await factories.client(admin, "ООО Ромашка", emails=["buh@romashka.ru"])
    await all_day(name="Мебельный дом")
    audience = Audience(client_ids=(tg_client.id, mail_client.id))
    mailing = await service.save_draft(
        draft(
            audience,
            text="{client_name}, скидка 20%! Ваш менеджер {manager_name}, {company_name}",
            subject="Скидки для {client_name}",
            html="<p>{client_name}, скидка <b>20%</b></p>",
            attachment={
                "name": "прайс.txt",
                "mime": "text/plain",
                "size": 5,
                "content_b64": base64.b64encode(b"price").decode(),
            },
        ),
        actor=admin,
    )
    started = await service.start(mailing.id, actor=admin, check_file=mailer.check_file(PUBLIC_URL))
    assert started.status == MailingStatus.SCHEDULED
    with pytest.raises(Conflict):
        await service.save_draft(draft(audience), actor=admin, mailing_id=mailing.id)
    report = await inbox.send_all()
    assert report.sent == 2
    assert await inbox.send_all() == type(report)()  # nothing twice
    sent_tg = [
        m for m in telegram.delivered if "скидка" in str(m.get("caption") or m.get("text") or "")
    ]
    assert len(sent_tg) == 1
    assert "Анна Смирнова, скидка 20%! Ваш менеджер Ольга Петрова, Мебельный дом" in str(
        sent_tg[0].get("caption") or sent_tg[0].get("text")
    )
    (letter,) = smtp.received
    assert letter.rcpt_tos == ("buh@romashka.ru",)
    assert str(letter.message["Subject"]) == "Скидки для ООО Ромашка"
    assert str(letter.message["List-Unsubscribe"]).strip().startswith(f"<{PUBLIC_URL}/unsubscribe/")
    assert "In-Reply-To" not in letter.message
    parts = [p.get_filename() for p in letter.message.iter_attachments()]
    assert parts == ["прайс.txt"]
    assert (await Mailing.get(id=mailing.id)).status == MailingStatus.DONE
    assert await Message.filter(status=MessageStatus.SENT).count() == 2
    # The Telegram customer says stop; a second mailing reaches only the other one.
    await tg_wrote(http, inbox, tg, 1, "стоп")
    await inbox.send_all()  # the confirmation
    second = await service.save_draft(draft(audience, text="Снова {client_name}"), actor=admin)
    assert (await service.preview(second, actor=admin)).plan.removed == {rules.OPTED_OUT: 1}
    await service.start(second.id, actor=admin)
    assert (await inbox.send_all()).sent == 1
    assert len(smtp.received) == 2
    assert not any("Снова" in str(m.get("text")) for m in telegram.delivered)


async def test_an_opt_out_after_the_start_is_honoured(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    await tg_wrote(http, inbox, tg, 0, "Здравствуйте")
    await all_day()
    client_id = (await ChannelIdentity.get()).client_id  # type: ignore[attr-defined]
    mailing = await service.save_draft(draft(Audience(client_ids=(client_id,))), actor=admin)
    await service.start(mailing.id, actor=admin)
    assert await inbox.hand_over_mailings() == 1  # in the outbox, not sent yet
    await consent.opt_out(client_id, via="web")
    report = await inbox.send_all()
    assert report.sent == 0 and report.dead == 1
    recipient = await MailingRecipient.get(mailing_id=mailing.id)
    dead = await Message.get(id=recipient.message_id)  # type: ignore[attr-defined]
    assert dead.status == MessageStatus.DEAD and dead.last_error == mailer.OPTED_OUT
    # The next mailing does not even queue it.
    again = await service.save_draft(draft(Audience(client_ids=(client_id,))), actor=admin)
    assert "audience" in (await service.preview(again, actor=admin)).problems


async def test_pause_resume_cancel(
    tg: Channel, vk: Channel, inbox: Inbox, telegram: TelegramAPI, admin: User
) -> None:
    await all_day()
    clients = [await factories.client(admin, f"Клиент {n}") for n in range(3)]
    for n, client in enumerate(clients):
        await wrote(tg, client, str(1000 + n))
    mailing = await service.save_draft(
        draft(Audience(client_ids=tuple(c.id for c in clients))), actor=admin
    )
    await service.start(mailing.id, actor=admin)
    assert await inbox.hand_over_mailings() == 3
    await service.pause(mailing.id, actor=admin)
    with pytest.raises(Conflict):
        await service.pause(mailing.id, actor=admin)
    assert (await inbox.send_all()).sent == 0  # held in the outbox
    await service.resume(mailing.id, actor=admin)
    assert (await inbox.send_all()).sent == 3
    # Cancel: the recipients not handed over are never reached.
    later = await service.save_draft(
        draft(
            Audience(client_ids=tuple(c.id for c in clients)),
            send_on=(clock.now() + timedelta(days=2)).date(),
            send_minute=600,
        ),
        actor=admin,
    )
    await service.start(later.id, actor=admin)
    assert await inbox.hand_over_mailings() == 0  # not due
    await service.cancel(later.id, actor=admin)
    with time_machine.travel(clock.now() + timedelta(days=3)):
        assert await inbox.hand_over_mailings() == 0
    assert await MailingRecipient.filter(mailing_id=later.id, skipped="cancelled").count() == 3
    assert len(telegram.delivered) == 3


async def test_two_workers_hand_over_each_recipient_once(tg: Channel, admin: User) -> None:
    await all_day()
    clients = [await factories.client(admin, f"Клиент {n}") for n in range(60)]
    for n, client in enumerate(clients):
        await wrote(tg, client, str(2000 + n))
    mailing = await service.save_draft(
        draft(Audience(client_ids=tuple(c.id for c in clients))), actor=admin
    )
    await service.start(mailing.id, actor=admin)
    counts = await asyncio.gather(*(mailer.hand_over_due(limit=7) for _ in range(12)))
    assert sum(counts) == 60
    assert await Message.all().count() == 60
    assert await MailingRecipient.filter(message_id__isnull=True).count() == 0
    conversations = await Message.all().values_list("conversation_id", flat=True)
    assert len(set(conversations)) == 60


async def test_results_count_each_outcome_and_a_reply_is_attributed(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    await all_day()
    await tg_wrote(http, inbox, tg, 0, "Здравствуйте")
    replier = await Client.get(id=(await ChannelIdentity.get()).client_id)  # type: ignore[attr-defined]
    await Client.filter(id=replier.id).update(lead_source="")
    others = [await factories.client(admin, f"Клиент {n}") for n in range(3)]
    for n, client in enumerate(others):
        await wrote(tg, client, str(3000 + n))
    chat_ids = [str(3000 + n) for n in range(3)]
    telegram.block(int(chat_ids[0]))  # this one blocked the bot meanwhile
    audience = Audience(client_ids=(replier.id, *(c.id for c in others)))
    mailing = await service.save_draft(draft(audience, reply_days=2), actor=admin)
    await service.start(mailing.id, actor=admin)
    await consent.opt_out(others[1].id, via="web")  # after the start
    await inbox.send_all()
    got = await results.results(await Mailing.get(id=mailing.id))
    assert got.total == 4
    assert got.states == {"sent": 2, "failed": 1, "opted_out": 1}
    assert got.by_channel["telegram"]["sent"] == 2
    assert got.failures and "blocked" in got.failures[0][0]
    # The customer answers the next day: a reply of the mailing, on the waiting inquiry.
    with time_machine.travel(clock.now() + timedelta(days=1)):
        await tg_wrote(http, inbox, tg, 5, "Спасибо, интересно! Сколько стоит?")
    recipient = await MailingRecipient.get(mailing_id=mailing.id, client_id=replier.id)
    assert recipient.replied_at is not None and recipient.inquiry_id is not None  # type: ignore[attr-defined]
    assert (await Client.get(id=replier.id)).lead_source == "Весенняя распродажа"
    assert (await results.results(await Mailing.get(id=mailing.id))).replied == 1
    # A message days later is no reply of it.
    with time_machine.travel(clock.now() + timedelta(days=5)):
        assert await results.attribute_replies([(others[2].id, 1, None)]) == 0


async def test_a_test_send_reaches_the_author_only(
    mailbox: Channel, smtp: SmtpServer, inbox: Inbox, admin: User
) -> None:
    client = await factories.client(admin, "ООО Ромашка", emails=["buh@romashka.ru"])
    mailing = await service.save_draft(
        draft(
            Audience(client_ids=(client.id,)),
            text="{client_name}, скидка!",
            subject="Для {client_name}",
            html="<p>{client_name}</p>",
        ),
        actor=admin,
    )
    await mailer.send_test(inbox.adapters, mailing, admin.email)
    (letter,) = smtp.received
    assert letter.rcpt_tos == (admin.email,)
    assert str(letter.message["Subject"]) == "[TEST] Для ООО Ромашка"
    assert "ООО Ромашка, скидка!" in letter.message.get_body(("plain",)).get_content()
    assert not await Message.exists() and not await MailingRecipient.exists()
    assert (await Mailing.get(id=mailing.id)).status == MailingStatus.DRAFT
