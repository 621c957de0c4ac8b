"""Connected channels: create, configure, and who may see them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.fields.relational import ManyToManyFieldInstance

from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import Channel, ChannelKind, Role, Scenario, User, Visibility

SECRET_KEYS = ("token", "password", "secret", "confirmation", "webhook_secret")


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


async def create_channel(
    *,
    kind: ChannelKind | str,
    name: str,
    credentials: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    api_base: str = "",
    visibility: Visibility | str = Visibility.ALL,
    visible_user_ids: Iterable[int] = (),
    responsible_id: int | None = None,
    default_scenario_id: int | None = None,
    actor: User | None,
    validate_only: bool = False,
) -> Channel:
    """Connect an account. A webhook secret is generated for channels that verify by one.
    With `validate_only` the channel is checked and returned unsaved (id 0)."""
    _require_admin(actor)
    try:
        channel_kind = ChannelKind(kind)
    except ValueError:
        raise ValidationFailed.field("kind", N_("Unknown choice")) from None
    try:
        vis = Visibility(visibility)
    except ValueError:
        raise ValidationFailed.field("visibility", N_("Unknown choice")) from None
    if not name.strip():
        raise ValidationFailed.field("name", N_("Required"))
    check_name_length(name)
    creds = {k: v for k, v in credentials.items() if v not in (None, "")}
    conf = {k: v for k, v in (settings or {}).items() if v not in (None, "")}
    required = {
        ChannelKind.TELEGRAM: ("token",),
        ChannelKind.VK: ("token", "secret", "confirmation", "group_id"),
        ChannelKind.VIBER: ("token",),
        ChannelKind.EMAIL: ("password", "address"),
    }[channel_kind]
    given = {**creds, **conf}
    missing = [k for k in required if not given.get(k)]
    if missing:
        raise ValidationFailed(fields={k: N_("Required") for k in missing})
    creds.setdefault("webhook_secret", secrets.token_urlsafe(24))
    users = await User.filter(id__in=list(visible_user_ids), is_active=True)
    if vis == Visibility.USERS and not users:
        raise ValidationFailed.field("visible_user_ids", N_("Choose at least one user"))
    if vis == Visibility.USER and responsible_id is None:
        raise ValidationFailed.field("responsible_id", N_("Required"))
    if responsible_id is not None and not await User.filter(id=responsible_id).exists():
        raise ValidationFailed.field("responsible_id", N_("Unknown user"))
    if (
        default_scenario_id is not None
        and not await Scenario.filter(id=default_scenario_id).exists()
    ):
        raise ValidationFailed.field("default_scenario_id", N_("Unknown choice"))
    channel = Channel(
        kind=channel_kind,
        name=name.strip(),
        credentials=creds,
        settings=conf,
        api_base=api_base.rstrip("/"),
        visibility=vis,
        responsible_id=responsible_id,
        default_scenario_id=default_scenario_id,
    )
    if validate_only:
        channel.id = 0
        return channel
    await channel.save()
    if users:
        await channel.visible_users.add(*users)
    return channel


def check_name_length(name: str) -> None:
    """A name longer than its column is refused with the limit, never cut."""
    limit = Channel._meta.fields_map["name"].max_length  # type: ignore[attr-defined]
    if len(name.strip()) > limit:
        raise ValidationFailed.field(
            "name", N_("Too long: at most {limit} characters"), limit=limit
        )


async def get_channel(channel_id: int) -> Channel:
    channel = await Channel.filter(id=channel_id).first()
    if channel is None:
        raise NotFound()
    return channel


def masked_credentials(channel: Channel) -> dict[str, Any]:
    """Credentials safe to show: secrets reduced to their last four characters."""
    shown: dict[str, Any] = {}
    for key, value in channel.credentials.items():
        if key in SECRET_KEYS and isinstance(value, str):
            shown[key] = "•" * 6 + value[-4:] if len(value) > 8 else "•" * 6
        else:
            shown[key] = value
    return shown


async def channel_filter(actor: User) -> Q:
    """Channels whose inbox the actor may see. No query of its own: the channels listed
    for the actor are a subquery of the caller's query."""
    if actor.sees_everything:
        return Q()
    listed = Channel.filter(visible_users__id=actor.id).values("id")
    return (
        Q(visibility=Visibility.ALL)
        | Q(visibility=Visibility.USER, responsible_id=actor.id)
        | Q(visibility=Visibility.USERS, id__in=Subquery(listed))
    )


def channel_condition(actor: User, alias: str, user_mark: str) -> str:
    """`channel_filter` for a read written in SQL: a condition on the channels row named
    `alias`, `user_mark` being the placeholder the caller binds to `actor.id`."""
    if actor.sees_everything:
        return "TRUE"
    through = Channel._meta.fields_map["visible_users"]
    assert isinstance(through, ManyToManyFieldInstance)
    return (
        f"({alias}.visibility = '{Visibility.ALL.value}'"
        f" OR ({alias}.visibility = '{Visibility.USER.value}'"
        f" AND {alias}.responsible_id = {user_mark})"
        f" OR ({alias}.visibility = '{Visibility.USERS.value}' AND EXISTS (SELECT 1"
        f" FROM {through.through} v WHERE v.{through.backward_key} = {alias}.id"
        f" AND v.{through.forward_key} = {user_mark})))"
    )


async def channel_audience(channel: Channel) -> list[User]:
    """The active managers, heads and admins who see this channel's inquiries."""
    if channel.visibility == Visibility.ALL:
        return await User.filter(is_active=True).order_by("id")
    if channel.visibility == Visibility.USER:
        return await User.filter(
            Q(id=channel.responsible_id) | Q(role__in=(Role.ADMIN, Role.HEAD)),  # type: ignore[attr-defined]
            is_active=True,
        ).order_by("id")
    listed = await channel.visible_users.filter(is_active=True)
    admins = await User.filter(role__in=(Role.ADMIN, Role.HEAD), is_active=True)
    return sorted({u.id: u for u in [*listed, *admins]}.values(), key=lambda u: u.id)


async def set_active(channel_id: int, active: bool, *, actor: User | None) -> Channel:
    _require_admin(actor)
    channel = await get_channel(channel_id)
    channel.is_active = active
    await channel.save(update_fields=["is_active", "updated_at"])
    return channel
