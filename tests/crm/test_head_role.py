"""The head of sales (руководитель): sees every client, deal and conversation; changes no
settings, channels, users or API keys."""

from __future__ import annotations

import pytest

from crm import access, apikeys, channels, company, conversations, deals, scenarios, users
from crm.errors import NotFound, PermissionDenied
from crm.models import (
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Role,
    User,
    Visibility,
)
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def head() -> User:
    return await users.create_user(
        email="head@example.com", full_name="Руководитель", role=Role.HEAD, actor=None
    )


async def test_head_sees_every_client_deal_and_conversation() -> None:
    boss, seller, other = await head(), await f.manager(), await f.manager()
    await f.scenario()
    client = await f.client(seller, name="ООО Чужой")
    interest = await deals.create_interest(actor=seller, client_id=client.id, title="Поставка")
    channel = await channels.create_channel(
        kind=ChannelKind.TELEGRAM,
        name="Бот",
        credentials={"token": "1:x"},
        visibility=Visibility.USER,
        responsible_id=seller.id,
        actor=None,
    )
    identity = await ChannelIdentity.create(channel=channel, external_id="1", client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)

    assert (await access.access_client(boss, client.id)).id == client.id
    assert (await access.access_interest(boss, interest.id)).id == interest.id
    assert (await access.access_conversation(boss, conversation.id)).id == conversation.id
    assert [c.id for c in await conversations.conversations_of(boss)] == [conversation.id]
    assert boss.id in {u.id for u in await channels.channel_audience(channel)}
    # another manager still sees nothing of it
    with pytest.raises(NotFound):
        await access.access_client(other, client.id)
    with pytest.raises(NotFound):
        await access.access_interest(other, interest.id)
    assert other.id not in {u.id for u in await channels.channel_audience(channel)}


async def test_head_changes_no_settings_channels_users_or_keys() -> None:
    boss, seller = await head(), await f.manager()
    with pytest.raises(PermissionDenied):
        await company.update_company({"name": "X"}, actor=boss)
    with pytest.raises(PermissionDenied):
        await users.create_user(email="n@x.ru", full_name="N", actor=boss)
    with pytest.raises(PermissionDenied):
        await users.update_user(seller.id, {"role": "admin"}, actor=boss)
    with pytest.raises(PermissionDenied):
        await apikeys.create_key("k", boss.id, actor=boss)
    with pytest.raises(PermissionDenied):
        await channels.create_channel(
            kind=ChannelKind.TELEGRAM, name="B", credentials={"token": "1:x"}, actor=boss
        )
    with pytest.raises(PermissionDenied):
        await scenarios.create_scenario("Продажа", ["Первый"], actor=boss)
    assert (await User.get(id=seller.id)).role == Role.MANAGER
    assert boss.sees_everything and not boss.is_admin
