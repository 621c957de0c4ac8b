"""Rate limits as the platforms enforce them, for the fakes: a token bucket per key (a
bot, a chat), refilled at the allowed rate and holding at most `burst` sends; a send
finding the bucket empty is refused (Telegram: 429 with retry_after), and counted."""

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
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Limits:
    """Buckets by key, each kind of key with its (rate, burst)."""

    def __init__(self, **kinds: tuple[float, float]) -> None:
        self.kinds = kinds
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
            return True
        for bucket, (tokens, at) in zip(buckets, snapshot, strict=True):
            bucket.tokens, bucket.at = tokens, at  # nothing taken
        self.refused += 1
        return False
