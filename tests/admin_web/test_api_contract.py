"""/api/v1 keeps its document's word: a twin by INN is refused as `duplicate` unless
`on_duplicate` says otherwise; ids are positive int32 (`tag_id=0` refused); a missing body
is a structured JSON error; other methods get 405 with `Allow`; and the document, built
from the same models, states those rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from aiohttp import web

from admin_web.api.declare import Api, Call
from admin_web.api.openapi import build
from crm.models import Client, User
from tests.admin_web.conftest import Browser
from tests.admin_web.test_api import Api as Keyed
from tests.admin_web.test_api import api, manager_api  # noqa: F401  (fixtures)
from tests.crm import factories

ALFA = {"kind": "legal", "name": "ООО Альфа", "inn": "7707083893", "note": "первая"}


async def test_a_known_inn_is_refused_as_a_duplicate_naming_the_client(api: Keyed) -> None:  # noqa: F811
    status, first = await api.call("POST", "/clients", ALFA)
    assert status == 201
    status, body = await api.call("POST", "/clients", {**ALFA, "name": "Альфа (ещё раз)"})
    assert status == 409, body
    assert body["error"]["code"] == "duplicate"
    assert body["error"]["client_id"] == first["id"]
    assert str(first["id"]) in body["error"]["message"]
    status, body = await api.call("POST", "/clients?on_duplicate=refuse", ALFA)
    assert status == 409
    assert await Client.all().count() == 1

    # update: the existing client takes the body's values
    status, body = await api.call(
        "POST", "/clients?on_duplicate=update", {**ALFA, "note": "обновлено", "tags": ["VIP"]}
    )
    assert status == 200, body
    assert body["id"] == first["id"] and body["note"] == "обновлено" and body["tags"] == ["VIP"]
    assert await Client.all().count() == 1

    # create: a twin on purpose
    status, body = await api.call("POST", "/clients?on_duplicate=create", ALFA)
    assert status == 201 and body["id"] != first["id"]
    assert await Client.filter(inn="7707083893").count() == 2

    status, body = await api.call("POST", "/clients?on_duplicate=merge", ALFA)
    assert status == 422 and "on_duplicate" in body["error"]["fields"]


async def test_a_branch_with_its_own_kpp_and_a_client_without_inn_are_not_twins(
    api: Keyed,  # noqa: F811
) -> None:
    status, _ = await api.call("POST", "/clients", {**ALFA, "kpp": "770701001"})
    assert status == 201
    status, body = await api.call("POST", "/clients", {**ALFA, "kpp": "771001001"})
    assert status == 201, body
    for _ in range(2):
        status, _ = await api.call("POST", "/clients", {"name": "Без ИНН"})
        assert status == 201


async def test_a_twin_the_key_cannot_see_is_refused_without_its_id(
    manager_api: Keyed,  # noqa: F811
    admin: User,
) -> None:
    theirs = await factories.client(admin, kind="legal", name="Чужая", inn="7707083893")
    status, body = await manager_api.call("POST", "/clients", ALFA)
    assert status == 409 and body["error"]["code"] == "duplicate"
    assert "client_id" not in body["error"] and str(theirs.id) not in body["error"]["message"]
    status, body = await manager_api.call("POST", "/clients?on_duplicate=update", ALFA)
    assert status == 409
    assert (await Client.get(id=theirs.id)).name == "Чужая"


async def test_ids_are_positive_int32_in_queries_and_bodies(api: Keyed, admin: User) -> None:  # noqa: F811
    client = await factories.client(admin)
    for query, field in (
        ("tag_id=0", "tag_id"),
        ("tag_id=-1", "tag_id"),
        ("responsible_id=2147483648", "responsible_id"),
        ("tag_id=1&tag_id=2", "tag_id"),
        ("per_page=201", "per_page"),
        ("kind=robot", "kind"),
    ):
        status, body = await api.call("GET", f"/clients?{query}")
        assert status == 422 and field in body["error"]["fields"], (query, body)
    status, body = await api.call("GET", "/clients?tag_id=1")
    assert status == 200
    for payload, field in (
        ({"client_id": 0, "title": "x"}, "client_id"),
        ({"client_id": True, "title": "x"}, "client_id"),
        ({"client_id": "5", "title": "x"}, "client_id"),
        ({"client_id": client.id, "title": "x", "amount": 10**14}, "amount"),
        ({"client_id": client.id, "title": "x", "amount": -1}, "amount"),
        ({"client_id": client.id, "title": "x", "amount": "1e5"}, "amount"),
        ({"client_id": client.id, "title": "   "}, "title"),
    ):
        status, body = await api.call("POST", "/interests", payload)
        assert status == 422 and field in body["error"]["fields"], (payload, body)


async def test_a_missing_body_is_a_json_error(api: Keyed, admin: User) -> None:  # noqa: F811
    await factories.scenario(require_next_step=False)
    client = await factories.client(admin)
    status, interest = await api.call("POST", "/interests", {"client_id": client.id, "title": "x"})
    assert status == 201
    for path in ("/clients", f"/interests/{interest['id']}/move", "/interactions"):
        resp = await api.client.post("/api/v1" + path, headers=api.headers)
        assert resp.status == 422 and resp.content_type == "application/json", path
        assert (await resp.json())["error"]["fields"] == {"body": "Send a JSON object"}
    for raw in (b"[]", b"null", b"5"):
        resp = await api.client.post("/api/v1/clients", data=raw, headers=api.headers)
        assert (await resp.json())["error"]["fields"] == {"body": "Send a JSON object"}, raw
    # win takes no fields: no body, or {}
    resp = await api.client.post(f"/api/v1/interests/{interest['id']}/win", headers=api.headers)
    assert resp.status == 200


async def test_other_methods_get_405_with_allow(api: Keyed, browser: Browser) -> None:  # noqa: F811
    for method, path, allowed in (
        ("PUT", "/clients", {"GET", "POST"}),
        ("TRACE", "/clients/1", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/fields", {"GET"}),
    ):
        resp = await api.client.request(method, "/api/v1" + path, headers=api.headers)
        assert resp.status == 405, (method, path)
        assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}, resp.headers
        assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_the_document_states_the_rules(browser: Browser) -> None:
    doc = await (await browser.client.get("/api/v1/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    clients = doc["paths"]["/clients"]
    tag_id = next(p for p in clients["get"]["parameters"] if p["name"] == "tag_id")
    assert tag_id["schema"]["minimum"] == 1 and tag_id["schema"]["maximum"] == 2**31 - 1
    on_duplicate = next(p for p in clients["post"]["parameters"] if p["name"] == "on_duplicate")
    assert on_duplicate["schema"]["enum"] == ["refuse", "update", "create"]
    assert {"200", "201", "409", "422"} <= set(clients["post"]["responses"])
    assert clients["post"]["requestBody"]["required"] is True
    win = doc["paths"]["/interests/{id}/win"]["post"]
    assert win["requestBody"]["required"] is False
    inn = schemas["ClientInput"]["properties"]["inn"]
    assert "pattern" in str(inn) and schemas["ClientInput"]["additionalProperties"] is False
    amount = str(schemas["NewInterest"]["properties"]["amount"])
    assert "'exclusiveMaximum': 100000000000000" in amount and "'minimum': 0" in amount
    planned = schemas["NewPlan"]["properties"]["planned_at"]
    assert planned["format"] == "date-time"
    assert "client_id" in schemas["ErrorDetail"]["properties"]


async def test_a_deeply_nested_body_is_refused_not_a_server_error(api: Keyed) -> None:  # noqa: F811
    for depth in (900, 990, 5000):
        raw = b'{"name": "X", "tags": ' + b"[" * depth + b"]" * depth + b"}"
        resp = await api.client.post("/api/v1/clients", data=raw, headers=api.headers)
        assert resp.status == 422, depth
    assert not await Client.exists()


def test_an_answer_may_be_a_dataclass() -> None:
    """The reports answer their dataclasses: the document describes them as they are."""

    @dataclass(frozen=True)
    class Row:
        manager_id: int
        won: Decimal
        day: date | None

    demo = Api("demo")

    @demo.get("/demo", "A demo", answers={200: Row})
    async def rows(call: Call[None, None]) -> web.StreamResponse:
        return web.json_response({})

    doc = build([demo])
    row = doc["components"]["schemas"]["Row"]
    assert row["required"] == ["manager_id", "won", "day"]
    assert row["properties"]["manager_id"]["type"] == "integer"
    ok = doc["paths"]["/demo"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/Row"}
