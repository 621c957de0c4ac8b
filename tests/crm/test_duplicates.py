from __future__ import annotations

import pytest

from crm import deals, duplicates, fields, interactions
from crm.errors import Conflict
from crm.models import Client, ClientContact, FieldValue, Interaction, Interest
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


async def test_merge_moves_everything_and_can_be_undone() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    loyalty = await fields.create_field(
        name="Лояльность", type="list", options=["A", "B"], actor=admin
    )
    survivor = await f.client(admin, name="Иван", phones=["+79161234567"])
    twin = await f.client(
        admin, name="Иван Петров", phones=["+79161234567", "+79037654321"], custom={loyalty.id: "B"}
    )
    interest = await deals.create_interest(actor=admin, client_id=twin.id, title="Сделка")
    note = await interactions.record_done(actor=admin, kind="note", client_id=twin.id)
    record = await duplicates.merge_clients(survivor.id, twin.id, actor=admin)
    assert (await Interest.get(id=interest.id)).client_id == survivor.id  # type: ignore[attr-defined]
    assert (await Interaction.get(id=note.id)).client_id == survivor.id  # type: ignore[attr-defined]
    assert (await FieldValue.get(definition_id=loyalty.id)).client_id == survivor.id  # type: ignore[attr-defined]
    phones = await ClientContact.filter(client_id=survivor.id).values_list("value", flat=True)
    assert sorted(phones) == ["+79037654321", "+79161234567"]  # type: ignore[type-var]
    assert (await Client.get(id=twin.id)).merged_into_id == survivor.id  # type: ignore[attr-defined]
    restored = await duplicates.undo_merge(record.id, actor=admin)
    assert restored.merged_into_id is None  # type: ignore[attr-defined]
    assert (await Interest.get(id=interest.id)).client_id == twin.id  # type: ignore[attr-defined]
    assert (await FieldValue.get(definition_id=loyalty.id)).client_id == twin.id  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        await duplicates.undo_merge(record.id, actor=admin)


async def test_undo_refused_once_new_data_depends_on_the_merge() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    survivor = await f.client(admin, name="А")
    twin = await f.client(admin, name="Б")
    interest = await deals.create_interest(actor=admin, client_id=twin.id, title="Сделка")
    record = await duplicates.merge_clients(survivor.id, twin.id, actor=admin)
    await interactions.record_done(
        actor=admin, kind="call", client_id=survivor.id, interest_id=interest.id
    )
    with pytest.raises(Conflict) as err:
        await duplicates.undo_merge(record.id, actor=admin)
    assert err.value.code == "merge_in_use"
