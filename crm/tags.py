"""Tags: the admin's list (add, rename, delete); clients get them through crm.clients."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import Tag, User

MAX_TAG = 100


@dataclass(frozen=True)
class TagUse:
    tag: Tag
    clients: int


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


def _clean(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise ValidationFailed.field("name", N_("Required"))
    if len(text) > MAX_TAG:
        raise ValidationFailed.field("name", N_("Too long"))
    return text


async def list_tags() -> list[TagUse]:
    """Every tag with the number of clients carrying it, by name."""
    rows = await Tag.all().annotate(uses=Count("clients")).order_by("name")
    return [TagUse(tag, int(getattr(tag, "uses", 0) or 0)) for tag in rows]


async def create_tag(name: str, *, actor: User | None) -> Tag:
    _require_admin(actor)
    text = _clean(name)
    if await Tag.filter(name=text).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    return await Tag.create(name=text)


async def rename_tag(tag_id: int, name: str, *, actor: User | None) -> Tag:
    _require_admin(actor)
    tag = await Tag.filter(id=tag_id).first()
    if tag is None:
        raise NotFound()
    text = _clean(name)
    if await Tag.filter(name=text).exclude(id=tag_id).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    tag.name = text
    await tag.save()
    return tag


async def delete_tag(tag_id: int, *, actor: User | None) -> None:
    """Remove the tag from every client and from the list."""
    _require_admin(actor)
    tag = await Tag.filter(id=tag_id).first()
    if tag is None:
        raise NotFound()
    await tag.clients.clear()  # type: ignore[attr-defined]
    await tag.delete()
