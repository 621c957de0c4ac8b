"""Who sees which channel and inquiry: `channel_filter` (now a subquery), `inquiry_filter`
and `open_inquiries` (one SQL read) keep the rule they had, on every kind of channel
visibility, with and without "clients visible to all"."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.models import Model

from crm import channels, company, inquiries
from crm.models import (
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Inquiry,
    InquiryStatus,
    User,
    Visibility,
)
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _fields(obj: Any, model: type[Model]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model._meta.fields_db_projection}


def _sees_channel(user: User, channel: Channel, listed: dict[int, set[int]]) -> bool:
    """The rule as channel_filter has always stated it."""
    return (
        user.is_admin
        or channel.visibility == Visibility.ALL
        or (channel.visibility == Visibility.USER and channel.responsible_id == user.id)  # type: ignore[attr-defined]
        or (channel.visibility == Visibility.USERS and user.id in listed[channel.id])
    )


async def _channel(n: int, visibility: str, **kw: Any) -> Channel:
    return await channels.create_channel(
        kind="telegram",
        name=f"Канал {n}",
        credentials={"token": f"{n}:x"},
        visibility=visibility,
        actor=None,
        **kw,
    )


async def _inquiry(channel: Channel, client: Client, n: int, status: InquiryStatus) -> Inquiry:
    identity = await ChannelIdentity.create(channel=channel, external_id=str(n), client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)
    return await Inquiry.create(
        conversation=conversation,
        client=client,
        channel=channel,
        status=status,
        # the same moment twice: the id orders them
        first_message_at=T0 + timedelta(minutes=n // 2),
    )


async def test_channels_and_inquiries_each_user_sees() -> None:
    admin = await f.admin()
    anna, boris, vera = await f.manager(), await f.manager(), await f.manager()
    people = [admin, anna, boris, vera]
    chans = [
        await _channel(1, "all"),
        await _channel(2, "user", responsible_id=anna.id),
        await _channel(3, "user", responsible_id=boris.id),
        await _channel(4, "users", visible_user_ids=[anna.id, vera.id]),
        await _channel(5, "users", visible_user_ids=[boris.id]),
    ]
    listed = {c.id: {u.id for u in await c.visible_users.all()} for c in chans}
    nobodys = await f.client(admin, name="Лид")
    clients = [nobodys, await f.client(anna, name="Анны"), await f.client(boris, name="Бориса")]
    n = itertools.count()
    for channel, client in itertools.product(chans, clients):
        await _inquiry(channel, client, next(n), InquiryStatus.OPEN)
    await _inquiry(chans[0], nobodys, next(n), InquiryStatus.ACCEPTED)
    await _inquiry(chans[1], nobodys, next(n), InquiryStatus.REJECTED)

    for visible_to_all in (False, True):
        await company.update_company({"clients_visible_to_all": visible_to_all}, actor=admin)
        for user in people:
            seen = await Channel.filter(await channels.channel_filter(user)).order_by("id")
            assert [c.id for c in seen] == [c.id for c in chans if _sees_channel(user, c, listed)]
            expected = [
                i
                for i in await Inquiry.filter(status=InquiryStatus.OPEN)
                .order_by("first_message_at", "id")
                .prefetch_related("client", "channel", "conversation")
                if _sees_channel(user, i.channel, listed)
                and (
                    user.is_admin or visible_to_all or i.client.responsible_id in (None, user.id)  # type: ignore[attr-defined]
                )
            ]
            assert expected  # everyone sees some, and (below) not all
            by_filter = await Inquiry.filter(
                await inquiries.inquiry_filter(user), status=InquiryStatus.OPEN
            ).order_by("first_message_at", "id")
            assert [i.id for i in by_filter] == [i.id for i in expected]
            found = await inquiries.open_inquiries(user)
            assert [_fields(i, Inquiry) for i in found] == [_fields(i, Inquiry) for i in expected]
            for got, want in zip(found, expected, strict=True):
                assert _fields(got.client, Client) == _fields(want.client, Client)
                assert _fields(got.channel, Channel) == _fields(want.channel, Channel)
                assert _fields(got.conversation, Conversation) == _fields(
                    want.conversation, Conversation
                )
            assert [i.id for i in await inquiries.open_inquiries(user, limit=2)] == [
                i.id for i in expected[:2]
            ]
        if not visible_to_all:
            # anna: not boris's only channel, nor boris's clients
            anna_sees = {i.id for i in await inquiries.open_inquiries(anna)}
            theirs = await Inquiry.filter(client_id=clients[2].id).values_list("id", flat=True)
            assert anna_sees and not anna_sees & set(theirs)  # type: ignore[arg-type]
            on_borises = await Inquiry.filter(channel_id__in=[chans[2].id, chans[4].id])
            assert not anna_sees & {i.id for i in on_borises}
