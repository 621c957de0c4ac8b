"""crm.merge: a merge carries everything the survivor lacks, takes the chosen values, and
an undo puts back exactly what it moved and changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm import clients, deals, fields, interactions, merge
from crm.errors import Conflict, ValidationFailed
from crm.models import Client, ClientContact, FieldValue, Interaction, Interest, User
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def _card(client_id: int) -> dict[str, Any]:
    """Everything a card shows: its values, contacts, tags and custom fields."""
    client = await Client.get(id=client_id)
    custom = {d.name: v for d, v in await fields.values_of(client)}
    return {
        **await clients.snapshot(client),
        "birthday_md": client.birthday_md,
        "custom": custom,
    }


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
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    assert (await Interest.get(id=interest.id)).client_id == survivor.id  # type: ignore[attr-defined]
    assert (await Interaction.get(id=note.id)).client_id == survivor.id  # type: ignore[attr-defined]
    assert (await FieldValue.get(definition_id=loyalty.id)).client_id == survivor.id  # type: ignore[attr-defined]
    phones = await ClientContact.filter(client_id=survivor.id).values_list("value", flat=True)
    assert sorted(phones) == ["+79037654321", "+79161234567"]  # type: ignore[type-var]
    assert (await Client.get(id=twin.id)).merged_into_id == survivor.id  # type: ignore[attr-defined]
    restored = await merge.undo_merge(record.id, actor=admin)
    assert restored.merged_into_id is None  # type: ignore[attr-defined]
    assert (await Interest.get(id=interest.id)).client_id == twin.id  # type: ignore[attr-defined]
    assert (await FieldValue.get(definition_id=loyalty.id)).client_id == twin.id  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        await merge.undo_merge(record.id, actor=admin)


async def test_undo_refused_once_new_data_depends_on_the_merge() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    survivor = await f.client(admin, name="А")
    twin = await f.client(admin, name="Б")
    interest = await deals.create_interest(actor=admin, client_id=twin.id, title="Сделка")
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    await interactions.record_done(
        actor=admin, kind="call", client_id=survivor.id, interest_id=interest.id
    )
    with pytest.raises(Conflict) as err:
        await merge.undo_merge(record.id, actor=admin)
    assert err.value.code == "merge_in_use"


async def _twins(admin: User) -> tuple[Client, Client, int]:
    """A bare survivor and a full twin; returns them and a custom field's id."""
    manager = await f.manager()
    size = await fields.create_field(name="Размер", type="string", actor=admin)
    survivor = await f.client(
        admin, kind="legal", name="Вектор", phones=["+79161234567"], tags=["Опт"]
    )
    twin = await f.client(
        admin,
        kind="legal",
        name="ООО «Вектор»",
        legal_name="Общество с ограниченной ответственностью «Вектор»",
        inn="7707083893",
        kpp="773601001",
        org_form="ООО",
        birthday="2001-05-17",
        region="Новосибирская область",
        relation_type="supplier",
        responsible_id=manager.id,
        lead_source="выставка",
        note="Платят в срок",
        phones=["+79037654321"],
        emails=["info@vector.example"],
        tags=["Опт", "VIP"],
        custom={size.id: "крупный"},
    )
    return survivor, twin, size.id


