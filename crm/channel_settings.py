"""Changing a connected channel after the fact: name, default scenario, who sees it; and
deleting one that never carried a conversation (others are disabled instead)."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.transactions import in_transaction

from crm.channels import check_name_length, get_channel
from crm.errors import Conflict, PermissionDenied, ValidationFailed
from crm.i18n import N_, Text
from crm.models import Channel, Conversation, Scenario, User, Visibility


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


async def update_channel(
    channel_id: int,
    *,
    name: str,
    default_scenario_id: int | None,
    visibility: Visibility | str,
    responsible_id: int | None = None,
    visible_user_ids: Iterable[int] = (),
    actor: User | None,
) -> Channel:
    _require_admin(actor)
    channel = await get_channel(channel_id)
    errors: dict[str, str | Text] = {}
    if not name.strip():
        errors["name"] = N_("Required")
    else:
        try:
            check_name_length(name)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    try:
        vis = Visibility(visibility)
    except ValueError:
        errors["visibility"] = N_("Unknown choice")
        vis = Visibility.ALL
    if (
        default_scenario_id is not None
        and not await Scenario.filter(id=default_scenario_id, is_active=True).exists()
    ):
        errors["default_scenario_id"] = N_("Unknown choice")
    if (
        responsible_id is not None
        and not await User.filter(id=responsible_id, is_active=True).exists()
    ):
        errors["responsible_id"] = N_("Unknown user")
    if vis == Visibility.USER and responsible_id is None:
        errors["responsible_id"] = N_("Required")
    users = await User.filter(id__in=list(visible_user_ids), is_active=True)
    if vis == Visibility.USERS and not users:
        errors["visible_user_ids"] = N_("Choose at least one user")
    if errors:
        raise ValidationFailed(fields=errors)
    async with in_transaction():
        channel.name = name.strip()
        channel.default_scenario_id = default_scenario_id
        channel.visibility = vis
        channel.responsible_id = responsible_id
        await channel.save()
        await channel.visible_users.clear()
        if vis == Visibility.USERS:
            await channel.visible_users.add(*users)
    return channel


async def delete_channel(channel_id: int, *, actor: User | None) -> None:
    """Delete a channel nobody has written to; one with conversations keeps its history
    and can only be disabled."""
    _require_admin(actor)
    channel = await get_channel(channel_id)
    if await Conversation.filter(channel_id=channel.id).exists():
        raise Conflict(
            N_("The channel has conversations: disable it instead of deleting it"),
            code="channel_in_use",
        )
    await channel.delete()
