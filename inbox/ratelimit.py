"""Pacing of outgoing messages: per channel and per chat, as the platforms ask, shared by
every worker process.

Telegram allows about 30 messages a second per bot and one a second per chat; VK about 20
a second per community; Viber and SMTP servers are given a modest pace too. A channel's
settings may set its own `send_rate` (messages a second: a mailbox's SMTP limit).

A send first takes the next free moment of its chat, waits for it, then takes the next
free moment of its channel and waits for that, so neither pace is ever exceeded; one that
wakes more than a slot after its moment (a starved process) takes a new one, so sends
whose moments passed together do not go at once. Where the
moments are kept decides who shares them:
- `RedisPacer` (`CRMHUB_REDIS_URL`): one Lua script per key, shared by every process
  on every host;
- `PgPacer` (PostgreSQL without Redis): one upsert per key on `pace_slots`, the row lock
  making concurrent reservations queue (old chat rows pruned every minute);
- `Pacer`: this process only (SQLite: one process sends).
`shared_pacer` picks one."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis
from tortoise import connections

# messages per second: (per channel, per chat)
RATES = {
    "telegram": (30.0, 1.0),
    "vk": (20.0, 3.0),
    "viber": (20.0, 2.0),
    "email": (5.0, 1.0),
}
DEFAULT = (10.0, 1.0)
PRUNE_EVERY = 60.0  # seconds
LATE = 0.25  # seconds past its moment a send still goes on it (a few sends at most)


def channel_rate(channel: Any) -> float | None:
    """The channel's own `send_rate` setting (messages a second), if it has a valid one."""
    try:
        rate = float((channel.settings or {}).get("send_rate") or 0)
    except (TypeError, ValueError):
        return None
    return rate if 0 < rate <= 1000 else None


class Pacer:
    """The earliest moment each key may send again, in this process; `wait` sleeps until
    the chat and then the channel allow."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def reserve(self, key: str, interval: float, now: float) -> float:
        async with self._lock:
            at = max(now, self._next.get(key, 0.0))
            self._next[key] = at + interval
            return at

    async def wait(
        self, kind: str, channel_id: int, chat: str, *, per_second: float | None = None
    ) -> None:
        per_channel, per_chat = RATES.get(kind, DEFAULT)
        per_channel = per_second or per_channel
        for key, interval in (
            (f"u:{channel_id}:{chat}", 1.0 / per_chat),
            (f"c:{channel_id}", 1.0 / per_channel),
        ):
            for attempt in range(2):
                at = await self.reserve(key, interval, time.time())
                delay = at - time.time()
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
                # Woken more than a slot late (the process was starved of CPU): the sends
                # whose moments passed meanwhile would all go at once, past the platform's
                # limit. Take a new moment, once; those of the others are spaced again.
                if attempt or time.time() - at <= max(interval, LATE):
                    break

    async def close(self) -> None:
        return None


_RESERVE = """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local at = math.max(now, nxt)
redis.call('SET', KEYS[1], at + tonumber(ARGV[2]), 'PX', ARGV[3])
return at
"""


class RedisPacer(Pacer):
    """The moments in Redis (integer microseconds), shared by every process."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._redis = Redis.from_url(url)
        self._script = self._redis.register_script(_RESERVE)

    async def reserve(self, key: str, interval: float, now: float) -> float:
        micros = int(interval * 1_000_000)
        keep = int(interval * 1000) + 60_000  # forgotten a minute after its moment
        at = await self._script(
            keys=[f"crmhub:pace:{key}"], args=[int(now * 1_000_000), micros, keep]
        )
        return int(at) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()


class PgPacer(Pacer):
    """The moments in PostgreSQL's `pace_slots`, shared by every process of the install."""

    def __init__(self) -> None:
        super().__init__()
        self._pruned = 0.0

    async def reserve(self, key: str, interval: float, now: float) -> float:
        conn = connections.get("default")
        if now - self._pruned > PRUNE_EVERY:
            self._pruned = now
            await conn.execute_query(
                "DELETE FROM pace_slots WHERE next_at < $1 AND key LIKE 'u:%'", [now - 60]
            )
        _, rows = await conn.execute_query(
            # as a CTE: tortoise's execute_query() drops the rows of a bare INSERT
            "WITH slot AS (INSERT INTO pace_slots (key, next_at)"
            " VALUES ($1, $2::float8 + $3::float8) ON CONFLICT (key) DO UPDATE"
            " SET next_at = GREATEST(pace_slots.next_at, $2::float8) + $3::float8"
            " RETURNING next_at - $3::float8) SELECT * FROM slot",
            [key[:200], now, interval],
        )
        return float(rows[0][0])


class SharedPacer(Pacer):
    """Redis when configured, else PostgreSQL when that is the database, else this
    process (decided at the first send, once the database is known)."""

    def __init__(self, redis_url: str | None = None) -> None:
        super().__init__()
        self._redis_url = redis_url
        self._chosen: Pacer | None = None

    def _pick(self) -> Pacer:
        if self._chosen is None:
            if self._redis_url:
                self._chosen = RedisPacer(self._redis_url)
            elif connections.get("default").capabilities.dialect == "postgres":
                self._chosen = PgPacer()
            else:
                self._chosen = Pacer()
        return self._chosen

    async def reserve(self, key: str, interval: float, now: float) -> float:
        return await self._pick().reserve(key, interval, now)

    async def close(self) -> None:
        if self._chosen is not None:
            await self._chosen.close()
        self._chosen = None