async def test_merge_carries_every_value_the_survivor_lacks_and_undo_restores_it() -> None:
    admin = await f.admin()
    survivor, twin, size_id = await _twins(admin)
    survivor_before, twin_before = await _card(survivor.id), await _card(twin.id)
    plan = await merge.plan_merge(survivor.id, twin.id, actor=admin)
    assert {d.key for d in plan.differences} == {"name", "relation_type"}
    assert {d.key for d in plan.carried} >= {"inn", "kpp", "birthday", "region", "note"}
    assert plan.tags == ["VIP"]

    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    kept = await Client.get(id=survivor.id)
    assert kept.name == "Вектор"  # a difference: the survivor's stays unless chosen
    assert kept.relation_type.value == "buyer"
    assert (kept.inn, kept.kpp, kept.org_form) == ("7707083893", "773601001", "ООО")
    assert kept.legal_name == "Общество с ограниченной ответственностью «Вектор»"
    assert (kept.birthday, kept.birthday_md) == (date(2001, 5, 17), 517)
    assert (kept.region, kept.timezone) == ("Новосибирская область", "Asia/Novosibirsk")
    assert kept.responsible_id == twin.responsible_id  # type: ignore[attr-defined]
    assert (kept.lead_source, kept.note) == ("выставка", "Платят в срок")
    card = await _card(survivor.id)
    assert card["tags"] == ["VIP", "Опт"]
    assert card["phones"] == ["+79161234567", "+79037654321"]
    assert card["emails"] == ["info@vector.example"]
    assert card["custom"]["Размер"] == "крупный"
    assert set(record.moved["carried"]) >= {"inn", "kpp", "birthday", "region", f"custom_{size_id}"}
    assert record.moved["card"]["inn"] == [None, "7707083893"]
    assert record.moved["taken"] == []

    await merge.undo_merge(record.id, actor=admin)
    assert await _card(survivor.id) == survivor_before
    assert await _card(twin.id) == twin_before


async def test_the_chosen_values_win_and_undo_gives_the_survivor_its_own_back() -> None:
    admin = await f.admin()
    survivor, twin, size_id = await _twins(admin)
    await clients.update_client(
        survivor.id, {"inn": "7736050003", "note": "Старый"}, actor=admin, custom={size_id: "мал"}
    )
    survivor_before, twin_before = await _card(survivor.id), await _card(twin.id)
    plan = await merge.plan_merge(survivor.id, twin.id, actor=admin)
    assert {d.key for d in plan.differences} == {
        "name",
        "relation_type",
        "inn",
        "note",
        f"custom_{size_id}",
    }
    take = ["name", "inn", f"custom_{size_id}"]
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin, take=take)
    kept = await _card(survivor.id)
    assert (kept["name"], kept["inn"], kept["note"]) == ("ООО «Вектор»", "7707083893", "Старый")
    assert kept["relation_type"].value == "buyer"
    assert kept["custom"]["Размер"] == "крупный"
    assert record.moved["taken"] == sorted(take)
    assert record.moved["card"]["name"] == ["Вектор", "ООО «Вектор»"]

    await merge.undo_merge(record.id, actor=admin)
    assert await _card(survivor.id) == survivor_before
    assert await _card(twin.id) == twin_before


async def test_undo_keeps_an_edit_made_after_the_merge() -> None:
    admin = await f.admin()
    survivor, twin, _ = await _twins(admin)
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    await clients.update_client(survivor.id, {"note": "Новая заметка"}, actor=admin)
    await merge.undo_merge(record.id, actor=admin)
    kept = await Client.get(id=survivor.id)
    assert kept.note == "Новая заметка"
    assert kept.inn is None  # what nobody touched returns


async def test_the_system_merge_carries_but_keeps_the_survivors_values() -> None:
    admin = await f.admin()
    survivor, twin, _ = await _twins(admin)
    await merge.merge_clients(survivor.id, twin.id, actor=None)
    kept = await Client.get(id=survivor.id)
    assert (kept.name, kept.inn) == ("Вектор", "7707083893")


async def test_an_unknown_choice_is_refused() -> None:
    admin = await f.admin()
    survivor, twin, _ = await _twins(admin)
    with pytest.raises(ValidationFailed):
        await merge.merge_clients(survivor.id, twin.id, actor=admin, take=["merged_into_id"])
    assert (await Client.get(id=twin.id)).merged_into_id is None  # type: ignore[attr-defined]


async def test_an_inn_of_the_other_kind_is_not_carried() -> None:
    admin = await f.admin()
    person = await f.client(admin, name="Пётр")
    company = await f.client(admin, kind="legal", name="ООО Пётр", inn="7707083893")
    await merge.merge_clients(person.id, company.id, actor=admin)
    assert (await Client.get(id=person.id)).inn is None
