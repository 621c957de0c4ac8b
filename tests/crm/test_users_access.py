from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from crm import access, clock, company, deals, users
from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.models import Client, Interest, Invite, User
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_password_is_hashed_with_argon2_and_verified() -> None:
    user = await f.admin(password="correct horse")
    assert user.password_hash and user.password_hash.startswith("$argon2")
    assert users.verify_password(user, "correct horse")
    assert not users.verify_password(user, "wrong horse")


async def test_duplicate_email_refused_and_nothing_written() -> None:
    await users.create_user(email="a@x.ru", full_name="A", actor=None)
    with pytest.raises(ValidationFailed) as err:
        await users.create_user(email="A@X.RU", full_name="B", actor=None)
    assert "email" in err.value.fields
    assert await User.all().count() == 1


async def test_manager_cannot_create_users() -> None:
    manager = await f.manager()
    with pytest.raises(PermissionDenied):
        await users.create_user(email="b@x.ru", full_name="B", actor=manager)


async def test_invite_binds_once_and_expires() -> None:
    admin = await f.admin()
    manager = await f.manager()
    invite = await users.create_invite(manager.id, actor=admin)
    bound = await users.bind_telegram(invite.code, 5551)
    assert bound.id == manager.id
    found, expected = await users.user_by_telegram(5551), await User.get(id=manager.id)
    assert found is not None
    assert {n: getattr(found, n) for n in User._meta.db_fields} == {
        n: getattr(expected, n) for n in User._meta.db_fields
    }
    with pytest.raises(NotFound):
        await users.bind_telegram(invite.code, 5552)  # used
    late = await users.create_invite(manager.id, actor=admin)
    with time_machine.travel(clock.now() + timedelta(days=8)), pytest.raises(NotFound):
        await users.bind_telegram(late.code, 5553)
    assert await users.user_by_telegram(5553) is None
    assert (await Invite.get(id=late.id)).used_at is None


async def test_deactivated_user_is_not_found_by_telegram() -> None:
    admin = await f.admin()
    manager = await f.manager()
    invite = await users.create_invite(manager.id, actor=admin)
    await users.bind_telegram(invite.code, 777)
    await users.deactivate_user(manager.id, actor=admin)
    assert await users.user_by_telegram(777) is None
    with pytest.raises(Conflict):
        await users.deactivate_user(admin.id, actor=admin)


async def test_groups_expand_to_active_members_once() -> None:
    a, b, c = await f.manager(), await f.manager(), await f.manager()
    group = await users.create_group("Продажи", [a.id, b.id], actor=None)
    await users.deactivate_user(b.id, actor=await f.admin())
    found = await users.expand_users([a.id, c.id], [group.id])
    assert [u.id for u in found] == [a.id, c.id]


async def test_managers_see_own_clients_unless_company_shares_all() -> None:
    admin = await f.admin()
    m1, m2 = await f.manager(), await f.manager()
    mine = await f.client(m1, name="Клиент М1")
    theirs = await f.client(m2, name="Клиент М2")
    assert (await access.access_client(m1, mine.id)).id == mine.id
    with pytest.raises(NotFound):
        await access.access_client(m1, theirs.id)
    assert (await access.access_client(admin, theirs.id)).id == theirs.id
    await company.update_company({"clients_visible_to_all": True}, actor=admin)
    assert (await access.access_client(m1, theirs.id)).id == theirs.id


async def test_interests_are_seen_through_their_own_or_their_clients_manager() -> None:
    await f.scenario()
    admin = await f.admin()
    m1, m2, m3 = await f.manager(), await f.manager(), await f.manager()
    client = await f.client(m1, name="Клиент М1")
    interest = await deals.create_interest(actor=m1, client_id=client.id, title="Диван")
    await Interest.filter(id=interest.id).update(responsible_id=m2.id)
    expected = await Interest.get(id=interest.id)
    for who in (m1, m2, admin):  # the client's manager, the deal's, an admin
        seen = await access.access_interest(who, interest.id)
        assert {n: getattr(seen, n) for n in Interest._meta.db_fields} == {
            n: getattr(expected, n) for n in Interest._meta.db_fields
        }
    with pytest.raises(NotFound):
        await access.access_interest(m3, interest.id)
    with pytest.raises(NotFound):
        await access.access_interest(admin, interest.id + 1000)


async def test_a_merged_away_client_is_not_found() -> None:
    admin = await f.admin()
    m1 = await f.manager()
    kept, gone = await f.client(m1, name="Оставлен"), await f.client(m1, name="Слит")
    await Client.filter(id=gone.id).update(merged_into_id=kept.id)
    for who in (m1, admin):
        with pytest.raises(NotFound):
            await access.access_client(who, gone.id)
    found = await access.access_client(m1, kept.id)
    assert found.name == "Оставлен" and found.responsible_id == m1.id  # type: ignore[attr-defined]


async def test_only_admins_change_company_settings() -> None:
    manager = await f.manager()
    with pytest.raises(PermissionDenied):
        await company.update_company({"clients_visible_to_all": True}, actor=manager)
    with pytest.raises(ValidationFailed) as err:
        await company.update_company({"default_timezone": "Mars/Olympus"}, actor=None)
    assert "default_timezone" in err.value.fields
    assert (await company.get_company()).default_timezone == "Europe/Moscow"
