"""Partial indexes that tortoise cannot declare on a model (its `PartialIndex` renders only
`column = value` conditions, not `IS NULL`): the SQL for a migration's RunSQL, and `ensure()`
for schemas made by `generate_schemas` (the test fixture).

The reminder and nag claims scan only the rows they can claim: interactions done or
cancelled before their reminder fired keep `reminded_at IS NULL` forever, and an index over
every row would walk past all of them first. The claims in `crm.reminders` spell the state
as the literal 'planned' (not a bound parameter) so that PostgreSQL can match these
predicates under a generic prepared-statement plan too."""

from __future__ import annotations

from typing import NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient


class SqlIndex(NamedTuple):
    name: str
    create_postgres: str
    create_sqlite: str


def _partial(name: str, columns: str, where: str) -> SqlIndex:
    sql = f"CREATE INDEX IF NOT EXISTS {name} ON interactions ({columns}) WHERE {where}"
    return SqlIndex(name, sql, sql)  # the same text is valid on both


INDEXES: list[SqlIndex] = [
    # crm.reminders.claim_due_reminders: ORDER BY remind_at over the claimable rows
    _partial(
        "interactions_due_reminders",
        "remind_at",
        "state = 'planned' AND reminded_at IS NULL",
    ),
    # crm.reminders.claim_overdue_nags: ORDER BY planned_at over the naggable rows
    _partial(
        "interactions_due_nags",
        "planned_at",
        "state = 'planned' AND reminded_at IS NOT NULL AND nagged_at IS NULL",
    ),
]


# Created by later migrations of their own; `ensure` makes them too.
CHAT_OPENED_PREDICATE = "body LIKE '%conversation_started%'"
_CHAT_OPENED_SQL = (
    "CREATE INDEX IF NOT EXISTS raw_events_chat_opened ON raw_events (channel_id, created_at)"
    f" WHERE {CHAT_OPENED_PREDICATE}"
)
# inbox.lead_sources: a Viber customer's first message looks back at their opened chats
# (migration 0003)
RAW_EVENTS_CHAT_OPENED = SqlIndex("raw_events_chat_opened", _CHAT_OPENED_SQL, _CHAT_OPENED_SQL)
# inbox.raw_retention: the processed bodies past the retention, oldest first (migration 0005)
_PROCESSED_SQL = (
    "CREATE INDEX IF NOT EXISTS raw_events_processed ON raw_events (processed_at)"
    " WHERE status = 'processed'"
)
RAW_EVENTS_PROCESSED = SqlIndex("raw_events_processed", _PROCESSED_SQL, _PROCESSED_SQL)
# The reports (migration 0015). crm.reports.pipeline and managers: the open deals' planned
# next steps, grouped by interest (415k of 2.7M interactions at 1M clients).
_PLANNED_SQL = (
    "CREATE INDEX IF NOT EXISTS interactions_planned_by_interest"
    " ON interactions (interest_id, planned_at) WHERE state = 'planned'"
)
INTERACTIONS_PLANNED = SqlIndex("interactions_planned_by_interest", _PLANNED_SQL, _PLANNED_SQL)
# crm.reports.inquiries: an inquiry's first reply a person wrote, one index entry away
# (customers' messages and robots' have no entry, so receiving messages costs nothing more)
_REPLIES_SQL = (
    "CREATE INDEX IF NOT EXISTS messages_replies ON messages (conversation_id, created_at, id)"
    " WHERE direction = 'out' AND author_id IS NOT NULL"
)
MESSAGES_REPLIES = SqlIndex("messages_replies", _REPLIES_SQL, _REPLIES_SQL)
REPORT_INDEXES = [INTERACTIONS_PLANNED, MESSAGES_REPLIES]
# crm.reports.kept_minutes (migration 0021): people's replies not yet given to their
# inquiries' kept figures; a handful at any time (settled within the minute)
FIGURES_PENDING_PREDICATE = (
    "figures_pending IS NOT NULL AND direction = 'out' AND author_id IS NOT NULL"
)
_PENDING_SQL = (
    "CREATE INDEX IF NOT EXISTS messages_figures_pending ON messages (id)"
    f" WHERE {FIGURES_PENDING_PREDICATE}"
)
MESSAGES_FIGURES_PENDING = SqlIndex("messages_figures_pending", _PENDING_SQL, _PENDING_SQL)
# crm.stage_moves.settle (migration 0018): the moves whose funnel values are not kept yet
_UNSETTLED_SQL = (
    "CREATE INDEX IF NOT EXISTS stage_changes_unsettled ON stage_changes (interest_id)"
    " WHERE advanced IS NULL"
)
STAGE_CHANGES_UNSETTLED = SqlIndex("stage_changes_unsettled", _UNSETTLED_SQL, _UNSETTLED_SQL)
LATER: list[SqlIndex] = [
    RAW_EVENTS_CHAT_OPENED,
    RAW_EVENTS_PROCESSED,
    *REPORT_INDEXES,
    MESSAGES_FIGURES_PENDING,
    STAGE_CHANGES_UNSETTLED,
]


def drop_sql(index: SqlIndex) -> str:
    """The reverse of the index's CREATE (the same on both databases)."""
    return f"DROP INDEX IF EXISTS {index.name}"


async def ensure(conn: BaseDBAsyncClient) -> None:
    """Create the missing indexes of INDEXES and LATER on `conn` (idempotent)."""
    postgres = conn.capabilities.dialect == "postgres"
    for index in (*INDEXES, *LATER):
        await conn.execute_script(index.create_postgres if postgres else index.create_sqlite)
