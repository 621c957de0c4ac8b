"""`bot.dialog_gate`: aiogram-dialog's middlewares are passed by for the buttons and
commands whose handlers take no dialog manager, and an open dialog is unharmed by them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine
from aiogram import F, Router, types
from aiogram.filters import Command
from aiogram_dialog import DialogManager

from bot.callbacks import Action, Pressed
from bot.dialog_gate import DialogFree
from bot.handlers import feature_routers
from crm.models import Interaction, InteractionState
from tests.bot.test_planning_dialog import (  # noqa: F401 (chat: the fixture)
    NOW,
    Chat,
    chat,
    manager_with_deal,
    open_planning,
)


def test_the_feature_routers_dialog_free_buttons_and_commands() -> None:
    free = DialogFree(feature_routers())
    assert {"do", "fd", "ds", "dl", "co"} <= free.actions  # a deal card, its feed, stages
    assert not {"dp", "dn", "dm", "fx", "ck"} & free.actions  # Plan, stage moves, Done, Task
    assert {"deals", "today", "client", "inbox", "help"} <= free.commands
    assert "cancel" not in free.commands  # it closes an open dialog


async def _takes_dialogs(message: Any, dialog_manager: DialogManager) -> None: ...


async def _plain(message: Any) -> None: ...


def test_only_plain_commands_and_signed_buttons_pass_by() -> None:
    free = DialogFree(feature_routers())
    user = types.User(id=1, is_bot=False, first_name="A")
    private = types.Chat(id=1, type="private")

    def message(text: str | None, caption: str | None = None) -> types.Message:
        return types.Message(
            message_id=1,
            date=datetime.now(UTC),
            chat=private,
            from_user=user,
            text=text,
            caption=caption,
        )

    assert free(message("/deals"), {})
    assert free(message("/client Anna Petrova"), {})
    assert free(message("/DEALS"), {})  # commands are read in any case
    for typed in ("/ deals", "/deals@shop_bot", "/cancel", "/Cancel", "deals", "/unknown"):
        assert not free(message(typed), {}), typed
    assert not free(message(None, caption="/deals"), {})  # a photo: aiogram-dialog sees it
    query = types.CallbackQuery(id="q", from_user=user, chat_instance="1", data="do|1|x")
    assert free(query, {"action": Action("do", ("1",))})
    assert not free(query, {"action": Action("dp", ("1",))})  # Plan opens the dialog
    assert not free(query, {})  # a dialog's own button: no signed action


def test_a_name_is_free_only_when_every_handler_of_it_is() -> None:
    one, two = Router(), Router()
    one.callback_query.register(_plain, Pressed("a", "b"))
    two.callback_query.register(_takes_dialogs, Pressed("b"))
    one.message.register(_plain, Command("list"))
    two.message.register(_takes_dialogs, Command("plan"))
    free = DialogFree([one, two])
    assert free.actions == {"a"}
    assert free.commands == {"list"}


def test_no_command_is_free_when_an_unkeyed_handler_takes_dialogs() -> None:
    first, second = Router(), Router()
    first.message.register(_takes_dialogs, F.reply_to_message)  # might take any command
    second.message.register(_plain, Command("list"))
    assert DialogFree([first, second]).commands == frozenset()


async def test_an_open_dialog_survives_the_commands_and_buttons_that_pass_it_by(
    chat: Chat,  # noqa: F811
) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await manager_with_deal()
        await open_planning(chat)
        await chat.click(r".*Call")
        await chat.click(r"13")
        await chat.click(r"10:00.*")
        asking = chat.dialog()  # the dialog waits for the subject

        await chat.client.send("/deals")  # dialog-free: the list, the dialog untouched
        listing = chat.bot_message()
        assert listing.text is not None and "Kitchen" in listing.text
        await chat.click(r"1\. Kitchen", listing)  # a dialog-free button
        assert "Kitchen" in (chat.bot_message().text or "")

        await chat.client.send("Discuss the delivery")  # typed into the dialog still
        await chat.client.send("Call before noon")
        summary = chat.dialog()
        assert summary is not asking and "Discuss the delivery" in (summary.text or "")
        await chat.click(r"✓ Save")

    planned = await Interaction.get(interest_id=interest.id, state=InteractionState.PLANNED)
    assert planned.subject == "Discuss the delivery"
    assert planned.content == "Call before noon"
