"""Pacing of outgoing messages: per channel and per chat, as the platforms ask.

Telegram allows about 30 messages a second per bot and one a second per chat; VK about 20
a second per community; Viber and SMTP servers are given a modest pace too."""

from __future__ import annotations

import asyncio
import time

# messages per second: (per channel, per chat)
RATES = {
    "telegram": (30.0, 1.0),
    "vk": (20.0, 3.0),
    "viber": (20.0, 2.0),
    "email": (5.0, 1.0),
}


class Pacer:
    """The earliest moment each key may send again; `wait` sleeps until both keys allow."""

    def __init__(self) -> None:
        self._next: dict[tuple[object, ...], float] = {}
        self._lock = asyncio.Lock()

    def _reserve(self, key: tuple[object, ...], interval: float, now: float) -> float:
        at = max(now, self._next.get(key, 0.0))
        self._next[key] = at + interval
        return at

    async def wait(self, kind: str, channel_id: int, chat: str) -> None:
        per_channel, per_chat = RATES.get(kind, (10.0, 1.0))
        async with self._lock:
            now = time.monotonic()
            at = max(
                self._reserve(("c", channel_id), 1.0 / per_channel, now),
                self._reserve(("u", channel_id, chat), 1.0 / per_chat, now),
            )
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
