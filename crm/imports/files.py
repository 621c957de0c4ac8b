"""Reading client tables people export: CSV (UTF-8 or Windows-1251, `;` or `,`; any other
bytes are refused with a message saying so) and XLSX (within `crm.imports.xlsx_limits`);
which client field a column heading means (remembered from the last import); how long the
uploaded files are kept once their import has ended, or when none was started from them.

Reading a file takes seconds for a large XLSX: code on the event loop (the panel, the import
jobs) reads through `load_table`, `load_preview` and `load_row_count`, which read CSV in a
worker thread and have an XLSX turned into CSV by a child process first (`crm.imports.xlsx_rows`),
so the web process keeps answering (webhooks, /healthz) meanwhile and never holds a
workbook's memory."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from crm import clock
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.imports.xlsx_limits import NOT_XLSX
from crm.imports.xlsx_rows import MAX_COLUMNS, rows_file, sheet_rows
from crm.models import FieldDefinition, ImportJob, ImportMapping, ImportStatus

log = logging.getLogger(__name__)

# Client fields a column can be mapped to; custom fields are "field:<id>".
TARGETS = (
    "name",
    "legal_name",
    "inn",
    "kpp",
    "org_form",
    "phone",
    "email",
    "birthday",
    "region",
    "note",
    "lead_source",
)
TARGET_NAMES = {
    "name": N_("Name"),
    "legal_name": N_("Full legal name"),
    "inn": N_("INN"),
    "kpp": N_("KPP"),
    "org_form": N_("Legal form"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "birthday": N_("Birthday"),
    "region": N_("Business region"),
    "note": N_("Note"),
    "lead_source": N_("Lead source"),
}
# Headings people use, lowercased, for a first guess when nothing is remembered.
SYNONYMS = {
    "name": ("name", "наименование", "название", "клиент", "фио", "имя", "контрагент", "компания"),
    "legal_name": ("legal name", "полное наименование", "юридическое наименование"),
    "inn": ("inn", "инн"),
    "kpp": ("kpp", "кпп"),
    "org_form": ("org form", "орг. форма", "организационно-правовая форма", "опф"),
    "phone": ("phone", "телефон", "тел", "тел.", "мобильный", "телефоны"),
    "email": ("email", "e-mail", "почта", "эл. почта", "электронная почта", "mail"),
    "birthday": ("birthday", "день рождения", "дата рождения"),
    "region": ("region", "регион", "бизнес-регион", "город"),
    "note": ("note", "комментарий", "примечание", "заметка"),
    "lead_source": ("source", "источник", "lead source"),
}
# The panel's upload folder holds this beside the file (its name and stored name);
# `forget_abandoned_uploads` knows an upload by it.
UPLOAD_META = "meta.json"


@dataclass(frozen=True)
class Table:
    """A file's heading row and a way to read its data rows (as text cells)."""

    path: Path
    kind: str  # csv | xlsx
    headers: list[str]
    encoding: str = ""
    delimiter: str = ","
    rows_path: Path | None = None  # an XLSX's rows as CSV (crm.imports.xlsx_rows), when made

    def rows(self) -> Iterator[list[str]]:
        """The data rows, heading row excluded; cells as stripped text."""
        if self.rows_path is not None:
            with self.rows_path.open(encoding="utf-8", newline="") as source:
                reader = csv.reader(source)
                next(reader, None)
                yield from reader
            return
        if self.kind == "xlsx":
            yield from sheet_rows(self.path, skip=1)
            return
        reader = csv.reader(
            io.StringIO(_decode(self.path.read_bytes())[0]), delimiter=self.delimiter
        )
        next(reader, None)
        for row in reader:
            yield [cell.strip() for cell in row]


UNKNOWN_ENCODING = N_("Could not tell the file's encoding: save it as UTF-8 or Windows-1251")


def _decode(data: bytes) -> tuple[str, str]:
    """The text (NUL dropped: no database stores it) and its encoding; ValidationFailed
    when the bytes are neither UTF-8 nor Windows-1251 (0x98 has no Windows-1251 letter)."""
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1251"), "windows-1251"
        except UnicodeDecodeError:
            raise ValidationFailed.field("file", UNKNOWN_ENCODING) from None
    return text.replace("\x00", ""), encoding


