"""/api/v1: keys, clients, fields, interests, interactions, conversations, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from crm import fields, scenarios
from crm.apikeys import create_key
from crm.models import (
    ApiKey,
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    Conversation,
    Direction,
    Interaction,
    Message,
    MessageStatus,
    Reason,
    ReasonKind,
    Role,
    User,
)
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


class Api:
    def __init__(self, client: TestClient[Any, Any], key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}

    async def call(self, method: str, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        resp = await self.client.request(
            method, "/api/v1" + path, json=json, headers=self.headers, **kw
        )
        if resp.status == 204:
            return 204, None
        assert resp.content_type == "application/json", await resp.text()
        return resp.status, await resp.json()


@pytest.fixture
async def api(browser: Browser, admin: User) -> Api:
    _, key = await create_key("tests", admin.id, actor=admin)
    return Api(browser.client, key)


@pytest.fixture
async def manager_api(browser: Browser, manager: User) -> Api:
    _, key = await create_key("manager", manager.id, actor=None)
    return Api(browser.client, key)


async def test_openapi_document(browser: Browser) -> None:
    resp = await browser.client.get("/api/v1/openapi.json")
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/clients",
        "/clients/{id}",
        "/interests/{id}/move",
        "/conversations/{id}/messages",
    } <= set(doc["paths"])
    error = doc["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"validation_failed", "duplicate"} <= set(error["code"]["enum"])


async def test_keys_are_required_and_revocable(
    browser: Browser, as_admin: Browser, admin: User
) -> None:
    resp = await browser.client.get("/api/v1/clients")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"
    resp = await browser.client.get("/api/v1/clients", headers={"Authorization": "Bearer crm_nope"})
    assert resp.status == 401
    # created in the panel, shown once
    await as_admin.get("/api-keys")
    status, text = await as_admin.post("/api-keys", {"name": "Сайт", "user_id": str(admin.id)})
    key = text.split('<code class="mono">', 1)[1].split("<", 1)[0]
    assert key.startswith("crm_")
    api = Api(browser.client, key)
    status, body = await api.call("GET", "/clients")
    assert status == 200 and body["items"] == []
    _, text = await as_admin.get("/api-keys")
    assert key not in text
    row = await ApiKey.get(name="Сайт")
    await as_admin.post(f"/api-keys/{row.id}/revoke")
    status, body = await api.call("GET", "/clients")
    assert status == 401


async def test_clients_crud_search_and_custom_fields(api: Api, admin: User) -> None:
    loyalty = await fields.create_field(
        name="Loyalty", type="list", options=["Gold", "Silver"], actor=None
    )
    status, body = await api.call(
        "POST",
        "/clients",
        {
            "kind": "legal",
            "name": "ООО Альфа",
            "inn": "7707083893",
            "phones": ["8 916 123-45-67"],
            "emails": ["Info@Alfa.ru"],
            "tags": ["VIP"],
            "custom": {str(loyalty.id): "Gold"},
        },
    )
    assert status == 201, body
    client_id = body["id"]
    assert body["phones"] == ["+79161234567"] and body["emails"] == ["info@alfa.ru"]
    assert body["custom"] == [{"field_id": loyalty.id, "name": "Loyalty", "value": "Gold"}]
    status, body = await api.call(
        "PATCH",
        f"/clients/{client_id}",
        {"name": "ООО Альфа-2", "custom": {str(loyalty.id): "Silver"}},
    )
    assert (
        status == 200 and body["name"] == "ООО Альфа-2" and body["custom"][0]["value"] == "Silver"
    )
    status, body = await api.call("GET", "/clients?q=7707083893")
    assert [c["id"] for c in body["items"]] == [client_id]
    # a page's contacts and tags, read for the whole page at once, as the client's own
    listed = body["items"][0]
    assert listed["phones"] == ["+79161234567"] and listed["emails"] == ["info@alfa.ru"]
    assert listed["tags"] == ["VIP"]
    status, body = await api.call("GET", "/clients?per_page=1&page=2")
    assert body == {
        "items": [],
        "page": 2,
        "per_page": 1,
        "has_more": False,
        "next_after": None,
    }
    status, body = await api.call("GET", "/fields")
    assert body["items"][0]["options"] == ["Gold", "Silver"]
    status, body = await api.call("GET", f"/clients/{client_id}")
    assert body["tags"] == ["VIP"]
    status, _ = await api.call("DELETE", f"/clients/{client_id}")
    assert status == 204
    status, body = await api.call("GET", f"/clients/{client_id}")
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_client_validation_errors_write_nothing(api: Api) -> None:
    for payload, field in (
        ({"name": "X", "inn": "123", "kind": "legal"}, "inn"),
        ({"name": ""}, "name"),
        ({"name": "X", "phones": "not a list"}, "phones"),
        ({"name": "X", "phones": ["not a phone"]}, "phones"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "custom": {"999": "x"}}, "field_999"),
        ({"name": "X\x00"}, "name"),
    ):
        status, body = await api.call("POST", "/clients", payload)
        assert status == 422, payload
        assert body["error"]["code"] in ("validation_failed", "invalid_inn")
        assert field in body["error"]["fields"], (payload, body)
    resp = await api.client.post("/api/v1/clients", data=b"{not json", headers=api.headers)
    assert resp.status == 422 and "body" in (await resp.json())["error"]["fields"]
    status, body = await api.call("GET", "/clients?page=0")
    assert status == 422
    assert not await Client.exists()
    status, body = await api.call("GET", "/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call("PUT", "/clients")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


async def test_manager_key_sees_only_own_clients(
    manager_api: Api, admin: User, manager: User
) -> None:
    theirs = await factories.client(await make_user(Role.MANAGER), name="Чужой")
    mine = await factories.client(manager, name="Мой")
    status, body = await manager_api.call("GET", "/clients")
    assert [c["name"] for c in body["items"]] == ["Мой"]
    status, body = await manager_api.call("GET", f"/clients/{theirs.id}")
    assert status == 404
    status, body = await manager_api.call("PATCH", f"/clients/{theirs.id}", {"name": "Взлом"})
    assert status == 404
    status, body = await manager_api.call("DELETE", f"/clients/{mine.id}")
    assert status == 403 and body["error"]["code"] == "permission_denied"
    assert (await Client.get(id=theirs.id)).name == "Чужой"
    assert await Client.filter(id=mine.id).exists()


async def test_interests_and_interactions(api: Api, admin: User) -> None:
    scenario = await factories.scenario(require_next_step=True)
    stages = await scenarios.stages_of(scenario.id)
    client = await factories.client(admin)
    reason = await Reason.create(kind=ReasonKind.LOSS, text="Дорого")
    status, body = await api.call(
        "POST", "/interests", {"client_id": client.id, "title": "Поставка", "amount": "1500.50"}
    )
    assert status == 201 and body["stage_id"] == stages[0].id and body["amount"] == "1500.5"
    interest_id = body["id"]
    status, body = await api.call(
        "POST", f"/interests/{interest_id}/move", {"stage_id": stages[1].id}
    )
    assert status == 409 and body["error"]["code"] == "next_step_required"
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    status, body = await api.call(
        "POST",
        "/interactions",
        {"interest_id": interest_id, "kind": "call", "planned_at": later, "subject": "Позвонить"},
    )
    assert status == 201
    call_id = body["id"]
    status, body = await api.call(
        "POST", f"/interests/{interest_id}/move", {"stage_id": stages[1].id}
    )
    assert status == 200 and body["stage_id"] == stages[1].id
    status, body = await api.call(
        "POST",
        "/interactions",
        {"interest_id": interest_id, "kind": "call", "planned_at": "2026-01-01T10:00"},
    )
    assert status == 422 and "planned_at" in body["error"]["fields"]
    status, body = await api.call(
        "POST", f"/interactions/{call_id}/complete", {"result": "Договорились"}
    )
    assert status == 409 and body["error"]["code"] == "next_step_required"
    status, body = await api.call(
        "POST",
        f"/interactions/{call_id}/complete",
        {"result": "ok", "next": {"kind": "meeting", "planned_at": later}},
    )
    assert status == 200 and body["done"]["state"] == "done" and body["next"]["kind"] == "meeting"
    status, body = await api.call("POST", f"/interactions/{body['next']['id']}/cancel")
    assert status == 200 and body["state"] == "cancelled"
    status, body = await api.call("GET", f"/interactions?interest_id={interest_id}")
    assert len(body["items"]) == 2
    status, body = await api.call("GET", "/interactions")
    assert status == 422
    status, body = await api.call("POST", f"/interests/{interest_id}/lose", {"reason_id": 999})
    assert status == 422
    status, body = await api.call(
        "POST", f"/interests/{interest_id}/lose", {"reason_id": reason.id}
    )
    assert status == 200 and body["status"] == "lost"
    status, body = await api.call("POST", f"/interests/{interest_id}/win")
    assert status == 409
    status, body = await api.call("GET", "/interests?status=lost")
    assert [i["id"] for i in body["items"]] == [interest_id]
    status, body = await api.call("GET", f"/interests/{interest_id}")
    assert body["loss_reason_id"] == reason.id
    assert await Interaction.all().count() == 2


async def test_conversations_read_and_send(
    api: Api, manager_api: Api, admin: User, manager: User
) -> None:
    client = await factories.client(admin, name="Покупатель")
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="7", client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)
    await Message.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.IN,
        text="Здравствуйте",
        source_id="1",
        status=MessageStatus.RECEIVED,
    )
    status, body = await api.call("GET", "/conversations")
    assert [c["id"] for c in body["items"]] == [conversation.id]
    status, body = await api.call("GET", f"/conversations/{conversation.id}/messages")
    assert [m["text"] for m in body["items"]] == ["Здравствуйте"]
    status, body = await api.call(
        "POST", f"/conversations/{conversation.id}/messages", {"text": "Добрый день!"}
    )
    assert status == 201 and body["status"] == "queued" and body["direction"] == "out"
    status, body = await api.call(
        "POST", f"/conversations/{conversation.id}/messages", {"text": ""}
    )
    assert status == 422
    # another manager's client: invisible
    client.responsible_id = (await make_user(Role.MANAGER)).id  # type: ignore[attr-defined]
    await client.save()
    status, body = await manager_api.call(
        "POST", f"/conversations/{conversation.id}/messages", {"text": "x"}
    )
    assert status == 404
    assert await Message.filter(direction=Direction.OUT).count() == 1


SUPERSCRIPT_TWO = "\u00b2"  # '²'.isdigit() is True, int('²') raises ValueError


async def test_odd_digits_in_queries_and_custom_keys_are_refused(api: Api, admin: User) -> None:
    client = await factories.client(admin)
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="7", client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)
    for path, field in (
        (f"/clients?page={SUPERSCRIPT_TWO}", "page"),
        (f"/clients?per_page={SUPERSCRIPT_TWO}", "per_page"),
        ("/clients?page=" + "9" * 5000, "page"),
        (f"/clients?tag_id={SUPERSCRIPT_TWO}", "tag_id"),
        (f"/clients?responsible_id={SUPERSCRIPT_TWO}", "responsible_id"),
        ("/clients?tag_id=" + "1" * 5000, "tag_id"),
        (f"/interests?client_id={SUPERSCRIPT_TWO}", "client_id"),
        (f"/interactions?client_id={SUPERSCRIPT_TWO}", "client_id"),
        (f"/interactions?interest_id={SUPERSCRIPT_TWO}", "interest_id"),
        (f"/conversations/{conversation.id}/messages?before_id={SUPERSCRIPT_TWO}", "before_id"),
    ):
        status, body = await api.call("GET", path)
        assert status == 422, path
        assert field in body["error"]["fields"], (path, body)
    for custom in ({SUPERSCRIPT_TWO: 1}, {"\u0661": 1}, {"1" * 5000: 1}):
        status, body = await api.call("POST", "/clients", {"name": "X", "custom": custom})
        assert status == 422 and "custom" in body["error"]["fields"], custom
        status, body = await api.call("PATCH", f"/clients/{client.id}", {"custom": custom})
        assert status == 422 and "custom" in body["error"]["fields"], custom
    status, _ = await api.call("GET", "/clients/" + "1" * 5000)
    assert status == 404
    assert await Client.all().count() == 1


async def test_unknown_kind_in_a_patch_is_an_unknown_choice(api: Api, admin: User) -> None:
    client = await factories.client(admin)
    status, body = await api.call("PATCH", f"/clients/{client.id}", {"kind": "bogus"})
    assert status == 422 and body["error"]["fields"] == {"kind": "Unknown choice"}
    status, body = await api.call("POST", "/clients", {"name": "X", "kind": "bogus"})
    assert status == 422 and body["error"]["fields"] == {"kind": "Unknown choice"}


async def test_lone_surrogates_are_refused_not_stored(api: Api, admin: User) -> None:
    """JSON can carry "\\ud800", a code point no UTF-8 text (so no database) holds."""
    client = await factories.client(admin)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for method, path, payload, field in (
        ("POST", "/clients", {"name": "X\ud800"}, "name"),
        ("POST", "/clients", {"name": "X", "note": "\udfff"}, "note"),
        ("POST", "/clients", {"name": "X", "tags": ["ok", "\ud800"]}, "tags"),
        ("POST", "/clients", {"name": "X", "custom": {"1": "\ud800"}}, "custom.1"),
        ("PATCH", f"/clients/{client.id}", {"region": "\ud800"}, "region"),
        (
            "POST",
            "/interactions",
            {"client_id": client.id, "kind": "call", "planned_at": later, "subject": "\ud800"},
            "subject",
        ),
    ):
        status, body = await api.call(method, path, payload)
        assert status == 422, payload
        assert body["error"]["fields"][field] == "The text contains invalid characters", body
    resp = await api.client.post(
        "/api/v1/clients", data=b'{"name": "X\\ud800"}', headers=api.headers
    )
    assert resp.status == 422
    status, body = await api.call("GET", "/clients?q=a%00b")
    assert status == 422 and "q" in body["error"]["fields"]
    status, body = await api.call("POST", "/clients", {"name": "X" * 301})
    assert body["error"]["fields"]["name"] == "Text of at most 300 characters expected"
    assert await Client.all().count() == 1
    assert not await Interaction.exists()


async def test_plans_name_a_real_user_a_sane_date_and_a_text_subject(api: Api, admin: User) -> None:
    client = await factories.client(admin)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    plan = {"client_id": client.id, "kind": "call", "planned_at": later}
    for changes, field in (
        ({"responsible_id": 99999}, "responsible_id"),
        ({"planned_at": "0001-01-01T00:05:00+00:00"}, "planned_at"),
        ({"planned_at": "9999-12-31T23:59:00-05:00"}, "planned_at"),
        ({"planned_at": "1899-12-31T23:59:00+00:00"}, "planned_at"),
        ({"planned_at": "2201-01-01T00:00:00+00:00"}, "planned_at"),
    ):
        status, body = await api.call("POST", "/interactions", {**plan, **changes})
        assert status == 422 and field in body["error"]["fields"], (changes, body)
    status, body = await api.call("POST", "/interactions", plan)
    assert status == 201
    call_id = body["id"]
    for nested, field in (
        ({"responsible_id": "abc"}, "next.responsible_id"),
        ({"responsible_id": 99999}, "responsible_id"),
        ({"subject": {"a": 1}}, "next.subject"),
        ({"subject": ["a"]}, "next.subject"),
        ({"subject": "\ud800"}, "next.subject"),
        ({"content": 5}, "next.content"),
        ({"planned_at": "0001-01-01T00:05:00+00:00"}, "planned_at"),
        ({"colour": "red"}, "next.colour"),
        ({"kind": None}, "next.kind"),
    ):
        next_plan = {"kind": "meeting", "planned_at": later, **nested}
        status, body = await api.call(
            "POST", f"/interactions/{call_id}/complete", {"next": next_plan}
        )
        assert status == 422 and field in body["error"]["fields"], (nested, body)
    assert await Interaction.all().count() == 1
    assert (await Interaction.get(id=call_id)).state.value == "planned"
    status, body = await api.call(
        "POST",
        f"/interactions/{call_id}/complete",
        {"next": {"kind": "meeting", "planned_at": later, "responsible_id": admin.id}},
    )
    assert status == 200 and body["next"]["responsible_id"] == admin.id
