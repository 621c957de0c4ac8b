"""The feed of a deal or a client: planned first (soonest first), then done and cancelled
ones newest first; cancelled ones struck through with Restore; filter by kind; the whole
client history as a toggle. Planned ones can be marked done (the planning dialog opens
when the scenario wants the next step) or cancelled.

Buttons carry the view: `interest | client | kind code | whole | page`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.callbacks import Action, Keyboard, Pressed
from bot.dialogs.planning import NEXT_STEP, start_planning
from bot.texts import Quote, excerpt, h
from bot.views import Card, Viewer
from crm import interactions
from crm.access import access_client, access_interest
from crm.errors import NextStepRequired
from crm.models import Interaction, InteractionKind, InteractionState

PAGE = 10
KIND_CODES = {
    "c": InteractionKind.CALL,
    "m": InteractionKind.MEETING,
    "e": InteractionKind.EMAIL,
    "g": InteractionKind.MESSAGE,
    "s": InteractionKind.SMS,
    "t": InteractionKind.TASK,
    "n": InteractionKind.NOTE,
}
ALL = "-"


@dataclass(frozen=True)
class View:
    interest_id: int
    client_id: int
    kind: str
    whole: bool
    page: int

    @classmethod
    def of(cls, args: tuple[str, ...]) -> View:
        interest, client, kind, whole, page = args[:5]
        return cls(
            int(interest), int(client), kind if kind in KIND_CODES else ALL, whole == "1", int(page)
        )

    def args(self, **changes: object) -> tuple[object, ...]:
        values = {**self.__dict__, **changes}
        return (
            values["interest_id"],
            values["client_id"],
            values["kind"],
            int(bool(values["whole"])),
            values["page"],
        )


WHOLE = "fn"  # callback: the whole text of one feed entry (its id)


def cut_short(item: Interaction) -> bool:
    """The feed line does not show all of the entry's text."""
    content = item.content or ""
    return bool(content) and (bool(item.subject) or excerpt(content, 80) != content)


def _line(v: Viewer, n: int, item: Interaction) -> str:
    moment = item.planned_at if item.state == InteractionState.PLANNED else item.done_at
    text = item.subject or excerpt(item.content, 80)
    about = f" — {h(excerpt(text, 80))}" if text else ""
    body = f"{n}. {v.kind(item.kind)} · {v.when(moment or item.sort_at)}{about}"
    if item.state == InteractionState.CANCELLED:
        return f"<s>{body}</s>"
    return ("🕑 " if item.state == InteractionState.PLANNED else "✓ ") + body


async def feed_card(v: Viewer, view: View) -> Card:
    kinds = [KIND_CODES[view.kind]] if view.kind in KIND_CODES else []
    limit = (view.page + 1) * PAGE + 1
    if view.interest_id and not view.whole:
        # the access check and the feed side by side (one round trip's wait); the feed is
        # used only once the check passed, else the check's error is raised
        checked, read = await asyncio.gather(
            access_interest(v.user, view.interest_id),
            interactions.feed(interest_id=view.interest_id, kinds=kinds, limit=limit),
            return_exceptions=True,
        )
        if isinstance(checked, BaseException):
            raise checked
        if isinstance(read, BaseException):
            raise read
        title, items = checked.title, read
    elif view.interest_id:
        interest = await access_interest(v.user, view.interest_id)
        title = interest.title
        # checked just now: the feed itself, without interest_feed's second check
        client_id: int = interest.client_id  # type: ignore[attr-defined]
        items = await interactions.feed(client_id=client_id, kinds=kinds, limit=limit)
    else:
        client = await access_client(v.user, view.client_id)
        title = client.name
        items = await interactions.feed(client_id=client.id, kinds=kinds, limit=limit)
    shown = items[view.page * PAGE : (view.page + 1) * PAGE]
    card = Card().add("📜 <b>" + v._("Feed: {title}", title=title) + "</b>")
    if view.whole and view.interest_id:
        card.add(v._("The whole client history"))
    if not shown:
        card.add(v._("Nothing here yet."))
    kb = v.keyboard()
    actions = []
    for n, item in enumerate(shown, view.page * PAGE + 1):
        card.add(_line(v, n, item))
        if item.state == InteractionState.PLANNED:
            actions += [
                kb.button(f"✓ {n}", "fx", item.id, *view.args()),
                kb.button(f"✗ {n}", "fc", item.id, *view.args()),
            ]
        elif item.state == InteractionState.CANCELLED:
            actions.append(kb.button(f"↺ {n}", "fr", item.id, *view.args()))
        if cut_short(item):
            actions.append(kb.button(f"📖 {n}", WHOLE, item.id))
    for start in range(0, len(actions), 4):
        kb.row(*actions[start : start + 4])
    _filters(kb, v, view)
    _pages(kb, view, more=len(items) > (view.page + 1) * PAGE)
    if view.interest_id:
        kb.add("« " + v.gettext("Deal"), "do", view.interest_id, "e")
    card.markup = kb.markup()
    return card


