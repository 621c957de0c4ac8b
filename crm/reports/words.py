"""The reader's words for the stored values a report or a drill-down shows (a deal's
status, a client's kind, a base group's kind or relation), through crm.labels: the web's
records pages and the exports write "Выиграна", not "won"."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from crm import labels
from crm.i18n import N_
from crm.reports.drill import RecordKind

# a drill-down column holding a stored value, per record kind: the table of its words
WORDS: dict[tuple[str, str], Mapping[str, labels.Label]] = {
    (RecordKind.INTERESTS, "Status"): labels.INTEREST_STATUS,
    (RecordKind.CLIENTS, "Kind"): labels.CLIENT_KIND,
    (RecordKind.CLIENTS, "Relation"): labels.RELATION_TYPE,
    (RecordKind.INQUIRIES, "Status"): labels.INQUIRY_STATUS,
    (RecordKind.INTERACTIONS, "Kind"): labels.INTERACTION_KIND,
    (RecordKind.INTERACTIONS, "State"): labels.INTERACTION_STATE,
}
# a base report's grouping holding a stored value: the table of its words
GROUP_WORDS: dict[str, Mapping[str, labels.Label]] = {
    "kind": labels.CLIENT_KIND,
    "relation": labels.RELATION_TYPE,
}


DIMENSION_NAMES = {
    "kind": N_("Kind"),
    "relation": N_("Relation"),
    "region": N_("Region"),
    "responsible": N_("Responsible"),
    "tag": N_("Tag"),
    "lead_source": N_("Lead source"),
}


def words(value: Any, table: Mapping[str, labels.Label] | None, locale: str | None) -> Any:
    """A stored value in the reader's words where it has a table ("won" -> "Выиграна")."""
    if table is None or value is None or value == "":
        return value
    return labels.label(str(value.value if isinstance(value, Enum) else value), locale, table)
