"""The raw store's retention, through the real path: bodies posted to the webhook routes,
processed by the intake, then `forget_processed_events` on the database (SQLite, and
PostgreSQL on its pass)."""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from tortoise.transactions import in_transaction

from crm import clock, sql_indexes
from crm.models import Channel, Client, Message, RawEvent, RawEventStatus
from inbox import lead_sources, raw_retention, rawstore
from inbox.raw_retention import BATCH, forget_processed_events
from inbox.service import Inbox
from tests.fakes.base import load_fixture
from tests.inbox.conftest import post, tg_headers
from tests.inbox.test_lead_sources import VIBER_USER, opened, viber_post, wrote


def tg_message(message_id: int) -> dict[str, Any]:
    update = load_fixture("telegram", "message_text")
    update["update_id"] = 900000 + message_id
    update["message"]["message_id"] = message_id
    return update


async def statuses() -> list[tuple[int, RawEventStatus]]:
    return [(r.id, r.status) for r in await RawEvent.all().order_by("id")]


async def test_old_processed_bodies_go_pending_and_unparsed_stay_however_old(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    path, headers = f"/webhooks/telegram/{tg.id}", tg_headers(tg)
    start = clock.now()
    assert (await post(http, path, tg_message(1), **headers)).status == 200
    assert (await post(http, path, b"{not json", **headers)).status == 200
    await inbox.process()
    [(first, done), (garbage, unparsed)] = await statuses()
    assert (done, unparsed) == (RawEventStatus.PROCESSED, RawEventStatus.UNPARSED)
    with time_machine.travel(start + timedelta(days=10)):
        await post(http, path, tg_message(2), **headers)
        await inbox.process()
        await post(http, path, tg_message(3), **headers)  # not processed yet
    [*_, (recent, _), (pending, _)] = await statuses()

    with time_machine.travel(start + timedelta(days=400)):
        assert await forget_processed_events(keep_days=395) == 1
        assert await statuses() == [
            (garbage, RawEventStatus.UNPARSED),
            (recent, RawEventStatus.PROCESSED),  # processed 390 days ago
            (pending, RawEventStatus.PENDING),
        ]
        assert await forget_processed_events(keep_days=1) == 1
        assert await forget_processed_events(keep_days=1) == 0
        assert await statuses() == [
            (garbage, RawEventStatus.UNPARSED),
            (pending, RawEventStatus.PENDING),
        ]
        await inbox.process()  # the pending body is still processed as usual
    assert await Message.all().count() == 3
    assert first not in [id_ for id_, _ in await statuses()]


async def test_a_redelivery_after_its_body_went_makes_no_second_message(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    """Redeliveries are recognized by the message's unique (channel, source_id), not by the
    raw store: a webhook repeated after its first body was deleted changes nothing."""
    path, headers = f"/webhooks/telegram/{tg.id}", tg_headers(tg)
    await post(http, path, tg_message(1), **headers)
    await inbox.process()
    with time_machine.travel(clock.now() + timedelta(days=2)):
        assert await forget_processed_events(keep_days=1) == 1
        assert not await RawEvent.exists()
        assert (await post(http, path, tg_message(1), **headers)).status == 200
        await inbox.process()
    assert await Message.all().count() == 1
    assert await statuses() == [((await RawEvent.get()).id, RawEventStatus.PROCESSED)]


async def test_an_opened_viber_chat_is_kept_while_its_lead_source_may_be_asked_for(
    http: Any, inbox: Inbox, viber: Channel
) -> None:
    start = clock.now()
    await viber_post(http, viber, opened("promo_spring"))
    await viber_post(http, viber, wrote(1, user="Zx9/other+user=="))
    await inbox.process()
    assert [status for _, status in await statuses()] == [RawEventStatus.PROCESSED] * 2

    # The customer writes 20 days after opening the chat; the retention is 1 day.
    with time_machine.travel(start + timedelta(days=20)):
        assert await forget_processed_events(keep_days=1) == 1  # the other's message only
        [kept] = await RawEvent.all()
        assert "conversation_started" in kept.body
        await viber_post(http, viber, wrote(2))
        await inbox.process()
    client = await Client.get(identities__external_id=VIBER_USER)
    assert client.lead_source == "promo_spring"

    # Past the lookup's window it is read no more, and goes like the rest.
    assert lead_sources.CONTEXT_WINDOW < timedelta(days=31)
    with time_machine.travel(start + timedelta(days=31)):
        assert await forget_processed_events(keep_days=1) == 2
    assert not await RawEvent.exists()


async def test_a_backlog_is_deleted_in_bounded_batches(
    db: object, tg: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    total = 2 * BATCH + 500
    await rawstore.store_many(tg.id, [b'{"update_id": %d}' % i for i in range(total + 2)])
    ids = await RawEvent.all().order_by("id").values_list("id", flat=True)
    long_ago = clock.now() - timedelta(days=90)
    await RawEvent.filter(id__in=ids[:total]).update(
        status=RawEventStatus.PROCESSED, processed_at=long_ago
    )
    unparsed, pending = ids[total:]
    await RawEvent.filter(id=unparsed).update(status=RawEventStatus.UNPARSED, processed_at=long_ago)

    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        assert await forget_processed_events(keep_days=30) == total
    deletes = [r for r in caplog.records if str(r.args and r.args[0]).startswith("DELETE")]
    assert [len(r.args[1]) for r in deletes if isinstance(r.args, tuple)] == [BATCH, BATCH, 500]
    assert await statuses() == [
        (unparsed, RawEventStatus.UNPARSED),
        (pending, RawEventStatus.PENDING),
    ]


async def test_the_pass_reads_the_partial_index_of_migration_0005(backend: str, db: object) -> None:
    migration = importlib.import_module("migrations.0005_raw_events_processed")
    [create] = list(migration.Migration.operations)
    # the schema the tests run on has it as the migrated one does (crm.sql_indexes.ensure)
    assert create.sql == sql_indexes.RAW_EVENTS_PROCESSED.create_postgres
    if backend != "postgres":
        return  # SQLite's planner may take the (status, id) index on a small table: fine there
    sql, params = raw_retention._OLDEST, [clock.now(), clock.now(), BATCH]
    async with in_transaction() as tx:
        # a generic plan, as a prepared statement may get: the literal 'processed' still
        # matches the index's predicate where a bound status would not
        await tx.execute_script(
            "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan"
        )
        _, plan = await tx.execute_query("EXPLAIN " + sql, params)
    assert "raw_events_processed" in " ".join(str(tuple(row)) for row in plan)
