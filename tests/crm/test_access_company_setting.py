"""`crm.access` keeps the company's "clients visible to all" setting a moment: a save in
this process applies at once, a change from another process within COMPANY_TTL."""

from __future__ import annotations

import pytest

from crm import access, company
from crm.errors import NotFound
from crm.models import Company
from tests.crm import factories as f
from tests.crm.conftest import Clock

pytestmark = pytest.mark.usefixtures("db")


async def test_a_saved_setting_applies_at_once(clock: Clock) -> None:
    admin = await f.admin()
    m1, m2 = await f.manager(), await f.manager()
    theirs = await f.client(m2)
    with pytest.raises(NotFound):
        await access.access_client(m1, theirs.id)  # the setting is now kept
    await company.update_company({"clients_visible_to_all": True}, actor=admin)
    assert (await access.access_client(m1, theirs.id)).id == theirs.id
    await company.update_company({"clients_visible_to_all": False}, actor=admin)
    with pytest.raises(NotFound):
        await access.access_client(m1, theirs.id)


async def test_a_change_from_another_process_applies_within_the_ttl(clock: Clock) -> None:
    m1, m2 = await f.manager(), await f.manager()
    theirs = await f.client(m2)
    assert not await access.clients_visible_to_all()
    await Company.filter(id=1).update(clients_visible_to_all=True)  # no save in this process
    clock.now += access.COMPANY_TTL / 2
    with pytest.raises(NotFound):
        await access.access_client(m1, theirs.id)
    clock.now += access.COMPANY_TTL / 2
    assert (await access.access_client(m1, theirs.id)).id == theirs.id


async def test_the_setting_is_read_once_per_ttl(clock: Clock) -> None:
    await company.get_company()
    manager = await f.manager()
    reads = 0
    get_company = access.get_company

    async def counting() -> Company:
        nonlocal reads
        reads += 1
        return await get_company()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(access, "get_company", counting)
        for _ in range(5):
            await access.client_filter(manager)
        clock.now += access.COMPANY_TTL
        await access.client_filter(manager)
    assert reads == 2
