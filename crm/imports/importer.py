"""Import clients from a table: each row validated, matched against existing clients by
INN, email or phone (a match is updated instead of getting a twin), written in batches.

Rows that fail keep their reason and go to a file of failed rows; the rest of the file is
imported. Batches are written with COPY on PostgreSQL and executemany on SQLite, while
the next batch is validated in a worker thread (`crm.imports.writer`)."""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers

from crm import normalize
from crm.errors import ValidationFailed
from crm.fields import applies_to, option_maps, parse_value
from crm.i18n import N_, gettext
from crm.imports.files import TARGETS, Table
from crm.imports.values import DEDUP_KEYS, KINDS, Failed, ImportOptions, Outcome, Row
from crm.imports.writer import BatchWriter
from crm.models import ClientKind, FieldDefinition, RelationType, Tag, User
from crm.regions import REGION_TIMEZONES
from crm.safe_cells import safe_cell

BATCH = 5000
Progress = Callable[[int, int], None]


async def check_options(options: ImportOptions, columns: int) -> None:
    """Refuse options the import could not follow, before anything is read or written."""
    errors: dict[str, str] = {}
    known = set(TARGETS)
    custom_ids = {f"field:{d.id}" for d in await FieldDefinition.filter(is_active=True).only("id")}
    targets = [t for t in options.mapping.values() if t]
    if any(t not in known and t not in custom_ids for t in targets):
        errors["mapping"] = N_("Unknown field")
    if any(not 0 <= i < columns for i in options.mapping):
        errors["mapping"] = N_("Unknown column")
    single = [t for t in targets if t not in ("phone", "email")]
    if len(single) != len(set(single)):
        errors["mapping"] = N_("A field can take only one column (phones and emails excepted)")
    if "name" not in targets and "legal_name" not in targets:
        errors["mapping"] = N_("Map a column to the client's name")
    if options.kind not in KINDS:
        errors["kind"] = N_("Unknown choice")
    if options.relation_type not in {r.value for r in RelationType}:
        errors["relation_type"] = N_("Unknown choice")
    if any(key not in DEDUP_KEYS for key in options.dedup):
        errors["dedup"] = N_("Unknown choice")
    if len(options.tag) > 100:
        errors["tag"] = N_("Too long")
    if (
        options.responsible_id is not None
        and not await User.filter(id=options.responsible_id, is_active=True).exists()
    ):
        errors["responsible_id"] = N_("Unknown user")
    if errors:
        raise ValidationFailed(fields=errors)


# --- one row -----------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]+$")
_RU = phonenumbers.PhoneMetadata.metadata_for_region("RU")
_RU_PATTERNS = tuple(
    re.compile(f"(?:{desc.national_number_pattern})$")
    for desc in (_RU.mobile, _RU.fixed_line)  # type: ignore[union-attr]
    if desc is not None and desc.national_number_pattern
)


def phone(raw: str) -> str:
    """normalize.phone, with a fast path for plain Russian numbers (same answers: the
    national number must match Russia's mobile or fixed-line pattern, as for
    phonenumbers' own validity check; anything else takes the full parse)."""
    text = raw.strip()
    if _PHONE_CHARS.match(text):
        digits = re.sub(r"\D", "", text)
        national = None
        if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and text[0] != "+")):
            national = digits[1:]
        elif len(digits) == 10 and text[0] != "+":
            national = digits
        if national and any(p.match(national) for p in _RU_PATTERNS):
            return "+7" + national
    return normalize.phone(raw, field="phone")


