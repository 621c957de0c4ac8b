"""Internal notes corrected and deleted in the desk: by their author or an admin only; a
colleague who sees the conversation reads the note but gets no form and is refused (403);
a corrected note says it was edited; text stays escaped."""

from __future__ import annotations

from crm.models import ConversationNote, Role
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes


async def test_a_note_is_corrected_and_deleted_by_its_author_only(
    browser: Browser, inbox: Inbox, tg
) -> None:  # type: ignore[no-untyped-def]
    _, conversation = await customer_writes(browser, inbox, tg, "Когда доставка?")
    head = await make_user(Role.HEAD, full_name="Hanna Head")
    author = await make_user(Role.HEAD, full_name="Anna Author")
    await browser.login(author.email)
    await browser.get(f"/inbox/{conversation.id}")
    await browser.post(f"/inbox/{conversation.id}/notes", {"note": "Позвонить в пятницу"})
    note = await ConversationNote.get(conversation_id=conversation.id)
    edit = f"/inbox/{conversation.id}/notes/{note.id}/edit"
    _, page = await browser.get(f"/inbox/{conversation.id}")
    assert f'action="{edit}"' in page and " · edited" not in page
    _, page = await browser.post(edit, {"text": "  "})
    assert "Write the note" in page
    assert (await ConversationNote.get(id=note.id)).text == "Позвонить в пятницу"
    _, page = await browser.post(edit, {"text": "Позвонить в <понедельник>"})
    assert "The note is saved" in page and "Позвонить в &lt;понедельник&gt;" in page
    # a colleague reads it, without the forms, and cannot change it by hand
    await browser.login(head.email)
    _, page = await browser.get(f"/inbox/{conversation.id}")
    assert "Позвонить в &lt;понедельник&gt;" in page and f'action="{edit}"' not in page
    _, page = await browser.post(edit, {"text": "Чужая правка"})
    assert "You are not allowed to do this" in page
    delete = f"/inbox/{conversation.id}/notes/{note.id}/delete"
    _, page = await browser.post(delete, {})
    assert "You are not allowed to do this" in page
    assert (await ConversationNote.get(id=note.id)).text == "Позвонить в <понедельник>"
    # the author deletes it
    await browser.login(author.email)
    _, page = await browser.post(delete, {})
    assert "The note is deleted" in page and not await ConversationNote.filter(id=note.id).exists()
    _, page = await browser.post(delete, {})
    assert "Not found" in page or "not found" in page
