"""Planning an interaction: kind -> date (calendar) -> time (the client's local time beside
the manager's) -> subject -> content -> confirm.

Started with `start_planning()`. Start data names what is planned and what follows:
`interest_id` or `client_id`; `complete_id` to mark that interaction done and plan the next
in one transaction ("complete and plan the next"); `then_stage` to move the deal once the
step is planned (the scenario refused the move without one); `kind` to skip the first step.
Nothing in the buttons names a database row: the start data stays on the server."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import ChatEvent, Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import ManagedTextInput, TextInput
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
from bot.dialogs.states import PlanSG
from bot.texts import KIND_LABELS, Part, h
from bot.views import Card, Viewer
from crm import clock
from crm.access import access_client, access_interest
from crm.deals import move_stage
from crm.errors import CrmError
from crm.i18n import N_, format_date, format_datetime
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
TIME_FORMAT = N_("Send the time as HH:MM, for example 14:30.")


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


def viewer_of(manager: DialogManager) -> Viewer:
    viewer = manager.middleware_data["viewer"]
    assert isinstance(viewer, Viewer)
    return viewer


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
    return {
        "back": "« " + v.gettext("Back"),
        "cancel": "✖ " + v.gettext("Cancel"),
        "skip": v.gettext("Skip") + " »",
        "save": "✓ " + v.gettext("Save"),
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
    return {"prompt": v._("{kind}: choose the date", kind=v.kind(chosen_kind(dialog_manager)))}


async def time_getter(dialog_manager: DialogManager, **kw: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    day = date.fromisoformat(dialog_manager.dialog_data["day"])
    client, _title = await subject_of(dialog_manager)
    own, theirs = ZoneInfo(v.tz), ZoneInfo(client_tz(client))
    now = clock.now()
    times = []
    for hour in HOURS:
        moment = datetime.combine(day, time(hour), own)
        if moment < now:
            continue
        label = f"{hour:02d}:00"
        if theirs.utcoffset(moment.replace(tzinfo=None)) != own.utcoffset(
            moment.replace(tzinfo=None)
        ):
            label += f" · 👤 {moment.astimezone(theirs):%H:%M}"
        times.append((f"{hour:02d}00", label))
    prompt = v._(
        "{date}: choose the time (yours · the client's) or send it as HH:MM",
        date=format_date(day, v.locale),
    )
    return {"prompt": prompt, "times": times}


async def subject_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    return {"prompt": v._("Send the subject (what is it about?), or skip.")}


async def content_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    return {"prompt": v._("Send the details, or skip.")}


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    v = viewer_of(dialog_manager)
    client, _title = await subject_of(dialog_manager)
    moment = planned_moment(dialog_manager, v)
    theirs = moment.astimezone(ZoneInfo(client_tz(client)))
    details = dialog_manager.dialog_data
    lines = [
        f"{v.kind(chosen_kind(dialog_manager))} · <b>{v.when(moment)}</b>",
        "👤 " + v._("client time {time}", time=f"{theirs:%H:%M}"),
    ]
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


def parse_time(text: str) -> str:
    value = text.strip().replace(".", ":").replace("-", ":")
    if value.isdigit() and len(value) <= 2:
        value += ":00"
    return time.fromisoformat(value.zfill(5)).strftime("%H:%M")


async def on_typed_time(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.dialog_data["time"] = value
    await manager.next()


async def on_bad_time(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, error: ValueError
) -> None:
    await message.answer(viewer_of(manager)._(TIME_FORMAT))


async def on_subject(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.dialog_data["subject"] = value.strip()[:300]
    await manager.next()


async def on_content(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
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
    return Dialog(
        Window(
            Format("{header}\n\n{prompt}"),
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
            getter=(labels, header, kind_getter),
            state=PlanSG.kind,
        ),
        Window(
            Format("{header}\n\n{prompt}"),
            LocalCalendar(id="day", on_click=on_day),
            Row(back, cancel),
            getter=(labels, header, day_getter),
            state=PlanSG.day,
        ),
        Window(
            Format("{header}\n\n{prompt}"),
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
            TextInput(
                id="typed_time",
                type_factory=parse_time,
                on_success=on_typed_time,
                on_error=on_bad_time,
            ),
            Row(back, cancel),
            getter=(labels, header, time_getter),
            state=PlanSG.time,
        ),
        Window(
            Format("{header}\n\n{prompt}"),
            TextInput(id="subject", on_success=on_subject),
            Row(back, Next(Format("{skip}"), id="skip_subject"), cancel),
            getter=(labels, header, subject_getter),
            state=PlanSG.subject,
        ),
        Window(
            Format("{header}\n\n{prompt}"),
            TextInput(id="content", on_success=on_content),
            Row(back, Next(Format("{skip}"), id="skip_content"), cancel),
            getter=(labels, header, content_getter),
            state=PlanSG.content,
        ),
        Window(
            Format("{header}\n\n{summary}"),
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
