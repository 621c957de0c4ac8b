"""`/deals` ("My sales"): open deals by stage, paginated, and the deal card's buttons: next
stage or a chosen one, won, lost with a reason, plan, note, the amount and the name (typed,
then the card again). A stage move the scenario refuses without a planned next step opens
the planning dialog first."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.callbacks import Action, Markup, Pressed
from bot.cards import SET_AMOUNT, SET_TITLE, send_deal_card
from bot.dialogs.planning import NEXT_STEP, start_planning
from bot.dialogs.states import Typing
from bot.handlers.typing_more import expect_more
from bot.texts import excerpt, h, money
from bot.views import Card, Viewer
from crm import deals, interactions, manager_chat
from crm.access import access_interest
from crm.errors import Conflict, CrmError, NextStepRequired
from crm.i18n import N_, format_money, parse_money
from crm.models import InteractionKind, Interest, InterestStatus, ReasonKind
from crm.scenarios import reasons, stages_of

PAGE = 8
NOT_AN_AMOUNT = N_("That is not an amount: send digits, for example 81 700 or 81 700,50.")


async def deals_card(v: Viewer, page: int) -> Card:
    mine = await deals.open_interests_of(v.user)
    pages = max(1, -(-len(mine) // PAGE))
    page = min(max(page, 0), pages - 1)
    card = Card().add("📂 <b>" + v._("My deals: {n}", n=len(mine)) + "</b>")
    if not mine:
        card.add(v._("No open deals."))
    kb = v.keyboard()
    stage_id = None
    for n, interest in enumerate(mine[page * PAGE : (page + 1) * PAGE], page * PAGE + 1):
        if interest.stage_id != stage_id:  # type: ignore[attr-defined]
            stage_id = interest.stage_id  # type: ignore[attr-defined]
            card.add("", f"🪜 <b>{h(interest.stage.name)}</b>")
        amount = (
            f" · {money(interest.amount, interest.currency, v.locale)}" if interest.amount else ""
        )
        card.add(f"{n}. {h(interest.title)} · {h(interest.client.name)}{amount}")
        kb.add(f"{n}. {excerpt(interest.title, 48)}", "do", interest.id, "e")
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(kb.button("«", "dl", page - 1))
        nav.append(kb.button(f"{page + 1}/{pages}", "dl", page))
        if page + 1 < pages:
            nav.append(kb.button("»", "dl", page + 1))
        kb.row(*nav)
    card.markup = kb.markup()
    return card


async def list_deals(message: Message, viewer: Viewer) -> None:
    await viewer.send(await deals_card(viewer, 0))


async def page_of_deals(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    if query.message is not None:
        card = await deals_card(viewer, action.int(0))
        await viewer.edit(query.message.message_id, card)
        # no longer a deal card: a reply to it must not reach that deal's customer
        await manager_chat.forget_card(viewer.user.id, viewer.chat_id, query.message.message_id)
    await query.answer()


async def open_deal(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    in_place = len(action.args) > 1 and action.args[1] == "e" and query.message is not None
    await send_deal_card(
        viewer,
        action.int(0),
        edit=query.message.message_id if in_place and query.message else None,
        back=in_place,
    )
    await query.answer()


async def refresh(query: CallbackQuery, viewer: Viewer, interest_id: int) -> None:
    if query.message is not None:
        await send_deal_card(
            viewer,
            interest_id,
            edit=query.message.message_id,
            back=True,
        )


async def move(
    query: CallbackQuery, viewer: Viewer, interest_id: int, stage_id: int, dm: DialogManager
) -> None:
    try:
        await deals.move_stage(interest_id, stage_id, actor=viewer.user)
    except NextStepRequired as exc:
        await query.answer(exc.render(viewer.locale))
        await start_planning(dm, interest_id=interest_id, then_stage=stage_id, reason=NEXT_STEP)
        return
    await refresh(query, viewer, interest_id)
    await query.answer(viewer.gettext("Stage changed"))


async def open_or_put_back(
    query: CallbackQuery, viewer: Viewer, interest_id: int
) -> Interest | None:
    """The interest while it is open; closed since the card was drawn, the press is
    refused at once and the card put back as it is now."""
    interest = await access_interest(viewer.user, interest_id)
    if interest.status == InterestStatus.OPEN:
        return interest
    await put_back(query, viewer, interest.id)
    return None


async def put_back(query: CallbackQuery, viewer: Viewer, interest_id: int) -> None:
    await refresh(query, viewer, interest_id)
    await query.answer(viewer.gettext("This deal is already closed."), show_alert=True)


async def next_stage(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    interest = await open_or_put_back(query, viewer, action.int(0))
    if interest is None:
        return
    ids = [s.id for s in await stages_of(interest.scenario_id)]  # type: ignore[attr-defined]
    index = ids.index(interest.stage_id)  # type: ignore[attr-defined]
    if index + 1 >= len(ids):
        raise Conflict("This is the last stage: mark the interest won or lost")
    await move(query, viewer, interest.id, ids[index + 1], dialog_manager)


async def choose_stage(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    interest = await open_or_put_back(query, viewer, action.int(0))
    if interest is None:
        return
    kb = viewer.keyboard()
    for stage in await stages_of(interest.scenario_id):  # type: ignore[attr-defined]
        mark = "• " if stage.id == interest.stage_id else ""  # type: ignore[attr-defined]
        kb.add(mark + stage.name, "dm", interest.id, stage.id)
    kb.add("« " + viewer.gettext("Back"), "do", interest.id, "e")
    await _keyboard(query, viewer, kb.markup())


async def move_to(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    if await open_or_put_back(query, viewer, action.int(0)) is not None:
        await move(query, viewer, action.int(0), action.int(1), dialog_manager)


# Closing asks what to do with the deal's planned interactions: the last argument of a
# close button is KEEP or CANCEL (none yet: ask when there are any).
KEEP, CANCEL = "k", "c"


async def confirm_won(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    """Won closes a deal for good: confirm first, saying what becomes of its plans."""
    interest = await open_or_put_back(query, viewer, action.int(0))
    if interest is None:
        return
    planned = await deals.planned_count(interest.id)
    kb = viewer.keyboard()
    if planned:
        n = str(planned)
        kb.add("🏆 " + viewer.gettext("Won, keep {n} planned", n=n), "dW", interest.id, KEEP)
        kb.add("🏆 " + viewer.gettext("Won, cancel {n} planned", n=n), "dW", interest.id, CANCEL)
    else:
        kb.add("🏆 " + viewer.gettext("Yes, it is won"), "dW", interest.id, KEEP)
    kb.add("« " + viewer.gettext("Back"), "do", interest.id, "e")
    if query.message is not None:
        await viewer.edit_keyboard(query.message.message_id, kb.markup())
    await query.answer(viewer.gettext("Close the deal as won?"))


async def won(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    if await open_or_put_back(query, viewer, action.int(0)) is None:
        return
    await deals.win(action.int(0), actor=viewer.user, cancel_planned=action.args[1] == CANCEL)
    await refresh(query, viewer, action.int(0))
    await query.answer("🏆 " + viewer.gettext("Won"))


async def ask_loss_reason(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    interest = await open_or_put_back(query, viewer, action.int(0))
    if interest is None:
        return
    kb = viewer.keyboard()
    listed = await reasons(ReasonKind.LOSS)
    for reason in listed:
        kb.add(reason.text, "dX", interest.id, reason.id)
    if not listed:  # none configured: losing still works (0: without a reason)
        kb.add("❌ " + viewer.gettext("Lost without a reason"), "dX", interest.id, 0)
    kb.add("« " + viewer.gettext("Back"), "do", interest.id, "e")
    await _keyboard(query, viewer, kb.markup())


async def lost(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    interest_id, reason_id = action.int(0), action.int(1)
    if await open_or_put_back(query, viewer, interest_id) is None:
        return
    choice = action.args[2] if len(action.args) > 2 else None
    if choice is None and (planned := await deals.planned_count(interest_id)):
        n = str(planned)
        kb = viewer.keyboard()
        kb.add(  # cancelling is the default for a lost deal: first
            "❌ " + viewer.gettext("Lost, cancel {n} planned", n=n),
            "dX",
            interest_id,
            reason_id,
            CANCEL,
        )
        kb.add(
            "❌ " + viewer.gettext("Lost, keep {n} planned", n=n),
            "dX",
            interest_id,
            reason_id,
            KEEP,
        )
        kb.add("« " + viewer.gettext("Back"), "do", interest_id, "e")
        await _keyboard(query, viewer, kb.markup())
        return
    await deals.lose(
        interest_id, reason_id or None, actor=viewer.user, cancel_planned=choice != KEEP
    )
    await refresh(query, viewer, interest_id)
    await query.answer(viewer.gettext("Lost"))


async def reopen(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await deals.reopen(action.int(0), actor=viewer.user)
    await refresh(query, viewer, action.int(0))
    await query.answer(viewer.gettext("The deal is open again."))


async def _keyboard(query: CallbackQuery, viewer: Viewer, markup: Markup | None) -> None:
    if query.message is not None:
        await viewer.edit_keyboard(query.message.message_id, markup)
    await query.answer()


async def plan(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    interest = await access_interest(viewer.user, action.int(0))
    await query.answer()
    await start_planning(dialog_manager, interest_id=interest.id)


async def ask_note(query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext) -> None:
    interest = await access_interest(viewer.user, action.int(0))
    await state.set_state(Typing.note)
    await state.set_data({"interest_id": interest.id, "client_id": interest.client_id})  # type: ignore[attr-defined]
    await query.answer()
    await viewer.send(Card([viewer._("Send the note. /cancel to stop.")]))


async def save_note(message: Message, viewer: Viewer, state: FSMContext) -> None:
    data = await state.get_data()
    text = (message.text or message.caption or "").strip()
    if not text:
        await viewer.say(viewer._("A note is text. Send it, or /cancel."))
        return
    note = await interactions.record_done(
        actor=viewer.user,
        kind=InteractionKind.NOTE,
        client_id=int(data["client_id"]),
        interest_id=data.get("interest_id"),
        content=text,
    )
    await expect_more(state, message, Typing.note_more, "note_id", note.id)  # a split note
    await viewer.say("📝 " + viewer._("Note saved."))


async def ask_amount(
    query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext
) -> None:
    interest = await access_interest(viewer.user, action.int(0))
    await state.set_state(Typing.amount)
    await state.set_data({"interest_id": interest.id})
    await query.answer()
    if interest.amount is None:
        now = viewer._("“{title}” has no amount yet.", title=interest.title)
    else:
        amount = format_money(interest.amount, interest.currency, viewer.locale)
        now = viewer._("The amount of “{title}” is {amount}.", title=interest.title, amount=amount)
    ask = viewer._("Send the new amount, for example 81 700. /cancel to stop.")
    await viewer.say(f"💰 {now}\n{ask}")


async def save_amount(message: Message, viewer: Viewer, state: FSMContext) -> None:
    interest_id = int((await state.get_data())["interest_id"])
    try:
        amount = parse_money(message.text or "")
    except ValueError:
        await viewer.say("⚠️ " + viewer._(NOT_AN_AMOUNT))
        return
    await _change(viewer, state, interest_id, {"amount": amount})


async def ask_title(
    query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext
) -> None:
    interest = await access_interest(viewer.user, action.int(0))
    await state.set_state(Typing.title)
    await state.set_data({"interest_id": interest.id})
    await query.answer()
    await viewer.say(
        "✏️ " + viewer._("Send the new name of “{title}”. /cancel to stop.", title=interest.title)
    )


async def save_title(message: Message, viewer: Viewer, state: FSMContext) -> None:
    interest_id = int((await state.get_data())["interest_id"])
    await _change(viewer, state, interest_id, {"title": message.text or ""})


async def _change(
    viewer: Viewer, state: FSMContext, interest_id: int, changes: dict[str, object]
) -> None:
    """Save the typed change, then show the card again; a refused one is explained and
    the manager may send it again."""
    try:
        await deals.update_interest(interest_id, changes, actor=viewer.user)
    except CrmError as exc:
        await viewer.say("⚠️ " + h(exc.render(viewer.locale)))
        return
    await state.clear()
    await send_deal_card(viewer, interest_id)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(list_deals, Command("deals", ignore_case=True))
    r.message.register(save_note, StateFilter(Typing.note), ~F.text.startswith("/"))
    r.message.register(save_amount, StateFilter(Typing.amount), ~F.text.startswith("/"))
    r.message.register(save_title, StateFilter(Typing.title), ~F.text.startswith("/"))
    r.callback_query.register(page_of_deals, Pressed("dl"))
    r.callback_query.register(open_deal, Pressed("do"))
    r.callback_query.register(next_stage, Pressed("dn"))
    r.callback_query.register(choose_stage, Pressed("ds"))
    r.callback_query.register(move_to, Pressed("dm"))
    r.callback_query.register(confirm_won, Pressed("dw"))
    r.callback_query.register(won, Pressed("dW"))
    r.callback_query.register(reopen, Pressed("dr"))
    r.callback_query.register(ask_loss_reason, Pressed("dx"))
    r.callback_query.register(lost, Pressed("dX"))
    r.callback_query.register(plan, Pressed("dp"))
    r.callback_query.register(ask_note, Pressed("dt"))
    r.callback_query.register(ask_amount, Pressed(SET_AMOUNT))
    r.callback_query.register(ask_title, Pressed(SET_TITLE))
    return r
