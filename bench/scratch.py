"""Scratch PostgreSQL databases for the benchmarks (their data is thrown away)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def db_url(dsn: str, name: str) -> str:
    """`dsn` pointed at database `name` on the same server."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def recreate(dsn: str) -> None:
    """Drop the database `dsn` names, if there, and create it empty."""
    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(db_url(dsn, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
