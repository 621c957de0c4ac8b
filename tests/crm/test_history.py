from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from tortoise.transactions import in_transaction

from crm import history
from crm.models import ChangeRecord, RelationType
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_changed_fields_compare_the_recorded_text() -> None:
    old = {"relation_type": "buyer", "is_lead": False, "birthday": None, "amount": Decimal("5")}
    new = {
        "relation_type": RelationType.BUYER,  # same text: not a change
        "is_lead": True,
        "birthday": date(1990, 3, 1),
        "amount": Decimal("5.00"),  # same number: not a change
    }
    assert history.changed_fields(old, new) == [
        ("is_lead", "False", "True"),
        ("birthday", None, "1990-03-01"),
    ]


@time_machine.travel(T0, tick=False)
async def test_insert_rows_writes_what_record_changes_writes() -> None:
    admin = await f.admin()
    await history.record_changes("client", 1, {"region": ""}, {"region": "Москва"}, actor=admin)
    async with in_transaction():
        await history.insert_rows(
            "client",
            [(1, "relation_type", "buyer", "supplier"), (2, "Лояльность", None, "7")],
            actor=admin,
        )
    await history.insert_rows("client", [], actor=None)  # nothing to write, no query
    await history.insert_rows("person", [(3, "role", "a", None)], actor=None)
    rows = await ChangeRecord.all().order_by("id")
    got = [(r.entity, r.entity_id, r.field, r.old, r.new, r.actor_id) for r in rows]  # type: ignore[attr-defined]
    assert got == [
        ("client", 1, "region", "", "Москва", admin.id),
        ("client", 1, "relation_type", "buyer", "supplier", admin.id),
        ("client", 2, "Лояльность", None, "7", admin.id),
        ("person", 3, "role", "a", None, None),
    ]
    assert {r.created_at for r in rows} == {T0} and {r.updated_at for r in rows} == {T0}
    newest_first = await history.list_changes("client", 1)
    assert [c.field for c in newest_first] == ["relation_type", "region"]


async def test_insert_rows_rolls_back_with_the_transaction() -> None:
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await history.insert_rows("client", [(1, "region", "", "Москва")], actor=None)
            raise RuntimeError
    assert await ChangeRecord.all().count() == 0
