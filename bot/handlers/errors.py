"""The one place domain errors become chat messages: a `CrmError` is shown in the manager's
language (an alert for a button, a message otherwise); an outdated dialog button says so."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent

from bot.texts import h
from crm.errors import CrmError
from crm.i18n import N_, gettext

log = logging.getLogger(__name__)

OUTDATED = N_("This menu is outdated. Open it again.")
ALERT_LIMIT = 200


async def tell(event: ErrorEvent, text: str) -> None:
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:ALERT_LIMIT], show_alert=True)
        elif update.message is not None:
            await update.message.answer(h(text))
    except TelegramBadRequest as exc:  # the query was already answered or is too old
        log.info("could not report %r: %s", event.exception, exc)


async def on_crm_error(event: ErrorEvent, locale: str | None = None) -> None:
    exc = event.exception
    assert isinstance(exc, CrmError)
    details = [m for m in exc.field_messages(locale).values() if m != exc.render(locale)]
    await tell(event, "\n".join([exc.render(locale), *details]))


async def on_outdated(event: ErrorEvent, locale: str | None = None) -> None:
    await tell(event, gettext(OUTDATED, locale))


def router() -> Router:
    r = Router(name=__name__)
    r.errors.register(on_crm_error, ExceptionTypeFilter(CrmError))
    r.errors.register(on_outdated, ExceptionTypeFilter(UnknownIntent, OutdatedIntent))
    return r
