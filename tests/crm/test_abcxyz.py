"""ABC/XYZ arithmetic (crm.segments.abcxyz): the shares' edges, ties, the coefficient of
variation of twelve monthly sums and its thresholds, the window of whole months; and the
classification through the database (payments of the window only, thresholds from the
company's settings)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tortoise.context import TortoiseContext

from crm.company import update_company
from crm.models import ClientClass, Interest, Invoice, Payment, Stage
from crm.segments.abcxyz import abc_classes, classify, variation, window, xyz_class
from tests.crm import factories


def test_abc_by_the_share_before_each_client() -> None:
    revenue = {1: Decimal(50), 2: Decimal(30), 3: Decimal(15), 4: Decimal(5)}
    # before 1: 0%, before 2: 50% (A); before 3: 80% (not under 80: B); before 4: 95% (C)
    assert abc_classes(revenue, 80, 15) == {1: "A", 2: "A", 3: "B", 4: "C"}
    # the top client is A whatever its share; 90% before the next one is under 95%: B
    assert abc_classes({7: Decimal(90), 8: Decimal(10)}, 80, 15) == {7: "A", 8: "B"}
    # ties by id: the lower id first
    assert abc_classes({5: Decimal(10), 3: Decimal(10)}, 50, 30) == {3: "A", 5: "B"}
    assert abc_classes({}, 80, 15) == {}


def test_xyz_by_the_coefficient_of_variation() -> None:
    assert variation([Decimal(100)] * 12) == 0
    once = [Decimal(1200)] + [Decimal(0)] * 11
    assert round(variation(once), 1) == 331.7  # sqrt(11) * 100
    halves = [Decimal(110), Decimal(90)] * 6
    assert round(variation(halves), 6) == 10.0
    assert xyz_class(10.0, 10, 25) == "X"  # the limit itself is X
    assert xyz_class(10.01, 10, 25) == "Y"
    assert xyz_class(25.0, 10, 25) == "Y"
    assert xyz_class(25.5, 10, 25) == "Z"


def test_the_window_is_twelve_whole_months() -> None:
    assert window(date(2026, 12, 7)) == (date(2025, 12, 1), date(2026, 11, 30))
    assert window(date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))


async def test_classify_reads_the_window_and_the_settings(db: TortoiseContext) -> None:
    admin = await factories.admin()
    scenario = await factories.scenario()
    stage = await Stage.filter(scenario_id=scenario.id).first()
    assert stage is not None
    big, small, late = [await factories.client(admin, n) for n in ("Большой", "Малый", "Новый")]
    for client, amounts in (
        (big, [(date(2025, 12, 1), 800), (date(2026, 11, 30), 800)]),  # the window's edges
        (small, [(date(2026, m, 10), 20) for m in range(1, 11)] + [(date(2025, 12, 5), 20)]),
        (late, [(date(2026, 12, 1), 5000), (date(2025, 11, 30), 5000)]),  # outside
    ):
        deal = await Interest.create(client=client, title="x", scenario_id=scenario.id, stage=stage)
        invoice = await Invoice.create(
            interest=deal, client=client, number="1", issued_on=date(2025, 1, 1), amount=99999
        )
        for day, amount in amounts:
            await Payment.create(invoice=invoice, client=client, paid_on=day, amount=amount)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert await classify(now=now) == {"A": 1, "B": 1, "C": 0}
    classes = {c.client_id: c for c in await ClientClass.all()}
    assert set(classes) == {big.id, small.id}
    assert (classes[big.id].abc, classes[big.id].xyz) == ("A", "Z")
    assert classes[big.id].revenue == Decimal(1600)
    # small: 20 in 11 of 12 months: cv = sqrt(11) * 100 / 11 = 30.2% -> Z; with Y up to 35: Y
    assert (classes[small.id].abc, classes[small.id].xyz) == ("B", "Z")
    await update_company(
        {"xyz_y_percent": "35", "abc_a_percent": "95", "abc_b_percent": "4"}, actor=admin
    )
    await classify(now=now)
    small_class = await ClientClass.get(client_id=small.id)
    assert (small_class.abc, small_class.xyz) == ("A", "Y")  # 1600 of 1820 = 87.9% before it
