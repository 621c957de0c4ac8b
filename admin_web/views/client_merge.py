"""The merge screen: an admin or a head of sales (`crm.access.may_merge_clients`) merges a
duplicate into a client, choosing per field which value stays where both have one (the
survivor's is preselected), sees what is carried over and which tags are gained; and undoes
a merge from the survivor's card."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import flash, gettext_for, locale_of, redirect, render
from crm.access import may_merge_clients
from crm.errors import NotFound, PermissionDenied
from crm.i18n import N_, format_date
from crm.labels import label
from crm.merge import FieldDifference, merge_clients, plan_merge, undo_merge
from crm.models import MergeRecord, RelationType, User
from crm.normalize import whole_number

routes = web.RouteTableDef()


def _merger(request: web.Request) -> User:
    """The logged-in user, if they may merge clients (403 before anything is read)."""
    user = require_user(request)
    if not may_merge_clients(user):
        raise PermissionDenied()
    return user


CHOICE = "choice_"  # a radio per difference: CHOICE + its key, "survivor" or "merged"


def _shown(request: web.Request, key: str, value: Any, people: dict[int, str]) -> str:
    """A card value as the screen shows it."""
    if value is None or value == "":
        return "—"
    if value is True or value is False:
        return gettext_for(request, N_("yes") if value else N_("no"))
    if isinstance(value, RelationType):
        return label(value, locale_of(request))
    if key == "responsible_id":
        return people.get(value, f"#{value}")
    if isinstance(value, date):
        return format_date(value, locale_of(request))
    return str(value)


def _rows(
    request: web.Request, found: list[FieldDifference], people: dict[int, str]
) -> list[dict[str, str]]:
    return [
        {
            "key": d.key,
            "label": d.label if d.custom else gettext_for(request, d.label),
            "survivor": _shown(request, d.key, d.survivor, people),
            "merged": _shown(request, d.key, d.merged, people),
        }
        for d in found
    ]


@routes.get(r"/clients/{id:\d+}/merge")
async def merge_screen(request: web.Request) -> web.StreamResponse:
    """What merging `merged_id` into this client does, with a choice per differing field."""
    user = _merger(request)
    survivor_id = forms.match_int(request.match_info["id"])
    merged_id = whole_number(request.query.get("merged_id", ""), max_digits=10)
    if merged_id is None or merged_id >= 2**31:
        raise NotFound()
    plan = await plan_merge(survivor_id, merged_id, actor=user)
    people = {u.id: u.full_name for u in await User.all()}
    context = {
        "survivor": plan.survivor,
        "merged": plan.merged,
        "differences": _rows(request, plan.differences, people),
        "carried": _rows(request, plan.carried, people),
        "tags": plan.tags,
        "choice": CHOICE,
    }
    return await render(request, "client_merge.html", context)


@routes.post(r"/clients/{id:\d+}/merge")
async def merge_post(request: web.Request) -> web.StreamResponse:
    """Merge the duplicate into this client (this one survives), taking the values chosen."""
    user = _merger(request)
    survivor_id = forms.match_int(request.match_info["id"])
    form = await request.post()
    merged_id = forms.integer(form, "merged_id")
    assert merged_id is not None
    take = [
        key[len(CHOICE) :]
        for key in form
        if key.startswith(CHOICE) and forms.text(form, key) == "merged"
    ]
    await merge_clients(survivor_id, merged_id, actor=user, take=take)
    await flash(request, gettext_for(request, N_("Clients merged")))
    return redirect(f"/clients/{survivor_id}")


@routes.post(r"/clients/{id:\d+}/merges/{record:\d+}/undo")
async def merge_undo(request: web.Request) -> web.StreamResponse:
    """Undo a merge into this client: the merged client comes back as it was."""
    user = _merger(request)
    survivor_id = forms.match_int(request.match_info["id"])
    record_id = forms.match_int(request.match_info["record"])
    if not await MergeRecord.filter(id=record_id, survivor_id=survivor_id).exists():
        return redirect(f"/clients/{survivor_id}")
    restored = await undo_merge(record_id, actor=user)
    await flash(request, gettext_for(request, N_("Merge undone")))
    return redirect(f"/clients/{restored.id}")


async def merges_into(client_id: int) -> list[MergeRecord]:
    """The merges into this client that can still be undone, newest first (the card)."""
    return (
        await MergeRecord.filter(survivor_id=client_id, undone_at__isnull=True)
        .order_by("-id")
        .prefetch_related("merged", "actor")
    )
