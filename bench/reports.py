"""The reports (crm/reports/) on a big database, each beside hand-written SQL.

    .venv/bin/python -m bench.reports \
        --dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench --clients 1000000 \
        --results bench/RESULTS.md
    .venv/bin/python -m bench.reports --sqlite data/bench-reports.sqlite3 --clients 100000

Builds the database with `crm.demo` (or reuses one holding that many clients), then times,
warm, the median of `--runs` calls of each report over the last 12 months, with no filter
and with a custom-field filter (the demo's "Лояльность" = "Высокая"), and of the dashboard's
figures (crm.reports.dashboard: the pipeline now, this month's inquiries, this and
last month's managers), as an admin. On
PostgreSQL each is interleaved with the same figures computed by hand-written SQL straight
on asyncpg (bench/reports_sql.py; the working minutes in Python there too), and the two
must agree on a signature of totals. Targets: PostgreSQL, each report under 1 s (the
dashboard under 300 ms) and at most 1.5x its baseline; SQLite, each report under 2 s."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import connections

from bench import reports_sql as sql
from bench.domain import machine
from bench.domain_data import ensure_database, populate
from bench.results import write_block
from crm import clock, db
from crm.company import get_company, work_calendar
from crm.config import normalize_db_url
from crm.models import FieldDefinition, FieldOption, User
from crm.reports import base, funnel, inquiries, managers, pipeline, sources
from crm.reports.dashboard import dashboard as dashboard_figures
from crm.reports.filters import FieldMatch, Preset, ReportFilter

RATIO = 1.5
BUDGET_MS = {"postgres": 1000.0, "sqlite": 2000.0}
DASHBOARD_MS = 300.0
Signature = tuple[int, ...]


@dataclass
class Case:
    name: str
    report: Callable[[], Awaitable[Signature]]
    baseline: Callable[[], Awaitable[Signature]] | None
    budget_ms: float


@dataclass
class Result:
    case: Case
    report_ms: float
    baseline_ms: float | None
    same: bool | None
    signature: Signature
    report_cpu_ms: float = 0.0  # this process's CPU: Python's share (all of SQLite's)

    @property
    def ratio(self) -> float | None:
        return None if self.baseline_ms is None else self.report_ms / self.baseline_ms

    @property
    def passed(self) -> bool:
        ratio_ok = self.ratio is None or self.ratio <= RATIO
        return ratio_ok and self.report_ms < self.case.budget_ms and self.same is not False


def signatures() -> dict[str, Callable[[Any], Signature]]:
    """What each report's result must agree on with its baseline."""
    return {
        "funnel": lambda r: (
            sum(s.entered for sc in r.scenarios for s in sc.stages),
            sum(s.time_in_stage.count for sc in r.scenarios for s in sc.stages),
            sum(sc.won + sc.lost for sc in r.scenarios),
        ),
        "pipeline": lambda r: (
            sum(c.count for c in r.cells),
            sum(c.no_next_step for c in r.cells),
            sum(c.overdue for c in r.cells),
        ),
        "managers": lambda r: (
            sum(x.opened for x in r.rows),
            sum(x.won for x in r.rows),
            sum(x.lost for x in r.rows),
            sum(x.interactions_done for x in r.rows),
        ),
        "inquiries": lambda r: (
            r.total.received,
            r.total.first_response.count,
            round(r.total.first_response.median or 0),
        ),
        "sources": lambda r: (r.total.first_messages, r.total.inquiries, r.total.interests),
        "base": lambda r: (
            sum(g.clients for g in r.groups),
            r.quality.no_contacts,
            r.quality.duplicates,
        ),
    }


REPORTS: dict[str, Callable[..., Awaitable[Any]]] = {
    "funnel": funnel.funnel,
    "pipeline": pipeline.pipeline,
    "managers": managers.managers,
    "inquiries": inquiries.inquiries,
    "sources": sources.sources,
    "base": base.base,
}


async def build_cases(admin: User, pool: Any | None, dialect: str) -> list[Case]:
    now = clock.now()
    company = await get_company()
    calendar = work_calendar(company)
    sla = company.sla_first_reply_minutes
    today = now.astimezone(calendar.zone).date()
    loyalty = await FieldDefinition.filter(name="Лояльность").first()
    option = (
        await FieldOption.filter(definition_id=loyalty.id, value="Высокая").first()
        if loyalty
        else None
    )
    year = ReportFilter(preset=None, date_from=today - timedelta(days=364), date_to=today)
    variants: list[tuple[str, ReportFilter, tuple[int, int] | None]] = [("", year, None)]
    if loyalty is not None and option is not None:
        field = ReportFilter(
            preset=None,
            date_from=year.date_from,
            date_to=year.date_to,
            field=FieldMatch(loyalty.id, option.value),
        )
        variants.append((" + field", field, (loyalty.id, option.id)))
    signs = signatures()
    cases = []
    for suffix, report_filter, field_ids in variants:
        period = report_filter.period(calendar.timezone, today)
        frame = sql.Frame(period.start, period.end, now, field_ids, calendar, sla)
        for name, run in REPORTS.items():

            async def report(
                run: Any = run, f: ReportFilter = report_filter, n: str = name
            ) -> Signature:
                return signs[n](await run(f, actor=admin))

            async def baseline(n: str = name, fr: sql.Frame = frame) -> Signature:
                result: Signature = await getattr(sql, n)(pool, fr)
                return result

            cases.append(
                Case(name + suffix, report, baseline if pool else None, BUDGET_MS[dialect])
            )
    # the start page's figures, as crm.reports.dashboard reads them: the pipeline now,
    # this month's inquiries, the deals won this and last month, this month's plan
    month = ReportFilter(preset=Preset.THIS_MONTH)
    last = ReportFilter(preset=Preset.LAST_MONTH)
    month_period = month.period(calendar.timezone, today)
    last_period = last.period(calendar.timezone, today)

    async def dashboard() -> Signature:
        d = await dashboard_figures(admin)
        return (
            *signs["pipeline"](d.pipeline),
            *signs["inquiries"](d.inquiries),
            d.won,
            int(d.won_amount),
            d.last_won,
            int(d.last_won_amount),
            int(d.plan_amount or 0),
        )

    async def dashboard_sql() -> Signature:
        def frame(p: Any) -> sql.Frame:
            return sql.Frame(p.start, p.end, now, None, calendar, sla)

        parts = await asyncio.gather(
            sql.pipeline(pool, frame(month_period)),
            sql.inquiries(pool, frame(month_period)),
            sql.won(pool, frame(month_period)),
            sql.won(pool, frame(last_period)),
            sql.plan(pool, frame(month_period), month_period.first),
        )
        return tuple(x for part in parts for x in part)

    cases.append(Case("dashboard", dashboard, dashboard_sql if pool else None, DASHBOARD_MS))
    return cases


