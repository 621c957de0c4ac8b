"""Message templates of stage robots: `{client_name}`-style placeholders, filled safely.

Only the names in PLACEHOLDERS are replaced; anything else in braces stays as written, so a
template can never reach attributes or other data (unlike `str.format`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from crm.company import get_company
from crm.models import Client, Interest, Stage, User

PLACEHOLDERS = (
    "client_name",
    "manager_name",
    "interest_title",
    "interest_amount",
    "stage",
    "company_name",
)
_PATTERN = re.compile(r"\{(\w+)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    return _PATTERN.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def unknown_placeholders(template: str) -> list[str]:
    return sorted({m for m in _PATTERN.findall(template) if m not in PLACEHOLDERS})


async def interest_values(interest: Interest) -> dict[str, str]:
    client = await Client.get(id=interest.client_id)  # type: ignore[attr-defined]
    manager = (
        await User.filter(id=interest.responsible_id).first()  # type: ignore[attr-defined]
        if interest.responsible_id  # type: ignore[attr-defined]
        else None
    )
    stage = await Stage.get(id=interest.stage_id)  # type: ignore[attr-defined]
    company = await get_company()
    return {
        "client_name": client.name,
        "manager_name": manager.full_name if manager else "",
        "interest_title": interest.title,
        "interest_amount": "" if interest.amount is None else f"{interest.amount:f}",
        "stage": stage.name,
        "company_name": company.name,
    }