class RowReader:
    """Turns raw cells into Rows; knows the mapping, the field definitions and options."""

    def __init__(
        self,
        options: ImportOptions,
        definitions: dict[int, FieldDefinition],
        maps: dict[int, dict[str, int]],
        locale: str,
    ) -> None:
        self.options = options
        self.definitions = definitions
        self.maps = maps
        self.locale = locale
        self.columns = sorted(options.mapping.items())

    def read(self, line: int, cells: list[str]) -> Row | Failed:
        try:
            return self._read(line, cells)
        except ValidationFailed as exc:
            messages = exc.field_messages(self.locale).values() or [exc.render(self.locale)]
            return Failed(line, cells, "; ".join(dict.fromkeys(messages)))

    def _kind(self, inn: str) -> ClientKind:
        if self.options.kind != "auto":
            return ClientKind(self.options.kind)
        digits = re.sub(r"\s", "", inn)
        return ClientKind.LEGAL if len(digits) == 10 else ClientKind.INDIVIDUAL

    def _read(self, line: int, cells: list[str]) -> Row:
        values: dict[str, str] = {}
        phones: list[str] = []
        emails: list[str] = []
        custom_raw: dict[int, str] = {}
        for index, target in self.columns:
            cell = cells[index].strip() if index < len(cells) else ""
            if not cell or not target:
                continue
            if target == "phone":
                phones += [p for p in re.split(r"[,;]", cell) if p.strip()]
            elif target == "email":
                emails += [e for e in re.split(r"[,;\s]", cell) if e.strip()]
            elif target.startswith("field:"):
                custom_raw[int(target[6:])] = cell
            else:
                values[target] = cell
        kind = self._kind(values.get("inn", ""))
        errors: dict[str, str] = {}
        card: dict[str, Any] = {}
        name = values.get("name") or values.get("legal_name", "")
        if not name:
            errors["name"] = gettext(N_("The name is empty"), self.locale)
        card["name"] = name[:300]
        for key in ("legal_name", "org_form", "region", "note", "lead_source"):
            if key in values:
                card[key] = values[key][: 500 if key == "legal_name" else 200]
        checks: list[tuple[str, Callable[[], Any]]] = [
            ("inn", lambda: normalize.inn(values["inn"], kind)),
            ("kpp", lambda: self._kpp(values["kpp"], kind)),
            ("birthday", lambda: _day(values["birthday"])),
        ]
        for key, check in checks:
            if key in values:
                try:
                    card[key] = check()
                except ValidationFailed as exc:
                    errors.update(exc.field_messages(self.locale))
        clean_phones, clean_emails = [], []
        for raw in phones:
            try:
                clean_phones.append(phone(raw))
            except ValidationFailed as exc:
                errors.update(exc.field_messages(self.locale))
        for raw in emails:
            try:
                clean_emails.append(normalize.email(raw))
            except ValidationFailed as exc:
                errors.update(exc.field_messages(self.locale))
        typed = []
        for field_id, raw in custom_raw.items():
            definition = self.definitions[field_id]
            if not applies_to(definition, kind):
                continue
            try:
                typed.append(parse_value(definition, raw, self.maps.get(field_id, {})))
            except ValidationFailed as exc:
                errors.update(exc.field_messages(self.locale))
        if errors:
            raise ValidationFailed(fields=errors)
        return Row(
            line,
            kind,
            card,
            list(dict.fromkeys(clean_phones)),
            list(dict.fromkeys(clean_emails)),
            typed,
        )

    @staticmethod
    def _kpp(raw: str, kind: ClientKind) -> str:
        if kind != ClientKind.LEGAL:
            raise ValidationFailed.field("kpp", N_("Only a legal entity has a KPP"))
        return normalize.kpp(raw)


def _day(raw: str) -> date:
    text = raw.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        try:
            d, m, y = text.split(".")
            return date(int(y), int(m), int(d))
        except ValueError:
            raise ValidationFailed.field("birthday", N_("Not a date")) from None


# --- the run -----------------------------------------------------------------------------


async def prepare_reader(options: ImportOptions, locale: str) -> RowReader:
    definitions = {d.id: d for d in await FieldDefinition.filter(is_active=True)}
    maps = await option_maps(definitions.values())
    return RowReader(options, definitions, maps, locale)


def batches(table: Table, reader: RowReader) -> Iterator[tuple[list[Row], list[Failed]]]:
    """Validated rows in batches (runs in a worker thread: no database here)."""
    good: list[Row] = []
    bad: list[Failed] = []
    for number, cells in enumerate(table.rows(), start=2):  # line 1 holds the headings
        if not any(cells):
            continue
        result = reader.read(number, cells)
        (good if isinstance(result, Row) else bad).append(result)  # type: ignore[arg-type]
        if len(good) + len(bad) >= BATCH:
            yield good, bad
            good, bad = [], []
    if good or bad:
        yield good, bad


async def run_import(
    table: Table,
    options: ImportOptions,
    *,
    actor: User | None,
    locale: str = "ru",
    total: int = 0,
    progress: Callable[[Outcome], Any] | None = None,
) -> Outcome:
    """Import every row of `table`; returns the counts and the failed rows with reasons."""

    await check_options(options, len(table.headers))
    reader = await prepare_reader(options, locale)
    tag_id = None
    if options.tag.strip():
        tag_id = (await Tag.get_or_create(name=" ".join(options.tag.split())))[0].id
    writer = BatchWriter(options, actor=actor, tag_id=tag_id, timezones=REGION_TIMEZONES)
    await writer.start()
    outcome = Outcome(total=total)
    source = batches(table, reader)
    done: tuple[list[Row], list[Failed]] = ([], [])
    pending = asyncio.ensure_future(asyncio.to_thread(next, source, done))
    while True:
        chunk = await pending
        if chunk is done:
            break
        good, bad = chunk
        pending = asyncio.ensure_future(asyncio.to_thread(next, source, done))
        try:
            created, updated, refused = await writer.write(good)
        except BaseException:
            await asyncio.wait([pending])
            raise
        outcome.created += created
        outcome.updated += updated
        outcome.failed += bad + refused
        outcome.skipped += len(bad) + len(refused)
        outcome.processed += len(good) + len(bad)
        outcome.total = max(outcome.total, outcome.processed)
        if progress is not None:
            result = progress(outcome)
            if asyncio.iscoroutine(result):
                await result
    await writer.finish()
    return outcome


def write_failed(path: Path, headers: list[str], failed: list[Failed], locale: str) -> None:
    """The failed rows as CSV (UTF-8 with BOM, `;`), each with its line and reason; every
    text cell formula-safe (`crm.safe_cells`): the cells are the uploader's, as they came."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        heading = [gettext(N_("Line"), locale), *headers, gettext(N_("Reason"), locale)]
        out.writerow([safe_cell(cell) for cell in heading])
        for row in sorted(failed, key=lambda f: f.line):
            cells = row.cells + [""] * (len(headers) - len(row.cells))
            out.writerow(
                [row.line, *(safe_cell(c) for c in cells[: len(headers)]), safe_cell(row.reason)]
            )
