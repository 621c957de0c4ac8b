"""API keys: created by admins, each acting as one user with that user's rights. Only the
key's hash is stored; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from crm import clock
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import ApiKey, User

PREFIX = "crm_"
TOUCH_EVERY = timedelta(minutes=5)  # how stale `last_used_at` may get (saves writes)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(name: str, user_id: int, *, actor: User | None) -> tuple[ApiKey, str]:
    """A new key for `user_id`; returns the row and the key (shown once, never stored)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = N_("Required")
    if not await User.filter(id=user_id, is_active=True).exists():
        errors["user_id"] = N_("Unknown user")
    if errors:
        raise ValidationFailed(fields=errors)
    key = PREFIX + secrets.token_urlsafe(32)
    row = await ApiKey.create(
        name=name.strip()[:100],
        prefix=key[:10],
        key_hash=_hash(key),
        user_id=user_id,
        created_by=actor,
    )
    return row, key


async def revoke_key(key_id: int, *, actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    if not await ApiKey.filter(id=key_id, revoked_at__isnull=True).update(revoked_at=clock.now()):
        raise NotFound()


async def authenticate(key: str) -> User | None:
    """The active user a live key acts as, or None."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    row = await ApiKey.filter(key_hash=_hash(key), revoked_at__isnull=True).first()
    if row is None:
        return None
    user = await User.filter(id=row.user_id, is_active=True).first()  # type: ignore[attr-defined]
    now = clock.now()
    if user is not None and (row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY):
        await ApiKey.filter(id=row.id).update(last_used_at=now)
    return user


async def list_keys() -> list[ApiKey]:
    return await ApiKey.all().order_by("-id").prefetch_related("user")
