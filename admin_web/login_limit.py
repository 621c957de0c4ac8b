"""The login lock-out: failed logins are counted per key; after a key's `attempts`
failures within its `window` that key is locked out for its `lockout`. A key is a kind and
a value (`pair:<address> <email>`); each kind has its own limits (`rules`), so the login
page counts an (address, account) pair strictly, an account from anywhere less strictly and
an address across many accounts with a much higher threshold (admin_web.auth.LOGIN_RULES):
one person's typos behind an office's NAT lock only their own account from there.

Two homes for the counts, chosen by `login_limiter(redis_url)`:

- `RedisLoginLimiter` (CRMHUB_REDIS_URL set): one count shared by every web process, kept
  across restarts. A failure is recorded for all its keys in one Lua script, so concurrent
  attempts on several processes never slip past the limit between a read and a write.
- `MemoryLoginLimiter` (no Redis): kept in this process only. Each web process counts on its
  own and a restart forgets: with N processes an attacker gets N times the attempts.

A key is counted whether or not an account has that email, and a locked key answers the same
either way, so the lock-out never tells which emails have an account. Times come from
`crm.clock` and are compared in the script, not by Redis's clock: Redis's own expiry only
clears keys once they no longer matter (web processes' clocks are assumed to agree, as NTP
keeps them, to well within the minutes the lock lasts)."""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from crm import clock

PREFIX = "crmhub-login"
MAX_KEYS = 100_000  # in memory: a flood of random emails must not grow without end

# KEYS: the failures (a sorted set of times) and the lock (its end) of each key, in pairs.
# ARGV: now (ms), a member unique to this failure, then each key's window, limit and
# lockout (ms), in the keys' order.
RECORD_FAILURE = """
local now = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  local at = 3 + (i - 1) / 2 * 3
  local window, limit = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local lockout = tonumber(ARGV[at + 2])
  local failures, lock = KEYS[i], KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', failures, '-inf', now - window)
  redis.call('ZADD', failures, now, ARGV[2])
  if redis.call('ZCARD', failures) >= limit then
    redis.call('SET', lock, now + lockout, 'PX', lockout)
    redis.call('DEL', failures)
  else
    redis.call('PEXPIRE', failures, window)
  end
end
return 1
"""


class LimiterUnavailable(Exception):
    """The shared count cannot be read or written (Redis does not answer): logins are
    refused rather than let through uncounted."""


@dataclass(frozen=True)
class Limits:
    """`attempts` failures within `window` lock a key out for `lockout`."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


class LoginLimiter(ABC):
    """Failed logins per key, locked out by the limits of the key's kind (`rules`, keyed
    by the text before the key's first colon), else by `limits`."""

    def __init__(
        self, limits: Limits | None = None, *, rules: Mapping[str, Limits] | None = None
    ) -> None:
        self.limits = limits or Limits()
        self.rules = dict(rules or {})

    def limits_of(self, key: str) -> Limits:
        return self.rules.get(key.partition(":")[0], self.limits)

    @abstractmethod
    async def locked_for(self, *keys: str) -> timedelta | None:
        """How long the longest lock-out among `keys` still lasts, or None."""

    @abstractmethod
    async def failed(self, *keys: str) -> None:
        """One more failure for each key; the one that reaches the limit is locked."""

    @abstractmethod
    async def succeeded(self, *keys: str) -> None:
        """A correct password: the keys' failures are forgotten."""

    @abstractmethod
    async def check(self) -> None:
        """Refuse to start (SystemExit) when the counts cannot be kept."""

    @abstractmethod
    async def close(self) -> None:
        """Let go of connections."""


@dataclass
class _Failures:
    times: list[datetime] = field(default_factory=list)
    locked_until: datetime | None = None


class MemoryLoginLimiter(LoginLimiter):
    """The counts in this process: not shared with other web processes, lost on restart."""

    def __init__(
        self, limits: Limits | None = None, *, rules: Mapping[str, Limits] | None = None
    ) -> None:
        super().__init__(limits, rules=rules)
        self._keys: dict[str, _Failures] = {}

    async def locked_for(self, *keys: str) -> timedelta | None:
        now = clock.now()
        longest: timedelta | None = None
        for key in keys:
            entry = self._keys.get(key)
            if entry is None or entry.locked_until is None:
                continue
            if entry.locked_until <= now:
                del self._keys[key]
                continue
            left = entry.locked_until - now
            longest = left if longest is None or left > longest else longest
        return longest

    async def failed(self, *keys: str) -> None:
        now = clock.now()
        for key in keys:
            limits = self.limits_of(key)
            entry = self._keys.setdefault(key, _Failures())
            entry.times = [t for t in entry.times if now - t < limits.window] + [now]
            if len(entry.times) >= limits.attempts:
                entry.locked_until = now + limits.lockout
                entry.times = []
        if len(self._keys) > MAX_KEYS:
            self._keys = {k: v for k, v in self._keys.items() if v.locked_until}

    async def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._keys.pop(key, None)

    async def check(self) -> None:
        return None  # memory is always there

    async def close(self) -> None:
        return None


class RedisLoginLimiter(LoginLimiter):
    """The counts in Redis, shared by every web process and kept across restarts. Key
    names carry a digest of the email or address, not the text itself."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = PREFIX,
        address: str = "",
        limits: Limits | None = None,
        rules: Mapping[str, Limits] | None = None,
    ) -> None:
        super().__init__(limits, rules=rules)
        self.redis = redis
        self.prefix = prefix
        self.address = address  # host:port for messages, never the password
        self._record = redis.register_script(RECORD_FAILURE)

    def _names(self, key: str) -> tuple[str, str]:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{self.prefix}:failures:{digest}", f"{self.prefix}:lock:{digest}"

    async def locked_for(self, *keys: str) -> timedelta | None:
        now = _ms(clock.now())
        try:
            ends = await self.redis.mget([self._names(key)[1] for key in keys])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        left = max((int(end) - now for end in ends if end is not None), default=0)
        return timedelta(milliseconds=left) if left > 0 else None

    async def failed(self, *keys: str) -> None:
        names = [name for key in keys for name in self._names(key)]
        args: list[int | str] = [_ms(clock.now()), secrets.token_hex(8)]
        for key in keys:
            limits = self.limits_of(key)
            args += [_ms_of(limits.window), limits.attempts, _ms_of(limits.lockout)]
        try:
            await self._record(keys=names, args=args)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc

    async def succeeded(self, *keys: str) -> None:
        try:
            await self.redis.delete(*[name for key in keys for name in self._names(key)])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc

    async def check(self) -> None:
        try:
            await self.redis.ping()  # type: ignore[misc]  # redis types sync and async as one
        except (RedisError, OSError) as exc:
            await self.close()
            raise SystemExit(
                f"error: CRMHUB_REDIS_URL: no Redis answers at {self.address} ({exc})"
            ) from None

    async def close(self) -> None:
        await self.redis.aclose()


def login_limiter(
    redis_url: str | None, *, rules: Mapping[str, Limits] | None = None
) -> LoginLimiter:
    """Shared through Redis when a URL is configured, else kept in this process."""
    if not redis_url:
        return MemoryLoginLimiter(rules=rules)
    parts = urlsplit(redis_url)
    address = f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path
    return RedisLoginLimiter(Redis.from_url(redis_url), address=address, rules=rules)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
