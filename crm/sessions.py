"""The panel's logins as rows: a session lives exactly as long as its row.

A login makes a random token, given to the browser (in the panel's encrypted cookie) and
kept here only as its sha256 digest, so a copy of the table logs nobody in. Each request
finds its user with one read on the digest's unique index (`session_user`), which also
refuses an ended, expired or deactivated one. Deleting the row ends the session everywhere
a copy of the cookie is: logout (`end_session`), and every session of a user when their
password changes or they are deactivated (crm.users) or an admin ends them all
(`end_sessions`)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from crm import clock
from crm.errors import PermissionDenied
from crm.models import User, WebSession
from crm.rows import RowReader, moment, query

SESSION_AGE = timedelta(days=14)

_USERS = RowReader(User)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def start_session(user: User, *, age: timedelta = SESSION_AGE) -> str:
    """A new session for `user`; the token the browser keeps. Sessions that ended by age
    are deleted on the way (one DELETE along the expiry index)."""
    now = clock.now()
    await WebSession.filter(expires_at__lte=now).delete()
    token = secrets.token_urlsafe(32)
    await WebSession.create(key_hash=_digest(token), user=user, expires_at=now + age)
    return token


async def session_user(token: str) -> User | None:
    """The active user of a live session, else None: one indexed read."""
    if not token:
        return None
    rows = await query(
        f"SELECT {_USERS.select_list('u')} FROM web_sessions s"
        " JOIN users u ON u.id = s.user_id"
        " WHERE s.key_hash = $1 AND s.expires_at > $2 AND u.is_active = $3",
        [_digest(token), moment(clock.now()), True],
    )
    return _USERS.models(rows[:1])[0] if rows else None


async def live_sessions(user_id: int) -> int:
    """How many sessions of the user have neither ended nor expired."""
    return await WebSession.filter(user_id=user_id, expires_at__gt=clock.now()).count()


async def end_session(token: str) -> None:
    """Logout: this session ends (copies of its cookie stop working)."""
    if token:
        await WebSession.filter(key_hash=_digest(token)).delete()


async def forget_sessions(user_id: int) -> int:
    """Every session of the user ends; how many there were. For crm's own services (a new
    password, deactivation), which check the actor's rights themselves."""
    return await WebSession.filter(user_id=user_id).delete()


async def end_sessions(user_id: int, *, actor: User) -> int:
    """An admin ends every session of a user (a lost laptop, a shared password); how many
    ended. The user logs in again with their password."""
    if not actor.is_admin:
        raise PermissionDenied()
    return await forget_sessions(user_id)
