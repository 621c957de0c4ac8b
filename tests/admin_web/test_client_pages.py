"""Keyset pages of the client list (crm.client_pages): following the pages' cursors, web
and API, gives every visible client exactly once, in the order of the whole sorted list,
for every sort and both directions, as an admin and as a manager; ties (equal names,
moments, responsibles and responsibles' names) are broken by the id. A cursor of another
sort, or none that reads, is the first page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm import client_list
from crm.apikeys import create_key
from crm.client_list import ClientFilters
from crm.last_contact import NEVER
from crm.models import Client, Role, User
from tests.admin_web.conftest import Browser, make_user

ROW_RE = re.compile(r'<a href="/clients/(\d+)">')
NEXT_RE = re.compile(r'<a href="([^"]+)" id="next-page">')
SORTS = [s for key in client_list.SORT_KEYS for s in (key, f"-{key}")]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def many(admin: User, manager: User) -> list[Client]:
    """130 clients (over two web pages of 50) with ties in every column: 13 names, 7
    moments, responsibles nobody / Anna Boss / Ivan Manager / a second "Ivan Manager"."""
    twin = await make_user(Role.MANAGER, email="ivan2@example.com", full_name="Ivan Manager")
    people = [None, admin.id, manager.id, twin.id]
    await Client.bulk_create(
        [
            Client(
                name=f"Клиент {n % 13:02d}",
                responsible_id=people[n % 4],
                last_contact_at=NEVER if n % 5 == 0 else BASE + timedelta(days=n % 7),
            )
            for n in range(130)
        ]
    )
    rows = await Client.all().order_by("id")
    for n, client in enumerate(rows):
        await Client.filter(id=client.id).update(created_at=BASE + timedelta(hours=n % 6))
    return rows


async def whole_list(user: User, sort: str) -> list[int]:
    """The list in one piece, ordered by the SQL terms the export sorts by."""
    query = client_list.sorted_query(await client_list.client_query(user, ClientFilters()), sort)
    return [c.id for c in await query]


async def walk_web(browser: Browser, sort: str) -> list[int]:
    seen: list[int] = []
    path: str | None = f"/clients?sort={sort}"
    while path is not None:
        status, text = await browser.get(path.replace("&amp;", "&"))
        assert status == 200
        seen += [int(n) for n in ROW_RE.findall(text)]
        following = NEXT_RE.search(text)
        path = following.group(1) if following else None
        if path is not None:
            assert 'id="keyset-note"' in text
    return seen


async def walk_api(browser: Browser, key: str, sort: str, per_page: int) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    seen: list[int] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"sort": sort, "per_page": per_page}
        if after:
            params["after"] = after
        resp = await browser.client.get("/api/v1/clients", params=params, headers=headers)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        seen += [item["id"] for item in body["items"]]
        after = body["next_after"]
        assert (after is not None) == body["has_more"]
        if after is None:
            return seen


async def test_every_client_once_in_order_web(
    as_admin: Browser, admin: User, many: list[Client]
) -> None:
    for sort in SORTS:
        seen = await walk_web(as_admin, sort)
        assert seen == await whole_list(admin, sort), sort
        assert len(seen) == len(set(seen)) == len(many)


async def test_every_client_once_in_order_api(
    browser: Browser, admin: User, manager: User, many: list[Client]
) -> None:
    for user in (admin, manager):
        _, key = await create_key("pages", user.id, actor=None)
        for sort in SORTS:
            seen = await walk_api(browser, key, sort, per_page=7)
            assert seen == await whole_list(user, sort), (user.email, sort)
            assert len(seen) == len(set(seen))
    mine = [c.id for c in many if c.responsible_id == manager.id]  # type: ignore[attr-defined]
    assert sorted(await whole_list(manager, "name")) == mine


async def test_a_managers_pages_web(as_manager: Browser, manager: User, many: list[Client]) -> None:
    for sort in ("name", "-last_contact", "responsible"):
        seen = await walk_web(as_manager, sort)
        assert seen == await whole_list(manager, sort)


async def test_a_cursor_of_another_sort_or_none_is_the_first_page(
    as_admin: Browser, admin: User, many: list[Client]
) -> None:
    rows, more = await client_list.find_clients(admin, ClientFilters(), per_page=10)
    cursor = client_list.next_cursor(rows, "name", more)
    assert cursor is not None
    after, _ = await client_list.find_clients(admin, ClientFilters(), per_page=10, after=cursor)
    assert after[0].id == (await whole_list(admin, "name"))[10]
    first, _ = await client_list.find_clients(admin, ClientFilters(), per_page=10, sort="created")
    other, _ = await client_list.find_clients(
        admin, ClientFilters(), per_page=10, sort="created", after=cursor
    )
    assert [c.id for c in other] == [c.id for c in first]
    for junk in ("x", "!!", "W10", "WyJuYW1lIiwgMSwgMl0"):  # not base64 JSON / a number
        status, text = await as_admin.get(f"/clients?after={junk}")
        assert status == 200 and ROW_RE.findall(text)[0] == str(rows[0].id)


async def test_pages_by_number_still_work(
    as_admin: Browser, admin: User, many: list[Client]
) -> None:
    whole = await whole_list(admin, "responsible")
    _, text = await as_admin.get("/clients?sort=responsible&page=2")
    assert [int(n) for n in ROW_RE.findall(text)] == whole[50:100]


async def test_a_list_fields_filter_is_counted(
    admin: User, many: list[Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count past the exact cap asks the planner with the filter's parameters bound (a
    list field's subquery once reached PostgreSQL with its marks unbound: 500)."""
    from crm import fields

    loyalty = await fields.create_field(name="Loyalty", type="list", options=["Gold"], actor=None)
    gold = (await fields.option_maps([loyalty]))[loyalty.id]["Gold"]
    typed = await fields.validate_values(many[0].kind, {loyalty.id: "Gold"})
    await fields.write_values([c.id for c in many[:60]], typed)
    monkeypatch.setattr(client_list, "COUNT_CAP", 10)
    filters = ClientFilters(choices=((loyalty.id, str(gold)),))
    total = await client_list.count_clients(admin, filters)
    assert total.estimate or total == client_list.Total(10, more=True)
    rows, more = await client_list.find_clients(admin, filters, per_page=50)
    assert len(rows) == 50 and more


async def test_by_responsible_with_the_responsible_filter(
    admin: User, manager: User, many: list[Client]
) -> None:
    filters = ClientFilters(responsible_id=manager.id)
    whole = client_list.sorted_query(await client_list.client_query(admin, filters), "responsible")
    wanted = [c.id for c in await whole]
    seen: list[int] = []
    after = None
    while True:
        rows, more = await client_list.find_clients(
            admin, filters, per_page=4, sort="responsible", after=after
        )
        seen += [c.id for c in rows]
        after = client_list.next_cursor(rows, "responsible", more)
        if after is None:
            break
    assert seen == wanted and len(wanted) > 4
