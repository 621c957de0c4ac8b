"""The web desk benchmark (issue 15): pages at scale and live latency.

    .venv/bin/python -m bench.desk pages [--dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench]
    .venv/bin/python -m bench.desk live [--rate 200] [--desks 50]

pages: on the demo database (made or topped up with `crm.demo` to --clients), starts
`crmhub run --role web`, logs in as the admin and as the manager with the most clients,
and times every page of the desk and the API's lists over HTTP (median of --runs).
Target: every median under 200 ms.

live: see bench/desk_live.py.
"""

from __future__ import annotations

import argparse
import asyncio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.desk", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    pages = sub.add_parser("pages", help="the desk's pages and the API on the demo database")
    pages.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/crmhub_bench")
    pages.add_argument("--clients", type=int, default=1_000_000)
    pages.add_argument("--seed", type=int, default=1)
    pages.add_argument("--runs", type=int, default=7)
    pages.add_argument("--warmup", type=int, default=2)
    pages.add_argument("--deep-page", type=int, default=500, help="reached by its cursor")
    pages.add_argument("--only", nargs="*", help="cases whose name holds one of these")
    pages.add_argument("--results", help="write the figures into this markdown file")
    live = sub.add_parser("live", help="webhook to the web desks and the manager's card")
    live.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    live.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    live.add_argument("--rate", type=float, default=200.0)
    live.add_argument("--seconds", type=float, default=10.0)
    live.add_argument("--senders", type=int, default=100)
    live.add_argument("--managers", type=int, default=10)
    live.add_argument("--desks", type=int, default=50)
    live.add_argument("--results", help="write the figures into this markdown file")
    explain = sub.add_parser("explain", help="one page's SQL statements, timed and explained")
    explain.add_argument("path", help="e.g. /clients?sort=last_contact or /api/v1/clients")
    explain.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/crmhub_bench")
    explain.add_argument("--user", choices=("admin", "manager"), default="admin")
    explain.add_argument("--repeat", type=int, default=2)
    explain.add_argument("--threshold", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.mode == "pages":
        from bench import desk_pages

        return asyncio.run(desk_pages.run(args))
    if args.mode == "live":
        from bench import desk_live

        return asyncio.run(desk_live.run(args))
    if args.mode == "explain":
        from bench import desk_explain

        return asyncio.run(desk_explain.run(args))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