def _filters(kb: Keyboard, v: Viewer, view: View) -> None:
    def mark(code: str) -> str:
        return "• " if view.kind == code else ""

    row = [kb.button(mark(ALL) + v.gettext("All"), "fd", *view.args(kind=ALL, page=0))]
    row += [  # words beside the icons: "📞 Call", not a row of pictures to guess
        kb.button(mark(code) + v.kind(kind), "fd", *view.args(kind=code, page=0))
        for code, kind in KIND_CODES.items()
    ]
    kb.row(*row[:3]).row(*row[3:6]).row(*row[6:])
    if view.interest_id:
        label = v.gettext("Whole client: on") if view.whole else v.gettext("Whole client: off")
        kb.add(label, "fd", *view.args(whole=not view.whole, page=0))


def _pages(kb: Keyboard, view: View, *, more: bool) -> None:
    nav = []
    if view.page > 0:
        nav.append(kb.button("«", "fd", *view.args(page=view.page - 1)))
    if more:
        nav.append(kb.button("»", "fd", *view.args(page=view.page + 1)))
    kb.row(*nav)


async def show(query: CallbackQuery, viewer: Viewer, view: View) -> None:
    card = await feed_card(viewer, view)
    message = query.message
    if isinstance(message, Message) and (message.text or "").startswith("📜"):
        await viewer.edit(message.message_id, card)
    else:
        await viewer.send(card)


async def open_feed(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await show(query, viewer, View.of(action.args))
    await query.answer()


async def restore(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await interactions.restore_interaction(action.int(0), actor=viewer.user)
    await show(query, viewer, View.of(action.args[1:]))
    await query.answer(viewer.gettext("Restored"))


async def cancel(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await interactions.cancel_interaction(action.int(0), actor=viewer.user)
    await show(query, viewer, View.of(action.args[1:]))
    await query.answer(viewer.gettext("Cancelled"))


async def complete(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    if await complete_or_plan(query, viewer, action.int(0), dialog_manager):
        await show(query, viewer, View.of(action.args[1:]))


async def complete_or_plan(
    query: CallbackQuery, viewer: Viewer, interaction_id: int, dialog_manager: DialogManager
) -> bool:
    """Mark a planned interaction done; when the scenario wants the next step, open the
    planning dialog to complete it together with the next one. True when done now."""
    item = await interactions.access_interaction(viewer.user, interaction_id)
    try:
        await interactions.complete_interaction(item.id, actor=viewer.user)
    except NextStepRequired as exc:
        await query.answer(exc.render(viewer.locale))
        await start_planning(
            dialog_manager,
            interest_id=item.interest_id,  # type: ignore[attr-defined]
            client_id=item.client_id,  # type: ignore[attr-defined]
            complete_id=item.id,
            reason=NEXT_STEP,
        )
        return False
    await query.answer("✓ " + viewer.gettext("Done"))
    return True


async def complete_from_today(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    await complete_or_plan(query, viewer, action.int(0), dialog_manager)


async def whole_entry(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    """One feed entry in full (a long note, a customer's long message), in parts if long."""
    item = await interactions.access_interaction(viewer.user, action.int(0))
    moment = item.planned_at if item.state == InteractionState.PLANNED else item.done_at
    card = Card().add(f"{viewer.kind(item.kind)} · {viewer.when(moment or item.sort_at)}")
    if item.subject:
        card.add(f"<b>{h(item.subject)}</b>")
    card.add(Quote(item.content, tag=""))
    await viewer.send(card)
    await query.answer()


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(open_feed, Pressed("fd"))
    r.callback_query.register(whole_entry, Pressed(WHOLE))
    r.callback_query.register(restore, Pressed("fr"))
    r.callback_query.register(cancel, Pressed("fc"))
    r.callback_query.register(complete, Pressed("fx"))
    r.callback_query.register(complete_from_today, Pressed("xd"))
    return r
