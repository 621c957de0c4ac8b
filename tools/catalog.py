"""Keep the Babel catalogs in step with the code (developers: `make messages`).

Extracts every marked string into locales/crmhub.pot, merges it into ru and en, and, given
`--ru FILE` (a Python file defining `RU = {msgid: translation}`), fills Russian translations;
a message with a context (`pgettext`, `NP_`) is keyed `(context, msgid)`.
English is the source language: its catalog stays empty and falls back to the msgid."""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SOURCES = ("crm", "crmhub", "inbox", "bot", "admin_web")
KEYWORDS = {
    "N_": None,
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
    "NP_": ((1, "c"), 2),
}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def extract() -> Catalog:
    template = Catalog(project="crmhub", fuzzy=False)
    for package in SOURCES:
        folder = ROOT / package
        if not folder.exists():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            template.add(
                message,
                None,
                [(f"{package}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def merge(template: Catalog, locale: str, fill: dict[str | tuple[str, str], str]) -> int:
    path = LOCALES / locale / "LC_MESSAGES" / "crmhub.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
    else:
        catalog = Catalog(locale=locale, project="crmhub")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    missing = 0
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if locale == "en":
            message.string = "" if isinstance(message.id, str) else ("", "")
        elif message.context and (message.context, key) in fill:
            message.string = fill[(message.context, key)]
        elif not message.context and key in fill:
            message.string = fill[key]
        message.flags.discard("fuzzy")
        if locale != "en" and not message.string:
            missing += 1
    catalog.obsolete.clear()
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    return missing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ru", type=Path, help="a file defining RU = {msgid: translation}")
    args = parser.parse_args()
    template = extract()
    with (LOCALES / "crmhub.pot").open("wb") as fh:
        write_po(fh, template, width=100, sort_output=True)
    fill = runpy.run_path(str(args.ru))["RU"] if args.ru else {}
    missing = merge(extract(), "ru", fill)  # update() shares message objects: fresh copies
    merge(extract(), "en", {})
    print(f"{len(template)} messages; {missing} without a Russian translation")


if __name__ == "__main__":
    main()
