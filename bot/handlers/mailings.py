"""`/mailings` for heads of sales and admins: the latest mailings with their progress and
results (recipients, sent, delivered, read, failed, unsubscribed, replies); a manager is
told the command is not theirs."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.texts import h
from bot.views import Card, Viewer
from crm.labels import label
from crm.mailings import labels, results
from crm.models import Mailing, MailingStatus

SHOWN = 5


async def mailings(message: Message, viewer: Viewer) -> None:
    if not viewer.user.sees_everything:
        await viewer.send(Card().add(viewer._("Mailings are for heads of sales and admins")))
        return
    rows = await Mailing.exclude(status=MailingStatus.DRAFT).order_by("-id").limit(SHOWN)
    if not rows:
        await viewer.send(Card().add(viewer._("No mailings have been started yet")))
        return
    card = Card().add("<b>" + viewer._("Mailings") + "</b>")
    for mailing in rows:
        got = await results.results(mailing)
        status = label(mailing.status.value, viewer.locale, labels.STATUS)
        sent = got.states["sent"] + got.states["delivered"] + got.states["seen"]
        card.add(
            "",
            f"<b>{h(mailing.name)}</b> — {h(status)}",
            viewer._(
                "Recipients {total}: sent {sent}, delivered {delivered}, read {seen}, "
                "waiting {queued}, failed {failed}, unsubscribed {opted_out}; replies {replied}",
                total=got.total,
                sent=sent,
                delivered=got.states["delivered"],
                seen=got.states["seen"],
                queued=got.states["queued"],
                failed=got.states["failed"],
                opted_out=got.states["opted_out"],
                replied=got.replied,
            ),
        )
    await viewer.send(card)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(mailings, Command("mailings", ignore_case=True))
    return r
