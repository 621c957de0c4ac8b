"""Every user-facing string has a Russian translation, and the catalogs compile."""

from __future__ import annotations

from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from crm.i18n import LOCALES_DIR, gettext
from tools.catalog import extract


def test_every_marked_string_is_translated_to_russian() -> None:
    with (LOCALES_DIR / "ru" / "LC_MESSAGES" / "crmhub.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")

    def key(m: Message) -> tuple[str, str]:
        return (m.context or "", m.id if isinstance(m.id, str) else m.id[0])

    translated = {
        key(m)
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(key(m) for m in extract() if m.id)
    missing = [m for m in missing if m not in translated]
    assert missing == [], "run `make messages` and translate these in locales/ru: " + repr(missing)


def test_compiled_catalog_is_used() -> None:
    assert gettext("Not found", "ru") == "Не найдено"
    assert gettext("Not found", "en") == "Not found"
    assert gettext("Not found", "de") == "Не найдено"  # unsupported -> default locale
