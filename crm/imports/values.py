"""The values an import passes between its reader, its writer, its jobs and the panel:
the options chosen on the mapping page, a validated row, a refused one, the outcome.
They live apart so the reader and the writer need not import each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm.fields import TypedValue
from crm.models import ClientKind, RelationType

DEDUP_KEYS = ("inn", "email", "phone")
KINDS = ("legal", "individual", "auto")


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping[int, str]  # column index -> target ("name", "phone", "field:12", ...)
    kind: str = "auto"  # legal | individual | auto (by the INN's length)
    relation_type: str = RelationType.BUYER.value
    tag: str = ""
    dedup: tuple[str, ...] = DEDUP_KEYS
    responsible_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "mapping": {str(k): v for k, v in self.mapping.items()},
            "kind": self.kind,
            "relation_type": self.relation_type,
            "tag": self.tag,
            "dedup": list(self.dedup),
            "responsible_id": self.responsible_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportOptions:
        return cls(
            mapping={int(k): str(v) for k, v in dict(data.get("mapping", {})).items()},
            kind=str(data.get("kind", "auto")),
            relation_type=str(data.get("relation_type", "buyer")),
            tag=str(data.get("tag", "")),
            dedup=tuple(data.get("dedup", DEDUP_KEYS)),
            responsible_id=data.get("responsible_id"),
        )


@dataclass
class Row:
    """A validated row: the card fields it sets, its contacts and custom values."""

    line: int
    kind: ClientKind
    card: dict[str, Any]
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    custom: list[TypedValue] = field(default_factory=list)
    client_id: int | None = None  # the existing (or earlier imported) client it updates


@dataclass
class Failed:
    line: int
    cells: list[str]
    reason: str


@dataclass
class Outcome:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: list[Failed] = field(default_factory=list)
