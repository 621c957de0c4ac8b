"""The bot's states: the planning dialog (aiogram-dialog) and what a manager is typing
(plain aiogram FSM: a reply to a customer, a note)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class PlanSG(StatesGroup):
    kind = State()
    day = State()
    time = State()
    subject = State()
    content = State()
    confirm = State()


class Typing(StatesGroup):
    reply = State()  # data: conversation_id
    note = State()  # data: interest_id or client_id
    title = State()  # data: interest_id (a deal's new name)
    amount = State()  # data: interest_id
    payment = State()  # data: invoice_id (the amount paid against it)
    # just sent: a message within a few seconds is the next part of it (Telegram splits a
    # long message in two), see bot/handlers/typing_more.py; data: its id and date
    reply_more = State()  # data: conversation_id, at
    note_more = State()  # data: note_id, at
