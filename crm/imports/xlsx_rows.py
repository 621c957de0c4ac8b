"""An XLSX's first sheet as rows of text, read by openpyxl in a child process.

openpyxl keeps every shared string and an element per string while it reads a workbook:
hundreds of thousands of objects whose garbage collection pauses the whole process that
reads it for most of a second at a time, and whose memory stays with that process. So the
web process never opens an XLSX itself: `rows_file` runs `python -m crm.imports.xlsx_rows SOURCE
TARGET`, which checks the file (`crm.imports.xlsx_limits`), writes the rows as UTF-8 CSV next to it
and exits, giving its memory back; it runs at a lower priority than the web process. The
CSV is kept beside the upload (and goes with it) and reused while it is newer than the
upload; reading it is what every later step does. A file the child refuses comes back as
the same ValidationFailed `check_xlsx` raises; a child that fails otherwise means the file
is not a readable XLSX. The command line, which has no event loop to keep free, may still
read a workbook in its own process (`sheet_rows`)."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm.errors import ValidationFailed
from crm.imports.xlsx_limits import NOT_XLSX, TOO_LARGE, TOO_MANY_STRINGS, check_xlsx

__all__ = ["MAX_COLUMNS", "rows_file", "sheet_rows"]

log = logging.getLogger(__name__)

MAX_COLUMNS = 200
ROWS_SUFFIX = ".rows.csv"
CHILD_NICENESS = 10
REFUSED = 3  # the child's exit status for a file it refuses; its message on stdout
KNOWN = {NOT_XLSX, TOO_LARGE, TOO_MANY_STRINGS}


def cell_text(value: Any) -> str:
    """A cell's value as the text an import reads (dates ISO, whole floats as integers)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sheet_rows(path: Path, skip: int = 0) -> Iterator[list[str]]:
    """The first sheet's rows from `skip` on, in this process (checked first)."""
    from openpyxl import load_workbook

    check_xlsx(path)  # before openpyxl unpacks anything
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index >= skip:
                yield [cell_text(v) for v in row[:MAX_COLUMNS]]
    finally:
        workbook.close()


def convert(source: Path, target: Path) -> None:
    """Write the first sheet of `source` to `target` as CSV (what the child does)."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")  # two readers at once
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for row in sheet_rows(source):
            writer.writerow([value.replace("\x00", "") for value in row])
    partial.replace(target)


async def rows_file(path: Path) -> Path:
    """The CSV of `path`'s rows, made by a child process unless a fresh one is there;
    ValidationFailed when the child refuses the file or cannot read it."""
    target = path.with_name(path.name + ROWS_SUFFIX)
    if await asyncio.to_thread(_fresh, path, target):
        return target
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        str(path),
        str(target),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await child.communicate()
    except asyncio.CancelledError:  # the request went away: so does its reader
        child.kill()
        await child.wait()
        raise
    if child.returncode == 0:
        return target
    said = out.decode(errors="replace").strip()
    if child.returncode != REFUSED or said not in KNOWN:
        log.warning("reading %s failed (%s): %s", path.name, child.returncode, err[-2000:])
        said = NOT_XLSX
    raise ValidationFailed.field("file", said)


def _fresh(source: Path, target: Path) -> bool:
    try:
        return target.stat().st_mtime_ns >= source.stat().st_mtime_ns
    except OSError:
        return False


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    os.nice(CHILD_NICENESS)  # the web process it serves comes first for the CPU
    try:
        convert(source, target)
    except ValidationFailed as exc:
        print(exc.message)
        return REFUSED
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        print(f"{type(exc).__name__}: {exc}"[:500], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
