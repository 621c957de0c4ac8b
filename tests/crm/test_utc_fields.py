"""Every datetime a model stores is UTC, whichever path writes it: create, an attribute set
before save(), update(), bulk_create, bulk_update, and the values bound in filters. On SQLite
tortoise keeps datetimes as ISO text and compares text, so a moment stored or bound with
its offset (`14:00+03:00`) would compare wrongly with UTC text (`11:30+00:00`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm.models import Conversation, Interaction, InteractionKind, InteractionState
from crm.models.base import UtcDatetimeField
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")

PLUS3 = timezone(timedelta(hours=3))
EARLIER_PLUS3 = datetime(2026, 11, 27, 14, 0, tzinfo=PLUS3)  # 11:00 UTC
LATER_UTC = datetime(2026, 11, 27, 11, 30, tzinfo=UTC)
BETWEEN_PLUS3 = datetime(2026, 11, 27, 14, 15, tzinfo=PLUS3)  # 11:15 UTC


async def _texts(column: str) -> list[str]:
    conn = Interaction._meta.db
    _, rows = await conn.execute_query(
        f"SELECT CAST({column} AS TEXT) FROM interactions ORDER BY id"
    )
    return [str(r[0]) for r in rows]


async def _two(client_id: int) -> tuple[Interaction, Interaction]:
    rows = [
        Interaction(
            client_id=client_id,
            kind=InteractionKind.NOTE,
            state=InteractionState.DONE,
            sort_at=LATER_UTC,
            subject=str(n),
        )
        for n in range(2)
    ]
    await Interaction.bulk_create(rows)
    first, second = await Interaction.all().order_by("id")
    return first, second


async def _assert_moments(backend: str) -> None:
    """The +03:00 row (id order: first) sorts before the UTC one, and only the UTC one is
    after 11:15 (bound as 14:15+03:00)."""
    ordered = await Interaction.all().order_by("sort_at").values_list("subject", flat=True)
    assert ordered == ["0", "1"]
    after = await Interaction.filter(sort_at__gt=BETWEEN_PLUS3).values_list("subject", flat=True)
    assert after == ["1"]
    assert await Interaction.filter(sort_at__in=[EARLIER_PLUS3]).values_list(
        "subject", flat=True
    ) == ["0"]
    if backend == "sqlite":
        assert all(t.endswith("+00:00") for t in await _texts("sort_at"))


async def test_update_stores_utc(backend: str) -> None:
    client = await f.client(await f.admin())
    first, _ = await _two(client.id)
    await Interaction.filter(id=first.id).update(sort_at=EARLIER_PLUS3)
    await _assert_moments(backend)


async def test_save_of_an_assigned_moment_stores_utc(backend: str) -> None:
    client = await f.client(await f.admin())
    first, _ = await _two(client.id)
    first.sort_at = EARLIER_PLUS3
    await first.save(update_fields=["sort_at"])
    await _assert_moments(backend)


async def test_bulk_update_stores_utc(backend: str) -> None:
    client = await f.client(await f.admin())
    first, _ = await _two(client.id)
    first.sort_at = EARLIER_PLUS3
    await Interaction.bulk_update([first], fields=["sort_at"])
    await _assert_moments(backend)


async def test_create_and_bulk_create_store_utc(backend: str) -> None:
    client = await f.client(await f.admin())
    await Interaction.create(
        client_id=client.id,
        kind=InteractionKind.NOTE,
        state=InteractionState.DONE,
        sort_at=EARLIER_PLUS3,
        subject="0",
    )
    await Interaction.bulk_create(
        [
            Interaction(
                client_id=client.id,
                kind=InteractionKind.NOTE,
                state=InteractionState.DONE,
                sort_at=LATER_UTC,
                subject="1",
            )
        ]
    )
    await _assert_moments(backend)


def test_every_model_datetime_is_a_utc_field() -> None:
    """A new model's datetime field that forgets the UTC field fails here."""
    from tortoise import Tortoise
    from tortoise.fields import DatetimeField

    plain = [
        f"{model.__name__}.{name}"
        for model in Tortoise.apps["models"].values()
        for name, field in model._meta.fields_map.items()
        if isinstance(field, DatetimeField) and not isinstance(field, UtcDatetimeField)
    ]
    assert plain == []
    assert isinstance(Conversation._meta.fields_map["last_message_at"], UtcDatetimeField)
