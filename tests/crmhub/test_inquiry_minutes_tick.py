"""`crmhub run` settles the inquiries' kept figures every minute where the worker runs
(crm.reports.kept_minutes), so a report finds little left to count."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import clock, db
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Direction,
    Inquiry,
    Message,
    MessageStatus,
)
from crmhub import runtime
from tests.crm import factories as f
from tests.crmhub.ticks import serve_until_tick


async def _inquiry_with_reply(url: str) -> None:
    """An inquiry and a person's reply to it, neither counted yet."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        admin = await f.admin()
        client = await f.client(admin)
        channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="T", credentials={})
        identity = await ChannelIdentity.create(channel=channel, external_id="1", client=client)
        conversation = await Conversation.create(
            channel=channel, identity=identity, client=client, last_message_at=clock.now()
        )
        await Inquiry.create(
            conversation=conversation,
            client=client,
            channel=channel,
            first_message_at=clock.now(),
        )
        await Message.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.OUT,
            text="Здравствуйте",
            status=MessageStatus.QUEUED,
            author=admin,
        )
        await ctx.close_connections()


async def _unsettled(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        count = await Inquiry.filter(first_reply_at__isnull=True).count()
        await ctx.close_connections()
    return count


@pytest.mark.parametrize("role", ["web", "worker"])
async def test_the_worker_settles_the_inquiries_figures(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path / 'crmhub.sqlite3'}"
    async with TortoiseContext():
        await db.migrate(url)
        await db.close()
    await _inquiry_with_reply(url)
    assert await _unsettled(url) == 1
    registered, results = await serve_until_tick(
        "inquiry-minutes", url=url, data_dir=tmp_path, role=role, monkeypatch=monkeypatch
    )
    if role == "web":
        assert "inquiry-minutes" not in registered and await _unsettled(url) == 1
    else:
        assert registered["inquiry-minutes"][1] == runtime.KEPT_MINUTES_TICK
        assert results == [1]  # the inquiry, counted with its first reply
        assert await _unsettled(url) == 0
