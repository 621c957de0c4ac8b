"""`/client <name, phone, email or INN>`: search, and the client card with custom fields by
section and key persons; notes and tasks from the card."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.callbacks import Action, Pressed
from bot.cards import client_time
from bot.dialogs.planning import start_planning
from bot.dialogs.states import Typing
from bot.texts import ECHO, excerpt, h
from bot.views import Card, Viewer
from crm import client_search, fields, labels
from crm.access import access_client, interest_filter
from crm.client_card import card_details
from crm.i18n import format_date
from crm.models import (
    Client,
    ContactKind,
    FieldDefinition,
    InteractionKind,
    Interest,
    InterestStatus,
)
from crm.normalize import shown_phone

RESULTS = 10


async def search(message: Message, command: CommandObject, viewer: Viewer) -> None:
    query = (command.args or "").strip()
    if not query:
        await viewer.say(viewer._("Send /client and a name, phone, email or INN."))
        return
    found = await client_search.find_clients(viewer.user, query, limit=RESULTS + 1)
    if not found:
        await viewer.say(viewer._("No client matches “{query}”.", query=excerpt(query, ECHO)))
        return
    if len(found) == 1:
        await viewer.send(await client_card(viewer, found[0].client))
        return
    card = Card().add("🔎 " + viewer._("Clients matching “{query}”:", query=excerpt(query, ECHO)))
    kb = viewer.keyboard()
    for n, item in enumerate(found[:RESULTS], 1):
        # a phone and a region beside the name: two namesakes told apart
        client, phone = item.client, shown_phone(item.phone) if item.phone else ""
        card.add(
            " · ".join(
                [f"{n}. <b>{h(client.name)}</b>"]
                + ([f"📞 {h(phone)}"] if phone else [])
                + ([f"📍 {h(client.region)}"] if client.region else [])
            )
        )
        beside = client.region or phone
        label = f"{n}. {excerpt(client.name, 40)}" + (f" · {excerpt(beside, 24)}" if beside else "")
        kb.add(label, "co", client.id)
    if len(found) > RESULTS:
        card.add(viewer._("Showing the first {n}: make the query more precise.", n=RESULTS))
    card.markup = kb.markup()
    await viewer.send(card)


def shown_value(v: Viewer, value: object) -> str:
    if isinstance(value, bool):
        return v._("yes") if value else v._("no")
    if isinstance(value, date):
        return h(format_date(value, v.locale))
    if isinstance(value, Decimal):
        return h(format(value, "f"))
    return h(value)


async def custom_field_lines(v: Viewer, client: Client) -> list[str]:
    lines: list[str] = []
    section = None
    values: list[tuple[FieldDefinition, object]] = await fields.values_of(client)
    for definition, value in sorted(
        values, key=lambda dv: (dv[0].section.position if dv[0].section else -1, dv[0].position)
    ):
        if value is None or value == "":
            continue
        name = definition.section.name if definition.section else v.gettext("Other fields")
        if name != section:
            section = name
            lines += ["", f"<b>{h(name)}</b>"]
        lines.append(f"{h(definition.name)}: {shown_value(v, value)}")
    return lines


async def client_card(v: Viewer, client: Client) -> Card:
    card = Card()
    card.add(f"👤 <b>{h(client.name)}</b> · {h(labels.client_kind(client, v.locale))}")
    if client.legal_name and client.legal_name != client.name:
        card.add(h(client.legal_name))
    if client.inn:
        card.add(
            v._("INN {inn}", inn=client.inn)
            + (" · " + v._("KPP {kpp}", kpp=client.kpp) if client.kpp else "")
        )
    details, field_lines = await asyncio.gather(  # side by side
        card_details(client), custom_field_lines(v, client)
    )
    for kind, value in details.contacts:
        card.add(("📞 " if kind == ContactKind.PHONE else "✉️ ") + h(value))
    card.add(
        "📍 " + (h(client.region) + " · " if client.region else "") + f"🕑 {client_time(v, client)}"
    )
    if client.birthday:
        card.add(f"🎂 {h(format_date(client.birthday, v.locale))}")
    if details.responsible is not None:
        card.add("👔 " + v._("Responsible: {name}", name=details.responsible))
    if details.tags:
        card.add("🏷 " + ", ".join(h(t) for t in details.tags))
    card.add(*field_lines)
    if details.persons:
        card.add("", "<b>" + v._("Key persons") + "</b>")
    for person in details.persons:
        bits = [h(person.name)] + [h(b) for b in (person.role, person.phone, person.email) if b]
        if person.birthday:
            bits.append("🎂 " + h(format_date(person.birthday, v.locale)))
        card.add("• " + ", ".join(bits))
    if client.note:
        card.add("", f"<i>{h(client.note)}</i>")
    kb = v.keyboard()
    kb.row(
        kb.button("📝 " + v.gettext("Note"), "cn", client.id),
        kb.button("📌 " + v.gettext("Task"), "ck", client.id),
    )
    kb.row(
        kb.button("📂 " + v.gettext("Deals"), "cd", client.id),
        kb.button("📜 " + v.gettext("History"), "fd", 0, client.id, "-", 1, 0),
    )
    card.markup = kb.markup()
    return card


async def open_client(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    client = await access_client(viewer.user, action.int(0))
    await viewer.send(await client_card(viewer, client))
    await query.answer()


async def ask_note(query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext) -> None:
    client = await access_client(viewer.user, action.int(0))
    await state.set_state(Typing.note)
    await state.set_data({"client_id": client.id})
    await query.answer()
    await viewer.send(Card([viewer._("Send the note. /cancel to stop.")]))


async def plan_task(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    client = await access_client(viewer.user, action.int(0))
    await query.answer()
    await start_planning(dialog_manager, client_id=client.id, kind=InteractionKind.TASK.value)


async def client_deals(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    client = await access_client(viewer.user, action.int(0))
    found = (
        await Interest.filter(
            await interest_filter(viewer.user, client=client),
            client_id=client.id,
            status=InterestStatus.OPEN,
        )
        .order_by("-updated_at")
        .limit(20)
        .prefetch_related("stage")
    )
    card = Card().add(f"📂 <b>{h(client.name)}</b>")
    if not found:
        card.add(viewer._("No open deals."))
    kb = viewer.keyboard()
    for interest in found:
        card.add(f"• {h(interest.title)} · {h(interest.stage.name)}")
        kb.add(excerpt(interest.title, 60), "do", interest.id)
    card.markup = kb.markup()
    await viewer.send(card)
    await query.answer()


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(search, Command("client", ignore_case=True))
    r.callback_query.register(open_client, Pressed("co"))
    r.callback_query.register(ask_note, Pressed("cn"))
    r.callback_query.register(plan_task, Pressed("ck"))
    r.callback_query.register(client_deals, Pressed("cd"))
    return r
