from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm import clients, fields, history
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.models import Client, ClientContact, FieldValue, RelationType
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_create_normalizes_contacts_and_derives_timezone() -> None:
    admin = await f.admin()
    client = await clients.create_client(
        actor=admin,
        kind="legal",
        name="ООО «Вектор»",
        inn="7707083893",
        kpp="770701001",
        phones=["8 (916) 123-45-67", "+79161234567"],
        emails=["Info@Vector.RU"],
        region="Новосибирская область",
        birthday="1980-02-29",
        tags=["vip", "опт"],
    )
    contacts = await ClientContact.filter(client_id=client.id).order_by("kind", "position")
    assert [(c.kind.value, c.value) for c in contacts] == [
        ("email", "info@vector.ru"),
        ("phone", "+79161234567"),
    ]
    assert client.timezone == "Asia/Novosibirsk"
    assert client.birthday_md == 229
    local = clients.client_local_time(client, datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert local.hour == 19


async def test_invalid_input_names_each_field_and_writes_nothing() -> None:
    admin = await f.admin()
    with pytest.raises(ValidationFailed) as err:
        await clients.create_client(
            actor=admin,
            kind="legal",
            name="  ",
            inn="7707083894",
            phones=["12"],
            emails=["nope"],
        )
    assert set(err.value.fields) == {"name", "inn", "phones", "emails"}
    assert await Client.all().count() == 0


async def test_manager_becomes_responsible_and_cannot_reassign() -> None:
    manager = await f.manager()
    other = await f.manager()
    client = await f.client(manager)
    assert client.responsible_id == manager.id  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied):
        await clients.update_client(client.id, {"responsible_id": other.id}, actor=manager)


async def test_update_records_history_per_field() -> None:
    admin = await f.admin()
    client = await f.client(admin, phones=["+79161234567"])
    await clients.update_client(
        client.id,
        {"name": "ООО Ромашка-2", "phones": ["+79161234567", "+79037654321"], "note": ""},
        actor=admin,
    )
    changes = await history.list_changes("client", client.id)
    by_field = {c.field: c for c in reversed(changes)}  # newest wins
    assert by_field["name"].old == "ООО Ромашка" and by_field["name"].new == "ООО Ромашка-2"
    assert by_field["phones"].new == "+79037654321, +79161234567"
    assert "note" not in by_field  # unchanged fields are not recorded
    assert by_field["name"].actor.id == admin.id


async def test_update_of_invisible_client_is_not_found() -> None:
    m1, m2 = await f.manager(), await f.manager()
    client = await f.client(m1)
    with pytest.raises(NotFound):
        await clients.update_client(client.id, {"name": "x"}, actor=m2)


async def test_bulk_update_sets_fields_and_custom_values_in_one_go() -> None:
    admin = await f.admin()
    loyalty = await fields.create_field(
        name="Лояльность", type="list", options=["Низкая", "Средняя", "Высокая"], actor=admin
    )
    selection = [(await f.client(admin, name=f"Клиент {i}")).id for i in range(5)]
    result = await clients.bulk_update(
        selection,
        {"relation_type": "supplier", "tags_add": ["акция"]},
        custom={loyalty.id: "Высокая"},
        actor=admin,
    )
    assert result.updated == 5
    assert await Client.filter(relation_type=RelationType.SUPPLIER).count() == 5
    assert await Client.filter(tags__name="акция").count() == 5
    assert await FieldValue.filter(definition_id=loyalty.id).count() == 5
    card = await Client.get(id=selection[0])
    assert dict((d.name, v) for d, v in await fields.values_of(card))["Лояльность"] == "Высокая"
    assert any(c.field == "Лояльность" for c in await history.list_changes("client", card.id))


async def test_bulk_update_is_all_or_nothing() -> None:
    admin = await f.admin()
    loyalty = await fields.create_field(
        name="Лояльность", type="list", options=["Низкая"], actor=admin
    )
    selection = [(await f.client(admin, name=f"Клиент {i}")).id for i in range(3)]
    with pytest.raises(ValidationFailed) as err:
        await clients.bulk_update(
            selection, {"relation_type": "supplier"}, custom={loyalty.id: "Нет такой"}, actor=admin
        )
    assert f"field_{loyalty.id}" in err.value.fields
    assert await Client.filter(relation_type=RelationType.SUPPLIER).count() == 0
    assert await FieldValue.all().count() == 0


async def test_bulk_update_refuses_clients_the_manager_cannot_see() -> None:
    m1, m2 = await f.manager(), await f.manager()
    mine = await f.client(m1)
    theirs = await f.client(m2)
    with pytest.raises(NotFound):
        await clients.bulk_update([mine.id, theirs.id], {"region": "Москва"}, actor=m1)
    assert (await Client.get(id=mine.id)).region == ""


async def test_key_persons_with_birthdays_and_history() -> None:
    admin = await f.admin()
    client = await f.client(admin, kind="legal", inn="7707083893")
    person = await clients.add_person(
        client.id, actor=admin, name="Иванова Анна", role="Бухгалтер", birthday="12.05.1985"
    )
    assert person.birthday == date(1985, 5, 12) and person.birthday_md == 512
    await clients.update_person(person.id, {"role": "Главный бухгалтер"}, actor=admin)
    changes = await history.list_changes("person", person.id)
    assert changes[0].field == "role" and changes[0].new == "Главный бухгалтер"
    with pytest.raises(ValidationFailed):
        await clients.add_person(client.id, actor=admin, name="Пётр", phone="abc")


async def test_search_by_name_phone_email_inn_respects_visibility() -> None:
    m1, m2 = await f.manager(), await f.manager()
    a = await f.client(
        m1, name="ИП Сидоров", kind="individual", inn="500100732259", phones=["+79161234567"]
    )
    await f.client(m2, name="ИП Сидоренко", emails=["s@x.ru"])
    assert [c.id for c in await clients.search_clients(m1, "Сидор")] == [a.id]
    assert [c.id for c in await clients.search_clients(m1, "8 916 123 45 67")] == [a.id]
    assert [c.id for c in await clients.search_clients(m1, "500100732259")] == [a.id]
    assert await clients.search_clients(m1, "s@x.ru") == []
