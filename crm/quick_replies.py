"""Quick replies: canned answers a manager picks instead of typing (`/` in the web reply
box, the Шаблоны button in the bot). Shared ones are the admin's (no owner), personal ones
each manager's own; a manager sees the shared ones and their own, never another's.

Placeholders are `{client_name}`, `{manager_name}` and `{company_name}`, filled by
`crm.templates.render`: only these names are replaced, nothing else is evaluated. A text
naming any other placeholder is refused when it is saved, with the unknown names and the
known ones in the message."""

from __future__ import annotations

import re

from tortoise.expressions import Q

from crm.company import get_company
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import Client, QuickReply, User
from crm.templates import render

PLACEHOLDERS = ("client_name", "manager_name", "company_name")
MAX_TITLE = 100
MAX_TEXT = 4000
MAX_PER_OWNER = 200  # a list one picks from, not a library
_PATTERN = re.compile(r"\{(\w+)\}")


def known_placeholders() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def check_text(text: str) -> str:
    body = text.strip()
    if not body:
        raise ValidationFailed.field("text", N_("Required"))
    if len(body) > MAX_TEXT:
        raise ValidationFailed.field("text", N_("Too long"))
    unknown = sorted({m for m in _PATTERN.findall(body) if m not in PLACEHOLDERS})
    if unknown:
        raise ValidationFailed.field(
            "text",
            N_("Unknown placeholders: {names}. Known: {known}"),
            names=", ".join("{" + name + "}" for name in unknown),
            known=known_placeholders(),
        )
    return body


def _title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise ValidationFailed.field("title", N_("Required"))
    if len(text) > MAX_TITLE:
        raise ValidationFailed.field("title", N_("Too long"))
    return text


def visible_filter(actor: User) -> Q:
    return Q(owner_id__isnull=True) | Q(owner_id=actor.id)


async def quick_replies_for(actor: User) -> list[QuickReply]:
    """The shared quick replies and the actor's own, shared first, each by title."""
    rows = await QuickReply.filter(visible_filter(actor)).order_by("title", "id")
    return [r for r in rows if r.owner_id is None] + [r for r in rows if r.owner_id is not None]  # type: ignore[attr-defined]


async def shared_quick_replies() -> list[QuickReply]:
    return await QuickReply.filter(owner_id__isnull=True).order_by("title", "id")


async def own_quick_replies(actor: User) -> list[QuickReply]:
    return await QuickReply.filter(owner_id=actor.id).order_by("title", "id")


async def get_quick_reply(reply_id: int, actor: User) -> QuickReply:
    """One the actor may use (shared or their own); NotFound otherwise."""
    row = await QuickReply.filter(visible_filter(actor), id=reply_id).first()
    if row is None:
        raise NotFound()
    return row


async def _editable(reply_id: int, actor: User) -> QuickReply:
    row = await get_quick_reply(reply_id, actor)
    if row.owner_id is None and not actor.is_admin:  # type: ignore[attr-defined]
        raise PermissionDenied()
    return row


async def create_quick_reply(title: str, text: str, *, shared: bool, actor: User) -> QuickReply:
    """A shared one (admins only) or the actor's own."""
    if shared and not actor.is_admin:
        raise PermissionDenied()
    owner_id = None if shared else actor.id
    clean_title, body = _title(title), check_text(text)
    if await QuickReply.filter(owner_id=owner_id).count() >= MAX_PER_OWNER:
        raise ValidationFailed.field("title", N_("At most {n} quick replies"), n=MAX_PER_OWNER)
    return await QuickReply.create(title=clean_title, text=body, owner_id=owner_id)


async def update_quick_reply(
    reply_id: int, *, title: str | None = None, text: str | None = None, actor: User
) -> QuickReply:
    row = await _editable(reply_id, actor)
    if title is not None:
        row.title = _title(title)
    if text is not None:
        row.text = check_text(text)
    await row.save()
    return row


async def delete_quick_reply(reply_id: int, *, actor: User) -> None:
    row = await _editable(reply_id, actor)
    await row.delete()


async def values_for(client: Client, actor: User) -> dict[str, str]:
    company = await get_company()
    return {
        "client_name": client.name,
        "manager_name": actor.full_name,
        "company_name": company.name or "",
    }


def fill(reply: QuickReply, values: dict[str, str]) -> str:
    """The text with its placeholders filled (values as they are: escaping is the page's)."""
    return render(reply.text, values)
