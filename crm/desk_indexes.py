"""Indexes behind the web desk's lists at a million clients (issue 15, bench/desk.py): the
client list in each order and filter, the search by a name part, the client card's reads,
the deals list, the board and the inbox. Created by migration 0017 (`create`); the
trigram indexes only on PostgreSQL with the pg_trgm extension (made when the migration's
user may), elsewhere a name search scans as before.

Lists of live clients are read in (sort column, id) order and stopped at the page: the
clients indexes are partial on `merged_into_id IS NULL` like every list's filter. The name
search's condition is `UPPER(name) LIKE UPPER('%part%')` (tortoise's `icontains`, and
`crm.client_search`): the trigram indexes are on exactly that expression."""

from __future__ import annotations

from typing import NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

LIVE = "WHERE merged_into_id IS NULL"


class DeskIndex(NamedTuple):
    name: str
    table: str
    columns: str
    where: str = ""
    include: str = ""  # PostgreSQL only (SQLite indexes the columns alone)

    def sql(self, dialect: str) -> str:
        include = f" INCLUDE ({self.include})" if self.include and dialect == "postgres" else ""
        where = f" {self.where}" if self.where else ""
        return (
            f"CREATE INDEX IF NOT EXISTS {self.name} ON {self.table}"
            f" ({self.columns}){include}{where}"
        )


INDEXES: list[DeskIndex] = [
    # the client list sorted by name / created, whole or a manager's own
    DeskIndex("clients_live_name", "clients", "name, id", LIVE),
    DeskIndex("clients_live_created", "clients", "created_at, id", LIVE),
    DeskIndex("clients_live_mine_name", "clients", "responsible_id, name, id", LIVE),
    DeskIndex("clients_live_mine_created", "clients", "responsible_id, created_at, id", LIVE),
    # the tag filter (the unique index starts with the client)
    DeskIndex("client_tags_by_tag", "client_tags", "tag_id, clients_id"),
    # a list or flag field filtered by its value
    DeskIndex(
        "field_values_by_option", "field_values", "definition_id, value_option_id, client_id"
    ),
    DeskIndex("field_values_by_flag", "field_values", "definition_id, value_flag, client_id"),
    # the client card: its contact persons (and their phone's twins), deals, conversations
    DeskIndex("contact_persons_client", "contact_persons", "client_id"),
    DeskIndex("contact_persons_phone", "contact_persons", "phone"),
    DeskIndex("interests_client", "interests", "client_id, id"),
    DeskIndex("conversations_client", "conversations", "client_id, last_message_at"),
    # the deals list (all, a manager's) newest change first; the board's columns and totals
    DeskIndex("interests_status_updated", "interests", "status, updated_at, id"),
    DeskIndex(
        "interests_mine_status_updated", "interests", "responsible_id, status, updated_at, id"
    ),
    DeskIndex(
        "interests_board",
        "interests",
        "scenario_id, status, stage_id, updated_at, id",
        include="currency, amount, responsible_id",
    ),
    # the inbox, most recent conversation first: conversations (last_message_at, id) is
    # migration 0012's (crm.desk_list's keyset paging)
]

# Migration 0019 (`create_later`): the list by last contact (crm.last_contact), whole or a
# manager's; a user's clients in id order, every one (crm.client_pages reads the list by
# responsible a user at a time; crm.access hashes a manager's client ids from it, read
# from the index alone); the board's index again with each deal's client, so that a
# manager's columns (their deals and their clients' deals) are read from the index alone.
LATER: list[DeskIndex] = [
    DeskIndex("clients_live_last_contact", "clients", "last_contact_at, id", LIVE),
    DeskIndex(
        "clients_live_mine_last_contact", "clients", "responsible_id, last_contact_at, id", LIVE
    ),
    DeskIndex("clients_by_responsible", "clients", "responsible_id, id"),
    DeskIndex(
        "interests_board_clients",
        "interests",
        "scenario_id, status, stage_id, updated_at, id",
        include="currency, amount, responsible_id, client_id",
    ),
]
REPLACED = ["interests_board"]  # by interests_board_clients

TRIGRAM: list[DeskIndex] = [
    DeskIndex("clients_name_trgm", "clients USING gin", "UPPER(name) gin_trgm_ops"),
    DeskIndex("clients_legal_name_trgm", "clients USING gin", "UPPER(legal_name) gin_trgm_ops"),
]


async def trigram_available(conn: BaseDBAsyncClient) -> bool:
    """Whether pg_trgm is (or could be made) installed: PostgreSQL with the extension
    shipped, and the user allowed to create it (pg_trgm is a trusted extension: a
    database owner may)."""
    if conn.capabilities.dialect != "postgres":
        return False
    _, rows = await conn.execute_query(
        "SELECT installed_version IS NOT NULL AS installed,"
        " has_database_privilege(current_database(), 'CREATE') AS may"
        " FROM pg_available_extensions WHERE name = 'pg_trgm'"
    )
    return bool(rows) and bool(rows[0][0] or rows[0][1])


async def create(conn: BaseDBAsyncClient) -> None:
    """Every index of INDEXES (idempotent), and TRIGRAM where pg_trgm can be had."""
    dialect = conn.capabilities.dialect
    for index in INDEXES:
        await conn.execute_script(index.sql(dialect))
    if await trigram_available(conn):
        await conn.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for index in TRIGRAM:
            await conn.execute_script(index.sql(dialect))
    if dialect == "postgres":
        await conn.execute_script(
            "ANALYZE clients; ANALYZE client_tags; ANALYZE field_values; ANALYZE interests;"
            " ANALYZE conversations; ANALYZE contact_persons"
        )


async def create_later(conn: BaseDBAsyncClient) -> None:
    """LATER's indexes (idempotent)."""
    for index in LATER:
        await conn.execute_script(index.sql(conn.capabilities.dialect))
    for name in REPLACED:
        await conn.execute_script(f"DROP INDEX IF EXISTS {name}")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE clients; ANALYZE interests")


async def drop_later(conn: BaseDBAsyncClient) -> None:
    dialect = conn.capabilities.dialect
    for index in INDEXES:
        if index.name in REPLACED:
            await conn.execute_script(index.sql(dialect))
    for index in LATER:
        await conn.execute_script(f"DROP INDEX IF EXISTS {index.name}")


async def drop(conn: BaseDBAsyncClient) -> None:
    for index in (*INDEXES, *TRIGRAM):
        await conn.execute_script(f"DROP INDEX IF EXISTS {index.name}")
