"""From a `Channel` row to its adapter, one live adapter per channel (sessions reused)."""

from __future__ import annotations

import importlib
from typing import Any

from crm.models import Channel, ChannelKind
from inbox.channels.base import ChannelAdapter, ChannelConfig
from inbox.media import MediaLinks

CLASSES = {
    ChannelKind.TELEGRAM: ("inbox.channels.telegram", "TelegramAdapter"),
    ChannelKind.VK: ("inbox.channels.vk", "VkAdapter"),
    ChannelKind.VIBER: ("inbox.channels.viber", "ViberAdapter"),
    ChannelKind.EMAIL: ("inbox.channels.email", "EmailAdapter"),
}

# Adapters whose send is idempotent on the platform's side (VK dedups by random_id): a send
# interrupted by a crash may be repeated safely. Others are dead-lettered for a human instead.
IDEMPOTENT = {ChannelKind.VK}


def config_of(channel: Channel, media: MediaLinks | None = None) -> ChannelConfig:
    return ChannelConfig(
        id=channel.id,
        kind=channel.kind.value,
        credentials=dict(channel.credentials),
        settings=dict(channel.settings),
        api_base=channel.api_base,
        media=media,
    )


def preload(kinds: set[ChannelKind]) -> None:
    """Import the adapters in use before serving: aiogram alone takes seconds to import,
    which the first webhook must not wait for."""
    for kind in kinds:
        importlib.import_module(CLASSES[kind][0])


def build_from_config(config: ChannelConfig) -> ChannelAdapter:
    module, name = CLASSES[ChannelKind(config.kind)]
    cls: Any = getattr(importlib.import_module(module), name)
    adapter: ChannelAdapter = cls(config)
    return adapter


def build(channel: Channel, media: MediaLinks | None = None) -> ChannelAdapter:
    return build_from_config(config_of(channel, media))


class Adapters:
    """Live adapters by channel; rebuilt when the channel row changes. `media` makes the
    links to reply files for the adapters that send files by URL."""

    def __init__(self, media: MediaLinks | None = None) -> None:
        self.media = media
        self._live: dict[int, tuple[object, ChannelAdapter]] = {}

    async def get(self, channel: Channel) -> ChannelAdapter:
        version = (channel.updated_at, channel.api_base)
        live = self._live.get(channel.id)
        if live is not None and live[0] == version:
            return live[1]
        if live is not None:
            await live[1].close()
        adapter = build(channel, self.media)
        self._live[channel.id] = (version, adapter)
        return adapter

    async def close(self) -> None:
        live, self._live = self._live, {}
        for _, adapter in live.values():
            await adapter.close()