def _delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def open_table(path: Path, filename: str) -> Table:
    """Recognise the file by its name and content; ValidationFailed when unreadable."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            headers = next(sheet_rows(path), [])
        except ValidationFailed:
            raise
        except Exception:  # openpyxl raises many kinds for a broken file
            raise ValidationFailed.field("file", NOT_XLSX) from None
        return Table(path, "xlsx", _headers(headers))
    if suffix not in (".csv", ".txt", ""):
        raise ValidationFailed.field("file", N_("Upload a CSV or XLSX file"))
    try:
        data = path.read_bytes()
    except OSError:  # gone, a folder, not allowed: nothing to import either way
        raise ValidationFailed.field("file", N_("The file could not be read")) from None
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    headers = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    return Table(path, "csv", _headers(headers), encoding, delimiter)


def _headers(cells: list[str]) -> list[str]:
    headers = [str(c).strip() for c in cells[:MAX_COLUMNS]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ValidationFailed.field("file", N_("The file is empty"))
    return headers


async def load_table(path: Path, filename: str) -> Table:
    """`open_table` off the event loop: a CSV in a worker thread, an XLSX through the CSV
    of its rows that a child process makes (`crm.imports.xlsx_rows.rows_file`)."""
    if Path(filename).suffix.lower() not in (".xlsx", ".xlsm"):
        return await asyncio.to_thread(open_table, path, filename)
    rows = await rows_file(path)
    return await asyncio.to_thread(_rows_table, path, rows)


def _rows_table(path: Path, rows: Path) -> Table:
    with rows.open(encoding="utf-8", newline="") as source:
        headers = next(csv.reader(source), [])
    return Table(path, "xlsx", _headers(headers), rows_path=rows)


async def load_preview(table: Table, limit: int = 5) -> list[list[str]]:
    """`preview` in a worker thread."""
    return await asyncio.to_thread(preview, table, limit)


async def load_row_count(table: Table) -> int:
    """`count_rows` in a worker thread."""
    return await asyncio.to_thread(count_rows, table)


def preview(table: Table, limit: int = 5) -> list[list[str]]:
    rows = []
    for row in table.rows():
        if any(row):
            rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def count_rows(table: Table) -> int:
    return sum(1 for row in table.rows() if any(row))


def heading_key(heading: str) -> str:
    return re.sub(r"\s+", " ", heading.strip().lower())[:200]


async def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> target: the remembered mapping of each heading, else a guess from
    common headings and custom field names."""
    keys = [heading_key(h) for h in headers]
    remembered = {
        m.heading: m.target for m in await ImportMapping.filter(heading__in=[k for k in keys if k])
    }
    custom = {
        heading_key(d.name): f"field:{d.id}" for d in await FieldDefinition.filter(is_active=True)
    }
    mapping: dict[int, str] = {}
    for index, key in enumerate(keys):
        if key in remembered:
            mapping[index] = remembered[key]
        elif key in custom:
            mapping[index] = custom[key]
        else:
            for target, words in SYNONYMS.items():
                if key in words:
                    mapping[index] = target
                    break
    return mapping


async def remember_mapping(headers: list[str], mapping: dict[int, str]) -> None:
    """Keep each heading's target for the next import ("" forgets nothing: skipped stays)."""
    for index, heading in enumerate(headers):
        key = heading_key(heading)
        if not key:
            continue
        target = mapping.get(index, "")
        existing = await ImportMapping.filter(heading=key).first()
        if existing is None:
            await ImportMapping.create(heading=key, target=target)
        elif existing.target != target:
            existing.target = target
            await existing.save(update_fields=["target", "updated_at"])


# --- keeping the uploaded files ---------------------------------------------------------------


# More days than this keep files forever anyway, and would overflow a datetime.
LONGEST_RETENTION_DAYS = 36500


async def forget_ended_imports(folder: Path, *, keep_days: int) -> int:
    """Delete the folders of imports that finished or failed more than `keep_days` ago and
    return how many imports lost their files (the job rows stay, without file paths).

    Only a job's own folder directly under `folder` is deleted, and only when no other job
    still needs it (pending, running, or ended more recently). Uploads no job was made
    from yet (still being mapped) are `forget_abandoned_uploads`' concern."""
    cutoff = clock.now() - timedelta(days=min(keep_days, LONGEST_RETENTION_DAYS))
    ended = await ImportJob.filter(
        status__in=(ImportStatus.DONE, ImportStatus.FAILED), finished_at__lte=cutoff
    ).exclude(path="")
    if not ended:
        return 0
    needed = await (
        ImportJob.exclude(path="")
        .exclude(id__in=[job.id for job in ended])
        .values_list("path", flat=True)
    )
    ended_paths = {job.id: job.path for job in ended}
    gone = await asyncio.to_thread(_delete_folders, folder, ended_paths, [str(p) for p in needed])
    if gone:
        await ImportJob.filter(id__in=gone).update(path="", failed_path="")
        log.info("import files deleted after %s days: jobs %s", keep_days, gone)
    return len(gone)


def _delete_folders(folder: Path, ended: dict[int, str], needed: list[str]) -> list[int]:
    """Delete each ended job's folder that is directly under `folder` and holds no needed
    file; the ids of the jobs whose folder went."""
    root = folder.resolve()
    kept = {Path(path).resolve().parent for path in needed}
    gone = []
    for job_id, path in ended.items():
        own = Path(path).resolve().parent
        if own.parent == root and own not in kept:
            shutil.rmtree(own, ignore_errors=True)
            gone.append(job_id)
    return gone


async def forget_abandoned_uploads(folder: Path, *, keep_days: int) -> int:
    """Delete the panel's uploads no import was started from (the admin uploaded a file and
    left the mapping page) once they are `keep_days` old; how many went.

    Only folders directly under `folder` that hold UPLOAD_META written more than `keep_days`
    ago and that no import job's file lies in: a folder an import was made from is
    `forget_ended_imports`' concern, and anything else (the command line's folders, loose
    files) is left alone."""
    if not await asyncio.to_thread(folder.is_dir):  # nothing uploaded yet
        return 0
    days = min(keep_days, LONGEST_RETENTION_DAYS)
    cutoff = clock.now().timestamp() - days * 86400
    used = await ImportJob.exclude(path="").values_list("path", flat=True)
    gone = await asyncio.to_thread(_delete_abandoned, folder, cutoff, [str(p) for p in used])
    if gone:
        log.info("uploads no import was started from deleted after %s days: %s", keep_days, gone)
    return len(gone)


def _delete_abandoned(folder: Path, cutoff: float, used: list[str]) -> list[str]:
    taken = {Path(path).resolve().parent for path in used}
    gone = []
    for own in folder.resolve().iterdir():
        try:
            if own.is_symlink() or not own.is_dir() or own in taken:
                continue
            if (own / UPLOAD_META).stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:  # no UPLOAD_META: not an upload of the panel's
            continue
        shutil.rmtree(own, ignore_errors=True)
        gone.append(own.name)
    return gone
