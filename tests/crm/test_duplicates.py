from __future__ import annotations

import pytest

from crm import duplicates
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_candidates_by_inn_phone_and_email() -> None:
    admin = await f.admin()
    a = await f.client(
        admin, kind="legal", name="Вектор", inn="7707083893", phones=["+79161234567"]
    )
    b = await f.client(admin, kind="legal", name="Вектор ООО", inn="7707083893")
    c = await f.client(admin, name="Иван", phones=["8 916 123-45-67"], emails=["i@x.ru"])
    d = await f.client(admin, name="Иван П.", emails=["I@X.RU"])
    await f.client(admin, name="Посторонний")
    found = {
        cand.client.id: cand.reasons for cand in await duplicates.find_duplicates(a.id, actor=admin)
    }
    assert found == {b.id: ("inn",), c.id: ("phone",)}
    found_c = {
        cand.client.id: cand.reasons for cand in await duplicates.find_duplicates(c.id, actor=admin)
    }
    assert found_c == {a.id: ("phone",), d.id: ("email",)}
