"""Rate limits as the platforms enforce them, for the fakes: a token bucket per key (a
bot, a chat), refilled at the allowed rate and holding at most `burst` sends; a send
finding the bucket empty is refused, in the platform's own way, and counted:

- Telegram: 30 messages a second per bot, 1 a second per chat (a burst of 2): HTTP 429
  "Too Many Requests: retry after N" (`TELEGRAM`);
- VK: 20 API calls a second per community token: error 6 "Too many requests per second"
  in VK's JSON error (HTTP 200) (`VK`);
- Viber: no published per-second figure for send_message; a conservative 20 a second per
  bot: status 12 "Too many requests" (HTTP 200) (`VIBER`);
- SMTP: the mailbox's own sending rate (the channel's `send_rate`): `451 4.7.1` "too many
  messages, slow down" at MAIL FROM, as mail servers refuse a client sending too fast
  (`smtp(rate)`).

The burst of a platform's bucket is one second's worth: a sender paced at the limit is
never refused, one sending faster is within a second."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float  # sends a second
    burst: float  # at most this many at once
    tokens: float = -1.0
    at: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


TELEGRAM = {"bot": (30.0, 30.0), "chat": (1.0, 2.0)}
VK = {"token": (20.0, 20.0)}
VIBER = {"bot": (20.0, 20.0)}


def smtp(rate: float) -> dict[str, tuple[float, float]]:
    """A mailbox allowed `rate` messages a second (at least one at once)."""
    return {"mailbox": (rate, max(1.0, rate))}


class Limits:
    """Buckets by key, each kind of key with its (rate, burst)."""

    def __init__(self, **kinds: tuple[float, float]) -> None:
        self.kinds = kinds
        self.allowed = 0
        self.buckets: dict[tuple[str, object], Bucket] = {}
        self.refused = 0

    def allow(self, **keys: object) -> bool:
        """Whether one send for these keys (kind=value) is allowed; takes from every bucket
        only when all allow it."""
        now = time.monotonic()
        buckets = []
        for kind, value in keys.items():
            rate, burst = self.kinds[kind]
            buckets.append(self.buckets.setdefault((kind, value), Bucket(rate, burst)))
        snapshot = [(b.tokens, b.at) for b in buckets]
        if all(b.take(now) for b in buckets):
            self.allowed += 1
            return True
        for bucket, (tokens, at) in zip(buckets, snapshot, strict=True):
            bucket.tokens, bucket.at = tokens, at  # nothing taken
        self.refused += 1
        return False