async def measure(case: Case, runs: int, warmup: int) -> Result:
    times: dict[str, list[float]] = {"report": [], "baseline": [], "cpu": []}
    signature: Signature = ()
    other: Signature | None = None
    for i in range(warmup + runs):
        order: list[tuple[str, Callable[[], Awaitable[Signature]]]] = [("report", case.report)]
        if case.baseline is not None:
            order.append(("baseline", case.baseline))
        if i % 2:
            order.reverse()
        for label, func in order:
            started, cpu = time.perf_counter(), time.process_time()
            found = await func()
            elapsed = (time.perf_counter() - started) * 1000
            if label == "report" and i >= warmup:
                times["cpu"].append((time.process_time() - cpu) * 1000)
            if label == "report":
                signature = found
            else:
                other = found
            if i >= warmup:
                times[label].append(elapsed)
    baseline_ms = statistics.median(times["baseline"]) if times["baseline"] else None
    same = None if other is None else other == signature
    return Result(
        case,
        statistics.median(times["report"]),
        baseline_ms,
        same,
        signature,
        statistics.median(times["cpu"]),
    )


def table(results: list[Result]) -> str:
    lines = [
        "| case | report median ms | report CPU ms | SQL median ms | ratio | budget ms"
        " | same figures | pass |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        base_ms = "—" if r.baseline_ms is None else f"{r.baseline_ms:.1f}"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        same = "—" if r.same is None else ("yes" if r.same else f"NO {r.signature}")
        lines.append(
            f"| {r.case.name} | {r.report_ms:.1f} | {r.report_cpu_ms:.0f} | {base_ms} | {ratio}"
            f" | {r.case.budget_ms:.0f}"
            f" | {same} | {'pass' if r.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    if args.sqlite:
        url, dialect = f"sqlite://{args.sqlite}", "sqlite"
    else:
        await ensure_database(args.dsn)
        url, dialect = normalize_db_url(args.dsn), "postgres"
    await db.migrate(url)
    # one moment for the whole run: the reports read clock.now() (the overdue steps, the
    # ages), the baselines the moment the cases were built with
    frozen = clock.now()
    clock.now = lambda: frozen
    async with db.session(url):
        built = await populate(args.clients, args.seed)
        conn = connections.get("default")
        pool = conn._pool if dialect == "postgres" else None  # asyncpg's pool under tortoise
        if dialect == "sqlite":  # the planner's statistics, as crm.demo leaves PostgreSQL's
            _, stats = await conn.execute_query(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            )
            if not stats[0][0]:
                await conn.execute_script("ANALYZE")
        admin = await User.get(email="admin@demo.local")
        counts = {}
        for table_name in ("clients", "interests", "stage_changes", "inquiries", "messages"):
            _, rows = await conn.execute_query(f"SELECT COUNT(*) FROM {table_name}")
            counts[table_name] = int(rows[0][0])
        cases = [
            c
            for c in await build_cases(admin, pool, dialect)
            if not args.only or c.name.split(" ")[0] in args.only
        ]
        results = []
        for case in cases:
            result = await measure(case, args.runs, args.warmup)
            results.append(result)
            verdict = "pass" if result.passed else "FAIL"
            print(f"{case.name:<20} {result.report_ms:9.1f} ms   {verdict}")
    lines = [
        f"### bench.reports on {dialect}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        "- data: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + (f"; generated in this run in {built:.1f} s" if built is not None else ""),
        f"- median of {args.runs} warm runs ({args.warmup} warm-up), the reports as an admin"
        " over the last 12 months; on PostgreSQL interleaved with hand-written SQL"
        " (bench/reports_sql.py) that must give the same totals",
        f"- target: under the budget, and at most {RATIO}x the SQL where there is one",
        "",
        table(results),
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if args.results:
        write_block(Path(args.results), f"bench.reports {dialect}", block)
        print(f"\nwritten to {args.results}")
    return 0 if all(r.passed for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/crmhub_bench")
    parser.add_argument("--sqlite", help="an SQLite file instead of --dsn")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", nargs="*", choices=(*REPORTS, "dashboard"))
    parser.add_argument("--results", help="write the figures into this markdown file")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
