"""Small builders for test data, all through the services."""

from __future__ import annotations

import itertools

from crm import clients, scenarios, users
from crm.models import Client, Role, Scenario, User

_seq = itertools.count(1)


async def admin(**kw: object) -> User:
    n = next(_seq)
    return await users.create_user(
        email=f"admin{n}@example.com",
        full_name=f"Админ {n}",
        role=Role.ADMIN,
        actor=None,
        **kw,  # type: ignore[arg-type]
    )


async def manager(**kw: object) -> User:
    n = next(_seq)
    kw.setdefault("full_name", f"Менеджер {n}")
    return await users.create_user(
        email=f"manager{n}@example.com",
        actor=None,
        **kw,  # type: ignore[arg-type]
    )


async def client(actor: User, name: str = "ООО Ромашка", **kw: object) -> Client:
    return await clients.create_client(actor=actor, name=name, **kw)


async def scenario(
    name: str = "Продажа",
    stages: tuple[str, ...] = ("Квалификация", "Предложение", "Договор"),
    **kw: object,
) -> Scenario:
    return await scenarios.create_scenario(name, list(stages), actor=None, **kw)  # type: ignore[arg-type]
