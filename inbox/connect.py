"""Connecting a channel: check the credentials with the platform, store the channel, and
point the platform's webhook at us. Shared by `crmhub channel add` and the admin panel.

Refused before anything is stored or asked: webhook mode for Telegram or VK without
CRMHUB_PUBLIC_URL (nobody could call the webhook: the message says what to set), and a
mailbox whose settings are unusable (e.g. no encryption to another machine), also with
`check=False`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm.channels import create_channel, get_channel
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import Channel, ChannelKind, User, Visibility
from inbox.channels.base import ChannelConfig
from inbox.channels.email_settings import mailbox_config
from inbox.channels.registry import build_from_config, config_of
from inbox.service import polling_mode

WEBHOOK_NEEDS_PUBLIC_URL = N_(
    "Webhook mode needs the public https address crmhub is reachable at: set "
    "CRMHUB_PUBLIC_URL (e.g. https://crm.example.com) and restart, or use polling mode"
)
KINDS_WITH_MODES = (ChannelKind.TELEGRAM, ChannelKind.VK)


def needs_public_url(channel: Channel, public_url: str) -> bool:
    """In webhook mode (Telegram, VK) or Viber, which has no other, without a public URL:
    the platform has no address to call, and nothing arrives."""
    if public_url or polling_mode(channel, public_url):
        return False
    return channel.kind in (*KINDS_WITH_MODES, ChannelKind.VIBER)


@dataclass(frozen=True)
class Connected:
    channel: Channel
    description: str  # what the platform says the account is (bot name, community, mailbox)
    webhook_url: str | None  # set when the platform was pointed at us


def webhook_url(public_url: str, channel: Channel) -> str:
    return f"{public_url.rstrip('/')}/webhooks/{channel.kind.value}/{channel.id}"


async def check_config(config: ChannelConfig) -> str:
    adapter = build_from_config(config)
    try:
        return await adapter.check()
    finally:
        await adapter.close()


async def connect(
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
    public_url: str = "",
    check: bool = True,
    actor: User | None,
) -> Connected:
    """Check first (nothing is stored when the platform refuses), then store and hook up."""
    fields: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "credentials": credentials,
        "settings": settings,
        "api_base": api_base,
        "visibility": visibility,
        "visible_user_ids": list(visible_user_ids),
        "responsible_id": responsible_id,
        "default_scenario_id": default_scenario_id,
        "actor": actor,
    }
    draft = await create_channel(**fields, validate_only=True)
    if draft.kind in KINDS_WITH_MODES and needs_public_url(draft, public_url):
        raise ValidationFailed.field("mode", WEBHOOK_NEEDS_PUBLIC_URL)
    if draft.kind == ChannelKind.EMAIL:
        mailbox_config(config_of(draft))  # refuses unusable settings even without a check
    description = await check_config(config_of(draft)) if check else ""
    # Stored with the draft's credentials: the webhook secret it generated stays the same.
    channel = await create_channel(**{**fields, "credentials": draft.credentials})
    try:
        hooked = await hook(channel, public_url)
    except BaseException:
        await channel.delete()  # half-connected is worse than not connected: try again
        raise
    return Connected(channel, description, hooked)


async def hook(channel: Channel, public_url: str) -> str | None:
    """Point Telegram or Viber at our webhook when we have a public URL."""
    if not public_url or polling_mode(channel, public_url):
        return None
    if channel.kind not in (ChannelKind.TELEGRAM, ChannelKind.VIBER):
        return None  # VK: the admin enters the URL in the community settings
    url = webhook_url(public_url, channel)
    adapter = build_from_config(config_of(channel))
    try:
        await adapter.set_webhook(url)
    finally:
        await adapter.close()
    return url


async def check_channel(channel_id: int, public_url: str = "") -> str:
    """Ask the platform again; a channel on a webhook is pointed at it again, so one
    connected before a change of what it subscribes to (Telegram's `my_chat_member`)
    gets the new list."""
    channel = await get_channel(channel_id)
    description = await check_config(config_of(channel))
    await hook(channel, public_url)
    return description
