"""ABC/XYZ classes of clients, computed nightly from the payments of the last 12 whole
months (the company's local calendar; the current month is left out, as it is not over).

ABC by revenue: clients sorted by revenue, largest first (ties by id); a client is A while
the revenue of the clients before it is under `abc_a_percent` of the total (so the client
that crosses the line is still A, and the top client always is), B while under
`abc_a_percent + abc_b_percent`, C after. XYZ by the regularity of monthly purchases: the
coefficient of variation (population standard deviation / mean, in percent) of the twelve
monthly sums, months without payments counting as zero: X up to `xyz_x_percent`, Y up to
`xyz_y_percent`, Z above. Clients without revenue in the window get no class."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm import clock
from crm.access import sees_all_clients
from crm.company import get_company
from crm.models import ClientClass, Company, User
from crm.reports.scope import Sql, dialect
from crm.rows import query

MONTHS = 12
BATCH = 5_000


@dataclass(frozen=True)
class Thresholds:
    a: int = 80
    b: int = 15
    x: int = 10
    y: int = 25

    @classmethod
    def of(cls, company: Company) -> Thresholds:
        return cls(
            company.abc_a_percent,
            company.abc_b_percent,
            company.xyz_x_percent,
            company.xyz_y_percent,
        )


def abc_classes(revenues: dict[int, Decimal], a: int, b: int) -> dict[int, str]:
    """Each client's ABC class by revenue (see the module's docstring)."""
    total = sum(revenues.values(), Decimal(0))
    out: dict[int, str] = {}
    before = Decimal(0)
    for client_id, revenue in sorted(revenues.items(), key=lambda kv: (-kv[1], kv[0])):
        share = before * 100 / total if total else Decimal(100)
        out[client_id] = "A" if share < a else "B" if share < a + b else "C"
        before += revenue
    return out


def variation(months: list[Decimal]) -> float:
    """The coefficient of variation of monthly sums, in percent (0 for no revenue)."""
    values = [float(m) for m in months]
    mean = sum(values) / len(values)
    if mean <= 0:
        return 0.0
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return spread / mean * 100


def xyz_class(cv: float, x: int, y: int) -> str:
    return "X" if cv <= x + 1e-9 else "Y" if cv <= y + 1e-9 else "Z"


def window(today: date) -> tuple[date, date]:
    """The first and last day of the 12 whole months before `today`'s month."""
    index = today.year * 12 + today.month - 1 - MONTHS
    first = date(index // 12, index % 12 + 1, 1)
    last = date(today.year, today.month, 1) - timedelta(days=1)
    return first, last


async def monthly_revenue(first: date, last: date) -> dict[int, list[Decimal]]:
    """Each client's payments per month of the window (index 0 = the first month)."""
    sql = Sql()
    if dialect() == "postgres":
        month = "(EXTRACT(YEAR FROM p.paid_on) * 12 + EXTRACT(MONTH FROM p.paid_on))::int"
        amount = "SUM(p.amount)"
    else:
        month = (
            "(CAST(strftime('%Y', p.paid_on) AS INTEGER) * 12"
            " + CAST(strftime('%m', p.paid_on) AS INTEGER))"
        )
        amount = "SUM(CAST(p.amount AS REAL))"
    rows = await query(
        f"SELECT p.client_id, {month}, {amount} FROM payments p"
        " JOIN clients c ON c.id = p.client_id AND c.merged_into_id IS NULL"
        f" WHERE p.paid_on >= {sql.day(first)} AND p.paid_on <= {sql.day(last)}"
        f" GROUP BY p.client_id, {month}",
        sql.params,
    )
    base = first.year * 12 + first.month
    out: dict[int, list[Decimal]] = {}
    for client_id, key, total in rows:
        months = out.setdefault(int(client_id), [Decimal(0)] * MONTHS)
        months[int(key) - base] += Decimal(str(total)).quantize(Decimal("0.01"))
    return out


async def classify(*, now: datetime | None = None) -> dict[str, int]:
    """Class every client anew; how many clients each ABC class holds."""
    company = await get_company()
    at = now or clock.now()
    today = at.astimezone(ZoneInfo(company.default_timezone)).date()
    limits = Thresholds.of(company)
    months = await monthly_revenue(*window(today))
    revenues = {cid: sum(m, Decimal(0)) for cid, m in months.items()}
    revenues = {cid: r for cid, r in revenues.items() if r > 0}
    abc = abc_classes(revenues, limits.a, limits.b)
    rows = []
    for client_id, revenue in revenues.items():
        cv = variation(months[client_id])
        rows.append(
            ClientClass(
                client_id=client_id,
                abc=abc[client_id],
                xyz=xyz_class(cv, limits.x, limits.y),
                revenue=revenue,
                variation=round(cv, 2),
                computed_on=today,
            )
        )
    async with in_transaction() as conn:
        await ClientClass.all().using_db(conn).delete()
        for start in range(0, len(rows), BATCH):
            await ClientClass.bulk_create(rows[start : start + BATCH], using_db=conn)
    counts = {"A": 0, "B": 0, "C": 0}
    for cls in abc.values():
        counts[cls] += 1
    return counts


async def classify_due(*, now: datetime | None = None) -> bool:
    """The nightly classification, once per local night across every worker (claimed by
    moving the company's `classes_on` to the night's date)."""
    from crm.segments.members import night_start

    at = now or clock.now()
    company = await get_company()
    night = night_start(at, company.default_timezone).date()
    stale = Q(classes_on__isnull=True) | Q(classes_on__lt=night)
    if not await Company.filter(stale, id=company.id).update(classes_on=night):
        return False
    await classify(now=at)
    return True


@dataclass(frozen=True)
class Cell:
    abc: str
    xyz: str
    clients: int
    revenue: Decimal


async def matrix(actor: User) -> list[Cell]:
    """The AB/XYZ matrix: clients and revenue per pair of classes, over the clients the
    actor sees (a manager: their own)."""
    sql = Sql()
    own = "" if await sees_all_clients(actor) else f" AND c.responsible_id = {sql(actor.id)}"
    revenue = "SUM(k.revenue)" if dialect() == "postgres" else "SUM(CAST(k.revenue AS REAL))"
    rows = await query(
        f"SELECT k.abc, k.xyz, COUNT(*), {revenue} FROM client_classes k"
        " JOIN clients c ON c.id = k.client_id AND c.merged_into_id IS NULL"
        f" WHERE 1 = 1{own} GROUP BY k.abc, k.xyz",
        sql.params,
    )
    found = {
        (a, x): (int(n), Decimal(str(r or 0)).quantize(Decimal("0.01"))) for a, x, n, r in rows
    }
    return [Cell(a, x, *found.get((a, x), (0, Decimal("0.00")))) for a in "ABC" for x in "XYZ"]


async def class_of(client_id: int) -> ClientClass | None:
    return await ClientClass.filter(client_id=client_id).first()
