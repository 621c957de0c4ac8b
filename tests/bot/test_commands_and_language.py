"""Small things a manager trips over: commands in any case, /cancel with nothing to cancel,
/lang marking the current language, their own invite link opened again."""

from __future__ import annotations

from crm import clock, users
from crm.models import Invite, User
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 695001
BORIS = 695002


async def test_commands_are_read_in_any_case(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await factories.client(anna, name="Lotus")
    await harness.send(ANNA, "/DEALS")
    assert harness.last_to(ANNA)["text"].startswith("📂 My deals: 0")
    await harness.send(ANNA, "/Client lotus")
    assert "Lotus" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "/HELP")
    assert "/today" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "/Today")
    assert "I did not understand" not in harness.last_to(ANNA)["text"]


async def test_cancel_says_when_there_is_nothing_to_cancel(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/cancel")
    assert harness.last_to(ANNA)["text"] == "Nothing to cancel."
    await factories.client(anna, name="Lotus")
    await harness.send(ANNA, "/client Lotus")
    await harness.press(ANNA, harness.last_to(ANNA), "Note")  # typing a note now
    await harness.send(ANNA, "/CANCEL")
    assert harness.last_to(ANNA)["text"] == "Cancelled."
    await harness.send(ANNA, "/cancel")
    assert harness.last_to(ANNA)["text"] == "Nothing to cancel."


async def test_lang_marks_the_current_language(harness: BotHarness) -> None:
    await bound_manager(ANNA)
    await harness.send(ANNA, "/lang")
    card = harness.last_to(ANNA)
    assert [b["text"] for b in buttons(card)] == ["Русский", "✓ English"]
    await harness.press(ANNA, card, "Русский")
    await harness.send(ANNA, "/lang")
    assert [b["text"] for b in buttons(harness.last_to(ANNA))] == ["✓ Русский", "English"]


async def test_opening_ones_own_used_invite_again(harness: BotHarness) -> None:
    anna = await factories.manager(full_name="Anna", locale="en")
    invite = await users.create_invite(anna.id, actor=None)
    await harness.send(ANNA, f"/start {invite.code}")
    assert "You are connected to the CRM." in harness.last_to(ANNA)["text"]

    await harness.send(ANNA, f"/START {invite.code}")  # the link again, from an old message
    assert harness.last_to(ANNA)["text"] == "Anna, you are already connected to the CRM."
    assert (await User.get(id=anna.id)).telegram_user_id == ANNA

    boris = await bound_manager(BORIS)
    await harness.send(BORIS, f"/start {invite.code}")  # someone else's used invite
    assert "unknown, used or expired" in harness.last_to(BORIS)["text"]
    other = await users.create_invite(boris.id, actor=None)
    await Invite.filter(id=other.id).update(used_at=clock.now())
    await harness.send(ANNA, f"/start {other.code}")  # Boris's, used: not Anna's
    assert "unknown, used or expired" in harness.last_to(ANNA)["text"]
