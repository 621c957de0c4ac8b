"""bench.desk pages: the web desk's pages and the API's lists on the demo database, over HTTP
against a real `crmhub run --role web`, as an admin and as a manager (see bench/desk.py)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.domain import machine
from bench.domain_data import ensure_database, populate
from bench.ingest import ROOT, free_port, stop, wait_http
from bench.results import write_block
from crm import apikeys, db
from crm.client_pages import Cursor
from crm.config import normalize_db_url
from crm.models import (
    ApiKey,
    Client,
    ClientContact,
    ContactKind,
    FieldDefinition,
    FieldOption,
    Role,
    Tag,
    User,
)
from crm.users import hash_password

CRMHUB = str(Path(sys.executable).parent / "crmhub")
PASSWORD = "bench-desk-password-0123456789"
KEY_NAME = "bench.desk"
TARGET_MS = 200.0
CSRF = 'name="_csrf" value="'


@dataclass
class Case:
    name: str
    web: str | None  # the page's path and query
    api: str | None  # the API's path and query (under /api/v1)


@dataclass
class Timing:
    medians: dict[str, float] = field(default_factory=dict)  # "admin web" -> ms
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Samples:
    admin_id: int
    manager_id: int
    manager_email: str
    tag_id: int
    option: tuple[int, int] | None  # a list field's id and one of its options
    name_part: str
    phone: str
    inn: str
    email: str
    client_id: int
    counts: dict[str, int]
    deep_after: str = ""  # the cursor (crm.client_pages) of the deep page by name


def cases(s: Samples, deep_page: int) -> list[Case]:
    def q(**params: Any) -> str:
        return "?" + urlencode(params)

    found = [
        Case("clients: default", "/clients", "/clients"),
        Case("clients: tag", "/clients" + q(tag_id=s.tag_id), "/clients" + q(tag_id=s.tag_id)),
        Case(
            "clients: responsible",
            "/clients" + q(responsible_id=s.manager_id),
            "/clients" + q(responsible_id=s.manager_id),
        ),
        Case(
            "clients: relation + kind",
            "/clients" + q(relation_type="supplier", kind="legal"),
            "/clients" + q(relation_type="supplier", kind="legal"),
        ),
    ]
    if s.option:
        chosen = {f"cf_{s.option[0]}": s.option[1]}
        found.append(Case("clients: list field", "/clients" + q(**chosen), None))
    for sort in ("-name", "last_contact", "-last_contact", "responsible", "created", "-created"):
        found.append(Case(f"clients: sort {sort}", "/clients" + q(sort=sort), None))
    found += [
        Case(  # the page the pages' "Next" links reach (keyset: after the page before's last)
            f"clients: page {deep_page}",
            "/clients" + q(after=s.deep_after),
            "/clients" + q(after=s.deep_after),
        ),
        Case("search: name part", "/clients" + q(q=s.name_part), "/clients" + q(q=s.name_part)),
        Case("search: phone", "/clients" + q(q=s.phone), "/clients" + q(q=s.phone)),
        Case("search: INN", "/clients" + q(q=s.inn), "/clients" + q(q=s.inn)),
        Case("search: email", "/clients" + q(q=s.email), "/clients" + q(q=s.email)),
        Case("client card", f"/clients/{s.client_id}", f"/clients/{s.client_id}"),
        Case("deals", "/deals", "/interests?status=open"),
        Case("board", "/board", None),
        Case("desk (inbox)", "/inbox", "/conversations"),
    ]
    return found


async def deep_cursor(deep_page: int, per_page: int = 50) -> str:
    """The cursor after the last client of page `deep_page - 1` of the whole list by name
    (of the last page but one, on a database too small for `deep_page`)."""
    listed = Client.filter(merged_into_id=None)
    pages = max(1, -(-await listed.count() // per_page))
    page = min(deep_page, pages)
    if page <= 1:
        return ""
    last = await listed.order_by("name", "id").offset((page - 1) * per_page - 1).first()
    assert last is not None
    return Cursor("name", last.name, last.id).text()


async def prepare(conn_url: str) -> tuple[Samples, dict[str, str]]:
    """Passwords for the admin and the busiest manager, an API key each, and the values the
    cases look up (taken from the manager's own clients, so both users find them)."""
    admin = await User.get(email="admin@demo.local")
    managers = await User.filter(role=Role.MANAGER, is_active=True).order_by("id")
    counts = {m.id: await Client.filter(responsible_id=m.id).count() for m in managers[:3]}
    manager = next(m for m in managers if m.id == max(counts, key=lambda k: counts[k]))
    for user in (admin, manager):
        user.password_hash = hash_password(PASSWORD)
        await user.save(update_fields=["password_hash"])
    await ApiKey.filter(name=KEY_NAME).delete()
    keys = {}
    for role, user in (("admin", admin), ("manager", manager)):
        _, keys[role] = await apikeys.create_key(KEY_NAME, user.id, actor=None)
    own = Client.filter(responsible_id=manager.id, merged_into_id=None)
    step = max(1, min(100, counts[manager.id] // 10))  # a few clients in (tiny runs: fewer)
    individual = (
        await own.filter(kind="individual", legal_name="").order_by("id").offset(step).first()
    )
    assert individual is not None, "the manager has no individual clients"
    with_inn = await own.filter(inn__not_isnull=True).order_by("id").offset(2 * step).first()
    assert with_inn is not None and with_inn.inn
    phone = (
        await ClientContact.filter(kind=ContactKind.PHONE, client__responsible_id=manager.id)
        .order_by("id")
        .offset(3 * step)
        .first()
    )
    email = (
        await ClientContact.filter(kind=ContactKind.EMAIL, client__responsible_id=manager.id)
        .order_by("id")
        .offset(3 * step)
        .first()
    )
    assert phone is not None and email is not None
    busiest = await busiest_client(manager.id)
    tag = await Tag.all().order_by("id").first()
    assert tag is not None
    option = None
    listed = await FieldDefinition.filter(type="list", is_active=True).order_by("id").first()
    if listed is not None:
        first = await FieldOption.filter(definition_id=listed.id).order_by("id").first()
        option = (listed.id, first.id) if first else None
    from tortoise import connections

    conn = connections.get("default")
    table_counts = {}
    for table in ("clients", "client_contacts", "interests", "interactions", "conversations"):
        _, rows = await conn.execute_query(f"SELECT COUNT(*) FROM {table}")
        table_counts[table] = int(rows[0][0])
    samples = Samples(
        admin_id=admin.id,
        manager_id=manager.id,
        manager_email=manager.email,
        tag_id=tag.id,
        option=option,
        name_part=individual.name.split()[0][:-1],  # a surname less its last letter
        phone=phone.value,
        inn=with_inn.inn,
        email=email.value,
        client_id=busiest,
        counts=table_counts,
    )
    return samples, keys


async def busiest_client(manager_id: int) -> int:
    """Among the manager's first clients, the one with the most interactions (a full card)."""
    from tortoise import connections

    _, rows = await connections.get("default").execute_query(
        "SELECT i.client_id FROM interactions i WHERE i.client_id IN"
        " (SELECT id FROM clients WHERE responsible_id = $1 ORDER BY id LIMIT 2000)"
        " GROUP BY i.client_id ORDER BY COUNT(*) DESC, i.client_id LIMIT 1",
        [manager_id],
    )
    return int(rows[0][0])


async def log_in(session: aiohttp.ClientSession, base: str, email: str) -> None:
    async with session.get(base + "/login") as response:
        text = await response.text()
    token = text.split(CSRF, 1)[1].split('"', 1)[0]
    form = {"email": email, "password": PASSWORD, "_csrf": token}
    async with session.post(base + "/login", data=form, allow_redirects=False) as response:
        if response.status not in (302, 303):
            raise SystemExit(f"log-in as {email} answered {response.status}")


async def timed(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.get(url, headers=headers, allow_redirects=False) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}")
    return (time.perf_counter() - started) * 1000


async def measure(
    base: str, samples: Samples, keys: dict[str, str], args: argparse.Namespace
) -> list[tuple[Case, Timing]]:
    jar = {role: aiohttp.CookieJar(unsafe=True) for role in ("admin", "manager")}
    sessions = {role: aiohttp.ClientSession(cookie_jar=jar[role]) for role in jar}
    try:
        await log_in(sessions["admin"], base, "admin@demo.local")
        await log_in(sessions["manager"], base, samples.manager_email)
        results = []
        for case in cases(samples, args.deep_page):
            if args.only and not any(o in case.name for o in args.only):
                continue
            timing = Timing()
            for role in ("admin", "manager"):
                for kind, path in (("web", case.web), ("API", case.api)):
                    if path is None:
                        continue
                    url = base + (path if kind == "web" else "/api/v1" + path)
                    headers = {"Authorization": f"Bearer {keys[role]}"} if kind == "API" else {}
                    label = f"{role} {kind}"
                    try:
                        for _ in range(args.warmup):
                            await timed(sessions[role], url, headers)
                        runs = [await timed(sessions[role], url, headers) for _ in range(args.runs)]
                        timing.medians[label] = statistics.median(runs)
                    except RuntimeError as exc:
                        timing.errors[label] = str(exc)
            results.append((case, timing))
            shown = "  ".join(f"{k} {v:7.1f}" for k, v in timing.medians.items()) + "".join(
                f"  {k} ERROR {v}" for k, v in timing.errors.items()
            )
            print(f"{case.name:<28} {shown}", flush=True)
        return results
    finally:
        for session in sessions.values():
            await session.close()


COLUMNS = ("admin web", "manager web", "admin API", "manager API")


def table(results: list[tuple[Case, Timing]]) -> str:
    lines = [
        "| case | " + " | ".join(f"{c} ms" for c in COLUMNS) + " | pass |",
        "| --- |" + " ---: |" * len(COLUMNS) + " --- |",
    ]
    for case, timing in results:
        cells = []
        for column in COLUMNS:
            if column in timing.errors:
                cells.append(f"error {timing.errors[column]}")
            elif column in timing.medians:
                cells.append(f"{timing.medians[column]:.1f}")
            else:
                cells.append("—")
        lines.append(f"| {case.name} | " + " | ".join(cells) + f" | {verdict(timing)} |")
    return "\n".join(lines)


def verdict(timing: Timing) -> str:
    ok = not timing.errors and all(v < TARGET_MS for v in timing.medians.values())
    return "pass" if ok else "FAIL"


async def run(args: argparse.Namespace) -> int:
    await ensure_database(args.dsn)
    url = normalize_db_url(args.dsn)
    await db.migrate(url)
    async with db.session(url):
        await populate(args.clients, args.seed)
        samples, keys = await prepare(url)
        samples.deep_after = await deep_cursor(args.deep_page)
    print(
        f"as admin and {samples.manager_email}; name part {samples.name_part!r}, phone"
        f" {samples.phone}, INN {samples.inn}, email {samples.email}, card {samples.client_id}"
    )
    port = free_port()
    env = {
        **os.environ,
        "CRMHUB_DATABASE_URL": args.dsn,
        "CRMHUB_WEB_PORT": str(port),
        "CRMHUB_SECRET_KEY": "bench-desk-" + "s" * 40,
        "CRMHUB_DATA_DIR": str(ROOT / "data" / "bench-desk"),
    }
    env.pop("CRMHUB_REDIS_URL", None)
    server = subprocess.Popen([CRMHUB, "run", "--role", "web"], env=env)  # noqa: ASYNC220
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/healthz", time.perf_counter() + 120)
        results = await measure(base, samples, keys, args)
    finally:
        stop(server)
        async with db.session(url):
            await ApiKey.filter(name=KEY_NAME).delete()
    lines = [
        f"### bench.desk pages on PostgreSQL, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        "- data: " + ", ".join(f"{v:,} {k}" for k, v in samples.counts.items()),
        f"- `crmhub run --role web`; each page over HTTP, median of {args.runs} runs after"
        f" {args.warmup} warm-up, as the admin and as the manager with the most clients"
        " (web: a logged-in session; API: a key of the same user)",
        f"- target: every median under {TARGET_MS:.0f} ms",
        "",
        table(results),
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if args.results:
        write_block(Path(args.results), "bench.desk pages", block)
        print(f"\nwritten to {args.results}")
    return 0 if all(verdict(t) == "pass" for _, t in results) else 1
