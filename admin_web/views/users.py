"""Users: invite managers (bot link and code), roles, time zone and language, deactivate,
and hand a leaving manager's work over to another."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from admin_web import forms
from admin_web.auth import log_in, require_admin
from admin_web.keys import SETTINGS, STATE
from admin_web.render import flash, gettext_for, redirect, render
from crm import clock, sessions, users
from crm.handover import hand_over, workload
from crm.i18n import N_
from crm.models import Invite, Role, User

routes = web.RouteTableDef()
log = logging.getLogger(__name__)
ROLE_NAMES = {
    Role.ADMIN: N_("Administrator"),
    Role.HEAD: N_("Head of sales"),
    Role.MANAGER: N_("Manager"),
}


async def bot_username(app: web.Application) -> str | None:
    """The manager bot's @username (asked from Telegram once), for invite links."""
    state, settings = app[STATE], app[SETTINGS]
    if state.bot_username or not settings.manager_bot_token:
        return state.bot_username
    url = f"{settings.telegram_api_base.rstrip('/')}/bot{settings.manager_bot_token}/getMe"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(url) as resp,
        ):
            data = await resp.json(content_type=None)
        if isinstance(data, dict) and data.get("ok"):
            state.bot_username = str(data["result"]["username"])
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
        log.warning("could not ask Telegram for the manager bot's username")
    return state.bot_username


def _roles(request: web.Request) -> list[tuple[str, str]]:
    return [(role.value, gettext_for(request, name)) for role, name in ROLE_NAMES.items()]


@routes.get("/users")
async def users_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    people = await User.all().order_by("-is_active", "full_name")
    return await render(request, "users.html", {"people": people, "roles": _roles(request)})


@routes.post("/users")
async def user_invite(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    user = await users.create_user(
        email=forms.text(form, "email"),
        full_name=forms.text(form, "full_name"),
        role=_role(forms.text(form, "role", "manager")),
        phone=forms.text(form, "phone") or None,
        locale=forms.text(form, "locale", "ru"),
        timezone=forms.text(form, "timezone") or "Europe/Moscow",
        actor=admin,
    )
    await users.create_invite(user.id, actor=admin)
    await flash(
        request,
        gettext_for(
            request, N_("{name} is invited: send them the link below"), name=user.full_name
        ),
    )
    return redirect(f"/users/{user.id}")


def _role(value: str) -> Role:
    from crm.errors import ValidationFailed

    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed.field("role", N_("Unknown choice")) from None


async def _user(request: web.Request) -> User:
    return await users.get_user(forms.match_int(request.match_info["id"]))


@routes.get(r"/users/{id:\d+}")
async def user_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    person = await _user(request)
    invite = (
        await Invite.filter(user_id=person.id, used_at__isnull=True, expires_at__gt=clock.now())
        .order_by("-id")
        .first()
    )
    username = await bot_username(request.app) if invite else None
    link = f"https://t.me/{username}?start={invite.code}" if invite and username else None
    others = await User.filter(is_active=True).exclude(id=person.id).order_by("full_name")
    return await render(
        request,
        "user.html",
        {
            "person": person,
            "invite": invite,
            "link": link,
            "roles": _roles(request),
            "others": others,
            "load": await workload(person.id),
            "sessions": await sessions.live_sessions(person.id),
        },
    )


@routes.post(r"/users/{id:\d+}")
async def user_edit(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    person = await _user(request)
    form = await request.post()
    changes: dict[str, object] = {
        "full_name": forms.text(form, "full_name"),
        "locale": forms.text(form, "locale"),
        "timezone": forms.text(form, "timezone"),
    }
    if person.id != admin.id:  # an admin cannot demote themselves by accident
        changes["role"] = _role(forms.text(form, "role"))
    password = str(form.get("password", ""))
    if password:  # ends the user's sessions (crm.users)
        changes["password"] = password
    await users.update_user(person.id, changes, actor=admin)
    if password and person.id == admin.id:  # this browser goes on, the others ask again
        await log_in(request, admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/users/{person.id}")


@routes.post(r"/users/{id:\d+}/invite")
async def user_new_invite(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    person = await _user(request)
    await users.create_invite(person.id, actor=admin)
    await flash(request, gettext_for(request, N_("A new invite code is ready")))
    return redirect(f"/users/{person.id}")


@routes.post(r"/users/{id:\d+}/deactivate")
async def user_deactivate(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    person = await _user(request)
    await users.deactivate_user(person.id, actor=admin)
    await flash(
        request, gettext_for(request, N_("{name} can no longer log in"), name=person.full_name)
    )
    return redirect(f"/users/{person.id}")


@routes.post(r"/users/{id:\d+}/sessions/end")
async def user_end_sessions(request: web.Request) -> web.StreamResponse:
    """Every browser logged in as the user asks for the password again (this one too, when
    the admin ends their own)."""
    admin = require_admin(request)
    person = await _user(request)
    await sessions.end_sessions(person.id, actor=admin)
    if person.id == admin.id:
        return redirect("/login")
    await flash(
        request,
        gettext_for(request, N_("{name} is logged out everywhere"), name=person.full_name),
    )
    return redirect(f"/users/{person.id}")


@routes.post(r"/users/{id:\d+}/handover")
async def user_handover(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    person = await _user(request)
    form = await request.post()
    target = forms.integer(form, "to_user_id")
    assert target is not None
    done = await hand_over(person.id, target, actor=admin)
    await flash(
        request,
        gettext_for(
            request,
            N_(
                "Handed over: {clients} clients, {interests} interests, "
                "{interactions} planned interactions"
            ),
            clients=done.clients,
            interests=done.interests,
            interactions=done.interactions,
        ),
    )
    return redirect(f"/users/{person.id}")
