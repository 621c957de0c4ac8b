"""Client tables to import: valid INNs, Russian phones, some duplicates and broken rows."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def legal_inn(n: int) -> str:
    """A checksum-valid 10-digit INN, different for each n."""
    body = f"77{n:07d}"
    control = sum(int(d) * w for d, w in zip(body, WEIGHTS_10, strict=True)) % 11 % 10
    return body + str(control)


def rows(count: int, *, start: int = 0) -> list[list[str]]:
    """Name; INN; phone; email; Loyalty — every 10th row without INN, every 50th broken."""
    result = []
    for i in range(start, start + count):
        inn = legal_inn(i) if i % 10 else ""
        phone = f"8 (916) {i // 10000 % 1000 + 100:03d}-{i % 10000 // 100:02d}-{i % 100:02d}"
        email = f"client{i}@example.ru"
        loyalty = ("Gold", "Silver", "Bronze")[i % 3]
        if i % 50 == 49:
            inn = "1234567890"  # a wrong checksum: this row fails
        result.append([f"ООО Клиент {i}", inn, phone, email, loyalty])
    return result


HEADERS = ["Наименование", "ИНН", "Телефон", "E-mail", "Loyalty"]


def write_csv(
    path: Path, data: list[list[str]], *, encoding: str = "utf-8", sep: str = ";"
) -> Path:
    lines = [sep.join(HEADERS)] + [sep.join(row) for row in data]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}


def write_shared_strings_xlsx(
    path: Path, data: list[list[str]], *, extra_strings: int = 0, padding: int = 0
) -> Path:
    """An XLSX as Excel writes it, its texts in the shared strings part (openpyxl writes
    inline strings): HEADERS and `data`, then `extra_strings` more distinct texts no cell
    uses, and a `padding` bytes member that unpacks from almost nothing."""
    table = [HEADERS, *data]
    strings = [cell for row in table for cell in row]
    cells = []
    for r, row in enumerate(table, start=1):
        refs = "".join(
            f'<c r="{chr(65 + c)}{r}" t="s"><v>{strings.index(value)}</v></c>'
            for c, value in enumerate(row)
        )
        cells.append(f'<row r="{r}">{refs}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
    )
    texts = [escape(s) for s in strings] + [f"unused text {i}" for i in range(extra_strings)]
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'uniqueCount="{len(texts)}">' + "".join(f"<si><t>{t}</t></si>" for t in texts) + "</sst>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
        if padding:
            with archive.open("docProps/padding.xml", "w") as member:
                block = b" " * 1024**2
                for _ in range(padding // len(block)):
                    member.write(block)
    return path
