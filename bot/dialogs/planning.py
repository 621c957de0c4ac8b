"""Planning an interaction: kind -> date (calendar, one-tap presets, or typed) -> time (the
client's local time beside the manager's when it differs) -> subject -> content -> confirm.

The dialog is one message, edited in place as the manager answers, typed answers included.
A date or time may be typed at the date and time steps in Russian or English ("завтра
11:00", "пн 10", "через неделю", `crm.when_parse`); what is not understood is explained in
the dialog itself (the presets and typed moments: `bot.dialogs.moment`). Once the moment is
known, Save is offered at every later step.

Started with `start_planning()`. Start data names what is planned and what follows:
`interest_id` or `client_id`; `complete_id` to mark that interaction done and plan the next
in one transaction ("complete and plan the next"); `then_stage` to move the deal once the
step is planned (the scenario refused the move without one); `kind` to skip the first step.
Nothing in the buttons names a database row: the start data stays on the server."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import ChatEvent, Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Back,
    Button,
    Cancel,
    Group,
    ManagedCalendar,
    Next,
    Row,
    Select,
)
from aiogram_dialog.widgets.text import Format

from bot.cards import send_deal_card
from bot.dialogs.calendar import LocalCalendar
from bot.dialogs.messages import opened_from
from bot.dialogs.moment import (
    differs,
    on_not_a_kind,
    on_preset,
    on_tomorrow,
    on_typed_when,
    presets,
    viewer_of,
)
from bot.dialogs.states import PlanSG
from bot.texts import KIND_LABELS, Part, h
from bot.views import Card, Viewer
from crm import clock
from crm.access import access_client, access_interest
from crm.deals import move_stage
from crm.errors import CrmError
from crm.i18n import format_date, format_datetime
from crm.interactions import (
    Plan,
    access_interaction,
    complete_interaction,
    plan_interaction,
    same_time_tomorrow,
)
from crm.models import Client, InteractionKind

KINDS = (
    InteractionKind.CALL,
    InteractionKind.MEETING,
    InteractionKind.EMAIL,
    InteractionKind.MESSAGE,
    InteractionKind.SMS,
    InteractionKind.TASK,
)
HOURS = range(8, 21)
NEXT_STEP = "next_step"
DEFAULT_CLIENT_TZ = "Europe/Moscow"  # as crm.clients.client_local_time assumes


async def start_planning(
    manager: DialogManager,
    *,
    interest_id: int | None = None,
    client_id: int | None = None,
    complete_id: int | None = None,
    then_stage: int | None = None,
    kind: str | None = None,
    reason: str | None = None,
) -> None:
    """Open the planning dialog as a new message, replacing any dialog in progress."""
    data = {
        "interest_id": interest_id,
        "client_id": client_id,
        "complete_id": complete_id,
        "then_stage": then_stage,
        "kind": kind,
        "reason": reason,
    }
    event = manager.event
    card = (
        event.message.message_id
        if isinstance(event, CallbackQuery) and event.message is not None
        else None
    )
    with opened_from(card):
        await manager.start(
            PlanSG.day if kind else PlanSG.kind,
            data={k: v for k, v in data.items() if v is not None},
            mode=StartMode.RESET_STACK,
            show_mode=ShowMode.SEND,
        )


def start_data(manager: DialogManager) -> dict[str, Any]:
    data = manager.start_data
    return dict(data) if isinstance(data, dict) else {}


async def subject_of(manager: DialogManager) -> tuple[Client, str]:
    """The client, and the deal title when planning within a deal (rights checked)."""
    v, data = viewer_of(manager), start_data(manager)
    if data.get("interest_id"):
        interest = await access_interest(v.user, int(data["interest_id"]))
        await interest.fetch_related("client")
        return interest.client, interest.title
    return await access_client(v.user, int(data["client_id"])), ""


def client_tz(client: Client) -> str:
    return client.timezone or DEFAULT_CLIENT_TZ


def chosen_kind(manager: DialogManager) -> str:
    return str(manager.dialog_data.get("kind") or start_data(manager).get("kind") or "call")


def planned_moment(manager: DialogManager, viewer: Viewer) -> datetime:
    day = date.fromisoformat(manager.dialog_data["day"])
    at = time.fromisoformat(manager.dialog_data["time"])
    # stored in UTC: SQLite compares datetimes as text, so offsets must not vary
    return datetime.combine(day, at, ZoneInfo(viewer.tz)).astimezone(UTC)


# -- getters -------------------------------------------------------------------------------


async def labels(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    error = dialog_manager.dialog_data.pop("error", "")
    return {
        "back": "« " + v.gettext("Back"),
        "cancel": "✖ " + v.gettext("Cancel"),
        "skip": v.gettext("Skip") + " »",
        "save": "✓ " + v.gettext("Save"),
        # shown once: the answer that was not understood, said in the message it went to
        "error": "\n\n⚠️ " + h(error) if error else "",
    }


async def header(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v, data = viewer_of(dialog_manager), start_data(dialog_manager)
    client, title = await subject_of(dialog_manager)
    lines = []
    if data.get("complete_id"):
        done = await access_interaction(v.user, int(data["complete_id"]))
        lines.append("✓ " + v._("Marking done: {subject}", subject=done.subject or done.kind))
    if data.get("reason") == NEXT_STEP:
        lines.append("⚠️ " + v._("Plan the next interaction first: this scenario requires one."))
    lines.append("📅 <b>" + v._("Plan an interaction with {client}", client=client.name) + "</b>")
    if title:
        lines.append(f"📂 {h(title)}")
    return {"header": "\n".join(lines)}


async def kind_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    return {
        "prompt": v._("What kind of interaction?"),
        "kinds": [(k.value, v.kind(k.value)) for k in KINDS],
    }


async def day_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    prompt = v._("{kind}: choose the date", kind=v.kind(chosen_kind(dialog_manager)))
    typed = v._("or type it: “tomorrow 11:00”, “Mon 10”, “31.12 15:30”")
    return {"prompt": f"{prompt} {typed}", "presets": presets(v)}


async def time_getter(dialog_manager: DialogManager, **kw: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    day = date.fromisoformat(dialog_manager.dialog_data["day"])
    client, _title = await subject_of(dialog_manager)
    own, theirs = ZoneInfo(v.tz), ZoneInfo(client_tz(client))
    now = clock.now()
    times = []
    both = False
    for hour in HOURS:
        moment = datetime.combine(day, time(hour), own)
        if moment < now:
            continue
        label = f"{hour:02d}:00"
        if differs(moment, v.tz, client_tz(client)):
            both = True
            label += f" · 👤 {moment.astimezone(theirs):%H:%M}"
        times.append((f"{hour:02d}00", label))
    shown = format_date(day, v.locale)
    if not times:  # late in the day: offer tomorrow rather than nothing
        prompt = v._(
            "{date}: no working hours are left. Plan it for tomorrow, or type a time.", date=shown
        )
    elif both:
        prompt = v._(
            "{date}: choose the time (yours · the client's) or send it as HH:MM", date=shown
        )
    else:
        prompt = v._("{date}: choose the time or send it as HH:MM", date=shown)
    return {
        "prompt": prompt,
        "times": times,
        "late": not times,
        "tomorrow": v.gettext("Tomorrow") + " »",
    }


def moment_line(manager: DialogManager, v: Viewer) -> str:
    return f"{v.kind(chosen_kind(manager))} · <b>{v.when(planned_moment(manager, v))}</b>"


async def subject_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    ask = v._("Send the subject (what is it about?), or skip.")
    return {"prompt": moment_line(dialog_manager, v) + "\n" + ask}


async def content_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    lines = [moment_line(dialog_manager, v)]
    if subject := dialog_manager.dialog_data.get("subject"):
        lines.append(f"<b>{h(subject)}</b>")
    lines.append(v._("Send the details, or skip."))
    return {"prompt": "\n".join(lines)}


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    client, _title = await subject_of(dialog_manager)
    moment = planned_moment(dialog_manager, v)
    theirs = moment.astimezone(ZoneInfo(client_tz(client)))
    details = dialog_manager.dialog_data
    lines = [f"{v.kind(chosen_kind(dialog_manager))} · <b>{v.when(moment)}</b>"]
    if differs(moment, v.tz, client_tz(client)):
        lines.append("👤 " + v._("client time {time}", time=f"{theirs:%H:%M}"))
    if details.get("subject"):
        lines.append(f"<b>{h(details['subject'])}</b>")
    if details.get("content"):
        lines.append(f"<i>{h(str(details['content'])[:1500])}</i>")
    tomorrow = same_time_tomorrow(moment, v.tz)  # a time already past: warn, offer tomorrow
    if tomorrow is not None:
        lines.append("⚠️ " + v._("This time has passed: the reminder would go off at once."))
    lines.append(v._("Save it?"))
    return {
        "summary": "\n".join(lines),
        "past": tomorrow is not None,
        "same_time": "⏭ " + v.gettext("Same time tomorrow") if tomorrow else "",
    }


async def on_same_time_tomorrow(
    query: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    v = viewer_of(manager)
    tomorrow = same_time_tomorrow(planned_moment(manager, v), v.tz)
    if tomorrow is not None:
        manager.dialog_data["day"] = tomorrow.astimezone(ZoneInfo(v.tz)).date().isoformat()


# -- handlers ------------------------------------------------------------------------------


async def on_kind(query: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    manager.dialog_data["kind"] = item
    await manager.next()


async def on_day(
    event: ChatEvent, widget: ManagedCalendar, manager: DialogManager, day: date
) -> None:
    manager.dialog_data["day"] = day.isoformat()
    await manager.next()


async def on_time(query: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    manager.dialog_data["time"] = f"{item[:2]}:{item[2:]}"
    await manager.next()


async def on_subject(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.show_mode = ShowMode.EDIT
    manager.dialog_data["subject"] = value.strip()[:300]
    await manager.next()


async def on_content(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.show_mode = ShowMode.EDIT
    manager.dialog_data["content"] = value.strip()
    await manager.next()


async def on_save(query: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Plan (or complete and plan the next), then move the deal if that was waiting."""
    v, data = viewer_of(manager), start_data(manager)
    moment = planned_moment(manager, v)
    if same_time_tomorrow(moment, v.tz) and manager.current_context().state != PlanSG.confirm:
        await manager.switch_to(PlanSG.confirm)  # a time already past: warned there first
        return
    plan = Plan(
        kind=chosen_kind(manager),
        planned_at=moment,
        subject=str(manager.dialog_data.get("subject", "")),
        content=str(manager.dialog_data.get("content", "")),
    )
    interest_id = data.get("interest_id")
    try:
        if data.get("complete_id"):
            await complete_interaction(int(data["complete_id"]), actor=v.user, next_plan=plan)
        else:
            await plan_interaction(
                plan, actor=v.user, interest_id=interest_id, client_id=data.get("client_id")
            )
    except CrmError as exc:
        await query.answer(exc.render(v.locale)[:200], show_alert=True)
        return
    notes: list[Part] = [
        "✓ "
        + v._(
            "Planned: {kind}, {when}",
            kind=v.gettext(KIND_LABELS[plan.kind]),
            when=format_datetime(moment, v.locale, v.tz, "short"),
        )
    ]
    if data.get("then_stage") and interest_id:
        try:
            await move_stage(int(interest_id), int(data["then_stage"]), actor=v.user)
        except CrmError as exc:
            notes.append("⚠️ " + h(exc.render(v.locale)))
        else:
            notes.append("🪜 " + v._("The deal moved to the next stage."))
    await manager.done()
    if isinstance(query.message, Message):
        await v.edit(query.message.message_id, Card(notes))
    if interest_id:
        await send_deal_card(v, int(interest_id))


