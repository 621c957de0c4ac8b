"""aiogram-dialog dialogs; fresh instances per dispatcher (a dialog is a router)."""

from __future__ import annotations

from aiogram_dialog import Dialog

from bot.dialogs import planning


def all_dialogs() -> list[Dialog]:
    return [planning.dialog()]
