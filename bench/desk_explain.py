"""bench.desk explain: where one page's time goes. Serves the web app in this process on
the benchmark's database, requests the page (web or API) as the admin or the manager, and
prints every SQL statement of the last request with its time, then `EXPLAIN (ANALYZE,
BUFFERS)` of the statements that took longer than --threshold ms."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from admin_web.app import create_app
from bench.desk_pages import CSRF, PASSWORD, prepare
from crm import db
from crm.config import Settings, normalize_db_url


@dataclass
class Statement:
    sql: str
    values: list[Any]
    ms: float


CAPTURED: list[Statement] = []


def _wrap(name: str) -> None:
    original = getattr(AsyncpgDBClient, name)

    async def timed(self: Any, query: str, values: Any = None, *rest: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, query, values, *rest)
        finally:
            took = (time.perf_counter() - started) * 1000
            CAPTURED.append(Statement(query, list(values or []), took))

    setattr(AsyncpgDBClient, name, timed)


async def run(args: argparse.Namespace) -> int:
    for name in ("execute_query", "execute_query_dict", "execute_insert"):
        _wrap(name)
    url = normalize_db_url(args.dsn)
    async with db.session(url):
        samples, keys = await prepare(url)
        settings = Settings(secret_key="bench-desk-" + "s" * 40, database_url=args.dsn)
        role = args.user
        email = "admin@demo.local" if role == "admin" else samples.manager_email
        path = args.path.format(
            manager=samples.manager_id, client=samples.client_id, tag=samples.tag_id
        )
        async with TestClient(TestServer(create_app(settings))) as client:
            headers = {}
            if path.startswith("/api/"):
                headers["Authorization"] = f"Bearer {keys[role]}"
            else:
                text = await (await client.get("/login")).text()
                token = text.split(CSRF, 1)[1].split('"', 1)[0]
                form = {"email": email, "password": PASSWORD, "_csrf": token}
                await client.post("/login", data=form, allow_redirects=False)
            for attempt in range(args.repeat):
                CAPTURED.clear()
                started = time.perf_counter()
                response = await client.get(path, headers=headers, allow_redirects=False)
                await response.read()
                took = (time.perf_counter() - started) * 1000
                print(f"{path} as {role}: {response.status} in {took:.1f} ms (run {attempt + 1})")
        total = sum(s.ms for s in CAPTURED)
        print(f"{len(CAPTURED)} statements, {total:.1f} ms in SQL:")
        for s in sorted(CAPTURED, key=lambda s: -s.ms):
            print(f"  {s.ms:8.1f} ms  {' '.join(s.sql.split())[:300]}  {s.values[:6]}")
        conn = connections.get("default")
        for s in sorted(CAPTURED, key=lambda s: -s.ms):
            if s.ms < args.threshold or not s.sql.lstrip().upper().startswith("SELECT"):
                continue
            _, rows = await conn.execute_query(f"EXPLAIN (ANALYZE, BUFFERS) {s.sql}", s.values)
            print(f"\n-- {s.ms:.1f} ms: {' '.join(s.sql.split())[:2000]}\n   {s.values}")
            print("\n".join(str(r["QUERY PLAN"]) for r in rows))
    return 0