def dialog() -> Dialog:
    back = Back(Format("{back}"))
    cancel = Cancel(Format("{cancel}"))
    typed_when = MessageInput(on_typed_when, content_types=ContentType.TEXT)
    text = Format("{header}\n\n{prompt}{error}")
    return Dialog(
        Window(
            text,
            Group(
                Select(
                    Format("{item[1]}"),
                    id="kind",
                    item_id_getter=lambda item: item[0],
                    items="kinds",
                    on_click=on_kind,
                ),
                width=2,
            ),
            cancel,
            MessageInput(on_not_a_kind),
            getter=(labels, header, kind_getter),
            state=PlanSG.kind,
        ),
        Window(
            text,
            Group(
                Select(
                    Format("{item[1]}"),
                    id="preset",
                    item_id_getter=lambda item: item[0],
                    items="presets",
                    on_click=on_preset,
                ),
                width=3,
            ),
            LocalCalendar(id="day", on_click=on_day),
            Row(back, cancel),
            typed_when,
            getter=(labels, header, day_getter),
            state=PlanSG.day,
        ),
        Window(
            text,
            Group(
                Select(
                    Format("{item[1]}"),
                    id="time",
                    item_id_getter=lambda item: item[0],
                    items="times",
                    on_click=on_time,
                ),
                width=3,
            ),
            Button(Format("{tomorrow}"), id="tomorrow", on_click=on_tomorrow, when="late"),
            Row(back, cancel),
            typed_when,
            getter=(labels, header, time_getter),
            state=PlanSG.time,
        ),
        Window(
            text,
            TextInput(id="subject", on_success=on_subject),
            Row(back, Next(Format("{skip}"), id="skip_subject"), cancel),
            Button(Format("{save}"), id="save_now", on_click=on_save),
            getter=(labels, header, subject_getter),
            state=PlanSG.subject,
        ),
        Window(
            text,
            TextInput(id="content", on_success=on_content),
            Row(back, Next(Format("{skip}"), id="skip_content"), cancel),
            Button(Format("{save}"), id="save_details", on_click=on_save),
            getter=(labels, header, content_getter),
            state=PlanSG.content,
        ),
        Window(
            Format("{header}\n\n{summary}{error}"),
            Button(Format("{save}"), id="save", on_click=on_save),
            Button(
                Format("{same_time}"),
                id="same_time_tomorrow",
                on_click=on_same_time_tomorrow,
                when="past",
            ),
            Row(back, cancel),
            getter=(labels, header, confirm_getter),
            state=PlanSG.confirm,
        ),
    )
