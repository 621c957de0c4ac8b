"""CRM users (admins and managers), groups, passwords and Telegram binding. A new password
or deactivation ends the user's panel sessions (crm.sessions)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from crm import clock, normalize
from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_, SUPPORTED_LOCALES
from crm.models import Invite, Role, User, UserGroup
from crm.regions import check_timezone
from crm.rows import RowReader, query
from crm.sessions import forget_sessions

_hasher = PasswordHasher()
INVITE_TTL = timedelta(days=7)
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.field(
            "password", N_("The password must have at least {n} characters"), n=MIN_PASSWORD
        )
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash or not user.is_active:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


async def create_user(
    *,
    email: str,
    full_name: str,
    role: Role = Role.MANAGER,
    password: str | None = None,
    phone: str | None = None,
    locale: str = "ru",
    timezone: str = "Europe/Moscow",
    actor: User | None,
) -> User:
    """Create a user; `actor=None` is the system (createadmin, onboarding)."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    if not full_name.strip():
        errors["full_name"] = N_("Required")
    if locale not in SUPPORTED_LOCALES:
        errors["locale"] = N_("Unsupported language")
    if errors:
        raise ValidationFailed(fields=errors)
    address = normalize.email(email)
    user = User(
        email=address,
        full_name=full_name.strip(),
        role=Role(role),
        phone=normalize.phone(phone) if phone else None,
        locale=locale,
        timezone=check_timezone(timezone),
        password_hash=hash_password(password) if password else None,
    )
    if await User.filter(email=address).exists():
        raise ValidationFailed.field("email", N_("A user with this email already exists"))
    try:
        await user.save()
    except IntegrityError:
        raise ValidationFailed.field("email", N_("A user with this email already exists")) from None
    return user


async def get_user(user_id: int) -> User:
    user = await User.filter(id=user_id).first()
    if user is None:
        raise NotFound()
    return user


async def update_user(user_id: int, changes: dict[str, object], *, actor: User) -> User:
    """Admins change anyone; a user may change their own locale and timezone."""
    user = await get_user(user_id)
    allowed = {"locale", "timezone"} if actor.id == user.id and not actor.is_admin else None
    if allowed is not None and set(changes) - allowed:
        raise PermissionDenied()
    if not actor.is_admin and actor.id != user.id:
        raise PermissionDenied()
    if "locale" in changes and changes["locale"] not in SUPPORTED_LOCALES:
        raise ValidationFailed.field("locale", N_("Unsupported language"))
    if "timezone" in changes:
        changes["timezone"] = check_timezone(str(changes["timezone"]))
    if "role" in changes:
        changes["role"] = Role(str(changes["role"]))
    new_password = "password" in changes
    if new_password:
        changes["password_hash"] = hash_password(str(changes.pop("password")))
    if "full_name" in changes and not str(changes["full_name"]).strip():
        raise ValidationFailed.field("full_name", N_("Required"))
    user.update_from_dict(changes)
    async with in_transaction():
        await user.save()
        if new_password:  # whoever knew the old one is logged out everywhere
            await forget_sessions(user.id)
    return user


async def deactivate_user(user_id: int, *, actor: User) -> User:
    _require_admin(actor)
    user = await get_user(user_id)
    if user.id == actor.id:
        raise Conflict(N_("You cannot deactivate yourself"))
    user.is_active = False
    async with in_transaction():
        await user.save(update_fields=["is_active", "updated_at"])
        await forget_sessions(user.id)
    return user


async def create_invite(user_id: int, *, actor: User | None, ttl: timedelta = INVITE_TTL) -> Invite:
    """A one-time code binding a Telegram account to the user."""
    _require_admin(actor)
    user = await get_user(user_id)
    return await Invite.create(
        code=secrets.token_urlsafe(12), user=user, expires_at=clock.now() + ttl
    )


async def bind_telegram(code: str, telegram_user_id: int) -> User:
    """Use an invite code once: the Telegram account now acts as its user."""
    async with in_transaction():
        updated = await Invite.filter(
            code=code, used_at__isnull=True, expires_at__gt=clock.now()
        ).update(used_at=clock.now())
        if not updated:
            raise NotFound(N_("This invite code is unknown, used or expired"))
        invite = await Invite.get(code=code).prefetch_related("user")
        user = invite.user
        if not user.is_active:
            raise PermissionDenied()
        if await User.filter(telegram_user_id=telegram_user_id).exclude(id=user.id).exists():
            raise Conflict(N_("This Telegram account is already bound to another user"))
        user.telegram_user_id = telegram_user_id
        user.telegram_blocked = False
        await user.save(update_fields=["telegram_user_id", "telegram_blocked", "updated_at"])
    return user


async def is_own_invite(code: str, user_id: int) -> bool:
    """Whether `code` is an invite made for `user_id` (used or not): the bot tells a bound
    manager who opens their own link again that they are connected already."""
    return bool(code) and await Invite.filter(code=code, user_id=user_id).exists()


_USERS = RowReader(User)


async def user_by_telegram(telegram_user_id: int) -> User | None:
    """The active user bound to this Telegram account, if any. Read in SQL: the bot asks
    for every manager every few seconds."""
    rows = await query(
        f"SELECT {_USERS.select_list()} FROM users WHERE telegram_user_id = $1 AND is_active = $2",
        [telegram_user_id, True],
    )
    return _USERS.models(rows[:1])[0] if rows else None


async def create_group(name: str, member_ids: Iterable[int], *, actor: User | None) -> UserGroup:
    _require_admin(actor)
    if not name.strip():
        raise ValidationFailed.field("name", N_("Required"))
    if await UserGroup.filter(name=name.strip()).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    group = await UserGroup.create(name=name.strip())
    members = await User.filter(id__in=list(member_ids))
    if members:
        await group.members.add(*members)
    return group


async def expand_users(user_ids: Iterable[int] = (), group_ids: Iterable[int] = ()) -> list[User]:
    """Active users named directly or through their groups, each once."""
    ids = set(user_ids)
    groups = list(group_ids)
    if groups:
        ids |= set(
            await User.filter(groups__id__in=groups).values_list("id", flat=True)  # type: ignore[arg-type]
        )
    return await User.filter(id__in=ids, is_active=True).order_by("id")
