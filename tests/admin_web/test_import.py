"""Importing clients: upload, preview, mapping (remembered), dedup, background run,
counts, failed rows; CSV in UTF-8 and Windows-1251, `;` and `,`; XLSX."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import FormData
from openpyxl import Workbook

from admin_web.keys import IMPORTS
from crm import clients, fields
from crm.models import (
    ChangeRecord,
    Client,
    ClientContact,
    FieldValue,
    ImportJob,
    ImportMapping,
    ImportStatus,
    Tag,
    User,
)
from tests.admin_web.conftest import Browser
from tests.admin_web.import_data import HEADERS, legal_inn, rows, write_csv


async def upload(browser: Browser, path: Path, name: str | None = None) -> tuple[int, str]:
    await browser.get("/import")
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import")
    form.add_field("file", path.read_bytes(), filename=name or path.name)  # noqa: ASYNC240
    resp = await browser.client.post("/import", data=form)
    text = await resp.text()
    browser.page = resp.url.path
    return resp.status, text


async def start(browser: Browser, token_page: str, **extra: str) -> ImportJob:
    token = token_page.rsplit("/", 1)[1]
    data = {
        "column_0": "name",
        "column_1": "inn",
        "column_2": "phone",
        "column_3": "email",
        "kind": "auto",
        "relation_type": "buyer",
        "tag": "Импорт",
        "dedup_inn": "1",
        "dedup_email": "1",
        "dedup_phone": "1",
        **extra,
    }
    loyalty = await fields.definitions_for()
    if loyalty and "column_4" not in extra:
        data["column_4"] = f"field:{loyalty[0].id}"
    _status, text = await browser.post(f"/import/{token}", data)
    job = await ImportJob.all().order_by("-id").first()
    assert job is not None, text
    await browser.app[IMPORTS].wait(job.id)
    return await ImportJob.get(id=job.id)


async def test_csv_import_with_mapping_dedup_and_failed_rows(
    as_admin: Browser, admin: User, tmp_path: Path
) -> None:
    loyalty = await fields.create_field(
        name="Loyalty", type="list", options=["Gold", "Silver", "Bronze"], actor=None
    )
    existing = await clients.create_client(
        actor=admin, kind="legal", name="Старое имя", inn=legal_inn(1)
    )
    by_email = await clients.create_client(
        actor=admin, name="Клиент по почте", emails=["client20@example.ru"]
    )
    data = rows(100)
    data.append(["ООО Клиент 5 (повтор)", legal_inn(5), "", "", "Gold"])  # a twin in the file
    path = write_csv(tmp_path / "clients.csv", data)
    status, text = await upload(as_admin, path)
    assert status == 200
    assert "ООО Клиент 0" in text and "utf-8" in text  # preview of the first rows
    assert 'value="inn" selected' in text and 'value="phone" selected' in text  # guessed
    assert f'value="field:{loyalty.id}" selected' in text
    job = await start(as_admin, as_admin.page)
    assert job.status == ImportStatus.DONE, job.error
    assert (job.total, job.processed) == (101, 101)
    assert job.skipped == 2  # rows 49 and 99 have a wrong INN
    assert job.updated == 3  # by INN, by email, and the twin in the file
    assert job.created == 96
    assert await Client.all().count() == 2 + 96
    existing = await Client.get(id=existing.id)
    assert existing.name == "ООО Клиент 1"
    assert await ClientContact.filter(client_id=by_email.id).count() == 2  # email + phone added
    assert await Client.filter(name="ООО Клиент 5 (повтор)").count() == 1
    assert await Client.filter(tags__name="Импорт").count() == 98  # 96 new + 2 updated
    gold = await FieldValue.filter(definition_id=loyalty.id).count()
    assert gold == 98
    assert await ChangeRecord.filter(entity="client", field="name").count() >= 96
    # the page: counts and the failed rows file
    status, text = await as_admin.get(f"/import/jobs/{job.id}")
    assert 'id="count-created">96<' in text and 'id="count-skipped">2<' in text
    resp = await as_admin.client.get(f"/import/jobs/{job.id}/failed.csv")
    failed = (await resp.read()).decode("utf-8-sig")
    assert "ООО Клиент 49" in failed and "INN checksum is wrong" in failed
    assert failed.splitlines()[0].startswith("Line;Наименование")
    # the mapping is remembered for the next file
    assert (await ImportMapping.get(heading="инн")).target == "inn"
    status, text = await as_admin.get("/import")
    assert "clients.csv" in text


async def test_windows_1251_with_commas_and_remembered_mapping(
    as_admin: Browser, tmp_path: Path
) -> None:
    await ImportMapping.create(heading="наименование", target="name")
    await ImportMapping.create(heading="e-mail", target="")
    path = write_csv(tmp_path / "cp.csv", rows(5, start=1), encoding="cp1251", sep=",")
    _status, text = await upload(as_admin, path)
    assert "windows-1251" in text and "ООО Клиент 1" in text
    assert re.search(r'name="column_3".*?<option value="" selected>', text, re.S)
    job = await start(as_admin, as_admin.page, column_3="")
    assert (job.created, job.skipped) == (5, 0)
    assert not await ClientContact.filter(kind="email").exists()


async def test_xlsx_import(as_admin: Browser, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for row in rows(3, start=1):
        sheet.append(row)
    path = tmp_path / "clients.xlsx"
    book.save(path)
    _status, text = await upload(as_admin, path)
    assert "ООО Клиент 2" in text
    job = await start(as_admin, as_admin.page, column_4="")
    assert job.created == 3
    assert await Tag.filter(name="Импорт").exists()


async def test_refused_uploads_and_options(as_admin: Browser, tmp_path: Path) -> None:
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF")
    status, text = await upload(as_admin, bad)
    assert "Upload a CSV or XLSX file" in text
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    status, text = await upload(as_admin, broken)
    assert "This is not a readable XLSX file" in text
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    status, text = await upload(as_admin, empty)
    assert "The file is empty" in text
    path = write_csv(tmp_path / "ok.csv", rows(3))
    await upload(as_admin, path)
    token_page = as_admin.page
    token = token_page.rsplit("/", 1)[1]
    status, text = await as_admin.post(f"/import/{token}", {"column_0": "", "column_1": "inn"})
    assert (
        "Map a column to the client&#39;s name" in text
        or "Map a column to the client's name" in text
    )
    status, text = await as_admin.post(f"/import/{token}", {"column_0": "name", "column_1": "name"})
    assert "A field can take only one column" in text
    status, text = await as_admin.post(
        f"/import/{token}", {"column_0": "name", "column_1": "field:999"}
    )
    assert "Unknown field" in text
    assert not await ImportJob.exists()
    assert not await Client.exists()
    status, text = await as_admin.get("/import/" + "0" * 32)
    assert status == 404


async def test_manager_cannot_import(as_manager: Browser, tmp_path: Path) -> None:
    status, _ = await as_manager.get("/import")
    assert status == 403
    form = FormData()
    form.add_field("_csrf", await as_manager.csrf())
    form.add_field("file", b"a;b\n1;2\n", filename="x.csv")
    resp = await as_manager.client.post("/import", data=form)
    assert "You are not allowed to do this" in await resp.text()
    assert (
        not any((as_manager.app[IMPORTS].folder).glob("*"))
        if as_manager.app[IMPORTS].folder.exists()
        else True
    )
