"""/api/v1/mailings over HTTP: a draft with its preview, bad input refused with the reason
and nothing queued, the start, pause, resume and cancel; managers refused."""

from __future__ import annotations

from crm import channels
from crm.models import ChannelIdentity, Conversation, MailingRecipient, User
from tests.admin_web.test_api import Api, api, manager_api  # noqa: F401  (fixtures)
from tests.crm import factories


async def test_a_mailing_through_the_api(api: Api, admin: User) -> None:  # noqa: F811
    channel = await channels.create_channel(
        kind="telegram",
        name="Бот",
        credentials={"token": "1:abc"},
        actor=admin,
        api_base="http://127.0.0.1:9",
    )
    client = await factories.client(admin, "Ирина")
    identity = await ChannelIdentity.create(channel=channel, external_id="7", client=client)
    await Conversation.create(channel=channel, identity=identity, client=client)
    status, body = await api.call(
        "POST",
        "/mailings",
        {"name": "Акция", "text": "Привет, {client_nmae}", "client_ids": [client.id]},
    )
    assert status == 201 and body["status"] == "draft"
    assert "client_nmae" in body["preview"]["problems"]["text"]
    assert body["preview"]["recipients"] == 1 and body["preview"]["by_channel"]["telegram"]
    status, refused = await api.call("POST", f"/mailings/{body['id']}/start")
    assert status == 422 and "text" in refused["error"]["fields"]
    assert not await MailingRecipient.exists()
    status, past = await api.call(
        "POST",
        "/mailings",
        {
            "name": "Прошлое",
            "text": "Привет",
            "client_ids": [client.id],
            "send_on": "2020-01-01",
            "send_time": "10:00",
        },
    )
    assert "send_on" in past["preview"]["problems"]
    status, bad = await api.call(
        "POST", "/mailings", {"name": "x", "text": "y", "send_on": "2026-02-30"}
    )
    assert status == 422 and "send_on" in bad["error"]["fields"]
    status, good = await api.call(
        "POST",
        "/mailings",
        {
            "name": "Новости",
            "text": "Привет, {client_name}",
            "client_ids": [client.id],
            "kind": "info",
            "channel_mode": "telegram",
        },
    )
    status, started = await api.call("POST", f"/mailings/{good['id']}/start")
    assert status == 200 and started["status"] == "scheduled"
    assert started["results"]["total"] == 1 and started["results"]["states"] == {"queued": 1}
    status, _ = await api.call("POST", f"/mailings/{good['id']}/start")
    assert status == 409
    assert (await api.call("POST", f"/mailings/{good['id']}/pause"))[1]["status"] == "paused"
    assert (await api.call("POST", f"/mailings/{good['id']}/resume"))[1]["status"] == "scheduled"
    assert (await api.call("POST", f"/mailings/{good['id']}/cancel"))[1]["status"] == "cancelled"
    status, listing = await api.call("GET", "/mailings")
    assert status == 200 and listing["items"][0]["name"] == "Новости"
    status, one = await api.call("GET", f"/mailings/{good['id']}")
    assert one["results"]["states"] == {"cancelled": 1}


async def test_managers_are_refused(manager_api: Api) -> None:  # noqa: F811
    status, _ = await manager_api.call("GET", "/mailings")
    assert status == 403
