"""A phone a Viber customer shares is suggested on the client card and added by one click;
it never finds or merges a client on its own."""

from __future__ import annotations

import json

from crm.models import ChangeRecord, Channel, ChannelKind, Client, ClientContact, User
from inbox import hub
from inbox.channels.base import ChannelConfig
from inbox.channels.viber import ViberAdapter
from tests.admin_web.conftest import Browser
from tests.crm import factories
from tests.fakes.base import load_fixture

SHARED = "+79031234567"  # the fixture's contact: "Сергей Иванов"


async def viber_contact_arrives(phone: str = SHARED, token: int = 5741311803571721094) -> Client:
    channel = await Channel.create(
        kind=ChannelKind.VIBER, name="Viber", credentials={"token": "t"}, settings={}
    )
    adapter = ViberAdapter(ChannelConfig(channel.id, "viber", {"token": "t"}, {}))
    event = load_fixture("viber", "message_contact")
    event["message"]["contact"]["phone_number"] = phone
    event["message_token"] = token
    (parsed,) = adapter.parse(json.dumps(event).encode())
    await hub.ingest(channel, parsed)
    await adapter.close()
    return await Client.get(name="Ольга Петрова")


async def test_a_shared_phone_is_suggested_and_added_with_one_click(
    as_manager: Browser, manager: User, admin: User
) -> None:
    await factories.scenario()
    other = await factories.client(admin, name="Сергей Иванов", phones=[SHARED])
    client = await viber_contact_arrives()
    # Never used for matching: the sender stays their own lead, nobody is merged.
    assert client.id != other.id and client.merged_into_id is None  # type: ignore[attr-defined]
    assert (await Client.get(id=other.id)).merged_into_id is None  # type: ignore[attr-defined]
    assert not await ClientContact.filter(client_id=client.id).exists()
    await Client.filter(id=client.id).update(responsible_id=manager.id)

    _status, text = await as_manager.get(f"/clients/{client.id}")
    assert f'data-suggested-phone="{SHARED}"' in text and "Сергей Иванов" in text
    forged = await as_manager.post_raw(
        f"/clients/{client.id}/phones/suggested", data={"phone": SHARED}
    )
    assert forged.status == 403  # no CSRF token: refused
    _status, text = await as_manager.post(
        f"/clients/{client.id}/phones/suggested", {"phone": "+7 916 000-00-00"}
    )
    assert "not among the client" in text
    assert not await ClientContact.filter(client_id=client.id).exists()
    _status, text = await as_manager.post(
        f"/clients/{client.id}/phones/suggested", {"phone": SHARED}
    )
    assert f"Phone {SHARED} added" in text
    assert f'data-suggested-phone="{SHARED}"' not in text  # it is the client's now
    phones = await ClientContact.filter(client_id=client.id).values_list("value", flat=True)
    assert phones == [SHARED]
    assert await ChangeRecord.filter(entity_id=client.id, field="phones").exists()


async def test_no_suggestion_for_what_a_manager_may_not_see(
    as_manager: Browser, admin: User
) -> None:
    await factories.scenario()
    client = await viber_contact_arrives()
    await Client.filter(id=client.id).update(responsible_id=admin.id)
    status, _text = await as_manager.get(f"/clients/{client.id}")
    assert status == 404
    _status, _text = await as_manager.post(
        f"/clients/{client.id}/phones/suggested", {"phone": SHARED}
    )
    assert not await ClientContact.filter(client_id=client.id).exists()
