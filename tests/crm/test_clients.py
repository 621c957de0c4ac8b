from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm import client_search, clients, fields, history
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.models import Client, ClientContact, FieldValue, RelationType, Tag
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


async def test_bulk_update_history_has_old_and_new_of_what_changed() -> None:
    admin = await f.admin()
    manager = await f.manager()
    supplier = await f.client(admin, name="Поставщик", relation_type="supplier")
    buyers = [(await f.client(admin, name=f"Покупатель {i}")).id for i in range(3)]
    selection = [supplier.id, *buyers]
    created = (await Client.get(id=buyers[0])).updated_at
    await clients.bulk_update(
        selection,
        {"relation_type": "supplier", "region": "Новосибирская область", "is_lead": True},
        actor=admin,
    )
    changed = await Client.get(id=buyers[0])
    assert changed.updated_at > created and changed.timezone == "Asia/Novosibirsk"
    assert changed.relation_type == RelationType.SUPPLIER and changed.is_lead
    for cid in buyers:
        changes = {c.field: c for c in await history.list_changes("client", cid)}
        assert (changes["relation_type"].old, changes["relation_type"].new) == ("buyer", "supplier")
        assert (changes["region"].old, changes["region"].new) == ("", "Новосибирская область")
        assert changes["timezone"].new == "Asia/Novosibirsk"
        assert (changes["is_lead"].old, changes["is_lead"].new) == ("False", "True")
        assert changes["is_lead"].actor.id == admin.id
        assert changes["is_lead"].created_at.tzinfo is not None
    fields_of_supplier = [c.field for c in await history.list_changes("client", supplier.id)]
    assert "relation_type" not in fields_of_supplier and "region" in fields_of_supplier
    assert await Client.filter(id__in=selection, is_lead=True).count() == 4
    await clients.bulk_update(selection, {"responsible_id": manager.id}, actor=admin)
    newest = (await history.list_changes("client", buyers[0]))[0]
    assert (newest.field, newest.old, newest.new) == ("responsible_id", None, str(manager.id))


async def test_bulk_update_checks_visibility_before_the_values() -> None:
    m1, m2 = await f.manager(), await f.manager()
    mine, theirs = await f.client(m1), await f.client(m2)
    with pytest.raises(NotFound):
        await clients.bulk_update([mine.id, theirs.id], {"relation_type": "nonsense"}, actor=m1)
    with pytest.raises(PermissionDenied):
        await clients.bulk_update([mine.id], {"responsible_id": m2.id}, actor=m1)
    with pytest.raises(ValidationFailed):
        await clients.bulk_update([mine.id], {"relation_type": "nonsense"}, actor=m1)
    assert await history.list_changes("client", mine.id) == [
        c for c in await history.list_changes("client", mine.id) if c.field == "name"
    ]


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
    assert [c.id for c in await client_search.search_clients(m1, "Сидор")] == [a.id]
    assert [c.id for c in await client_search.search_clients(m1, "8 916 123 45 67")] == [a.id]
    assert [c.id for c in await client_search.search_clients(m1, "500100732259")] == [a.id]
    assert await client_search.search_clients(m1, "s@x.ru") == []


async def test_search_ignores_case_in_every_alphabet() -> None:
    """SQLite folds only ASCII itself: crm.sqlite_engine gives it Unicode UPPER/LOWER."""
    m = await f.manager()
    ivan = await f.client(m, name="Иван Петров")
    olga = await f.client(m, name="ЁЛКИН и Ко")
    await f.client(m, name="Müller GmbH")
    assert [c.id for c in await client_search.search_clients(m, "иван")] == [ivan.id]
    assert [c.id for c in await client_search.search_clients(m, "ПЕТРОВ")] == [ivan.id]
    assert [c.id for c in await client_search.search_clients(m, "ёлкин")] == [olga.id]
    assert [c.name for c in await client_search.search_clients(m, "MÜLLER")] == ["Müller GmbH"]
    assert await client_search.search_clients(m, "иванов") == []
    assert await client_search.search_clients(m, "%") == []  # LIKE's wildcards stay literal
    assert await client_search.search_clients(m, "Иван_Петров") == []


@pytest.mark.parametrize(
    "responsible",
    ["abc", "\u00b2", "\u0661", "-1", "1" * 5000, 2**40],
    ids=["letters", "superscript", "arabic-indic", "negative", "5000-digits", "2**40"],
)
async def test_responsible_that_is_no_id_is_a_field_error(responsible: object) -> None:
    admin = await f.admin()
    client = await f.client(admin)
    with pytest.raises(ValidationFailed) as err:
        await clients.create_client(actor=admin, name="Новый", responsible_id=responsible)
    assert set(err.value.fields) == {"responsible_id"}
    with pytest.raises(ValidationFailed) as err:
        await clients.bulk_update([client.id], {"responsible_id": responsible}, actor=admin)
    assert set(err.value.fields) == {"responsible_id"}
    assert await Client.all().count() == 1


async def test_responsible_given_as_digits_is_read() -> None:
    admin = await f.admin()
    manager = await f.manager()
    client = await clients.create_client(
        actor=admin, name="Новый", responsible_id=f" {manager.id} "
    )
    assert client.responsible_id == manager.id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "kind", ["bogus", "", None, ["legal"]], ids=["bogus", "empty", "none", "list"]
)
async def test_update_with_an_unknown_kind_is_an_unknown_choice(kind: object) -> None:
    admin = await f.admin()
    client = await f.client(admin)
    with pytest.raises(ValidationFailed) as err:
        await clients.update_client(client.id, {"kind": kind}, actor=admin)
    assert err.value.fields["kind"].msgid == "Unknown choice"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x" * 10_000),
        ("legal_name", "x" * 501),
        ("org_form", "x" * 51),
        ("region", "x" * 101),
        ("lead_source", "x" * 201),
        ("tags", ["x" * 101]),
        ("emails", ["a" * 250 + "@example.com"]),
    ],
    ids=["name", "legal_name", "org_form", "region", "lead_source", "tags", "emails"],
)
async def test_card_texts_longer_than_their_column_are_too_long(field: str, value: object) -> None:
    admin = await f.admin()
    client = await f.client(admin)
    with pytest.raises(ValidationFailed) as err:
        await clients.create_client(actor=admin, kind="legal", **{"name": "Новый", field: value})
    assert err.value.fields[field].msgid == clients.TOO_LONG
    with pytest.raises(ValidationFailed) as err:
        await clients.update_client(client.id, {field: value}, actor=admin)
    assert err.value.fields[field].msgid == clients.TOO_LONG
    assert "at most" in err.value.fields[field].render("en")
    assert await Client.all().count() == 1


async def test_bulk_texts_longer_than_their_column_are_too_long() -> None:
    admin = await f.admin()
    client = await f.client(admin)
    for changes, field in (
        ({"region": "x" * 101}, "region"),
        ({"tags_add": ["x" * 101]}, "tags_add"),
    ):
        with pytest.raises(ValidationFailed) as err:
            await clients.bulk_update([client.id], changes, actor=admin)
        assert err.value.fields[field].msgid == clients.TOO_LONG
    assert not await Tag.exists()
    done = await clients.bulk_update([client.id], {"region": "x" * 100}, actor=admin)
    assert done.updated == 1


async def test_key_person_texts_longer_than_their_column_are_too_long() -> None:
    admin = await f.admin()
    client = await f.client(admin)
    for data, field in (
        ({"name": "x" * 201}, "name"),
        ({"name": "Пётр", "role": "x" * 101}, "role"),
        ({"name": "Пётр", "email": "a" * 250 + "@example.com"}, "email"),
    ):
        with pytest.raises(ValidationFailed) as err:
            await clients.add_person(client.id, actor=admin, **data)
        assert err.value.fields[field].msgid == clients.TOO_LONG
    person = await clients.add_person(client.id, actor=admin, name="Пётр")
    with pytest.raises(ValidationFailed):
        await clients.update_person(person.id, {"role": "x" * 101}, actor=admin)


async def test_birthday_with_a_year_past_any_calendar_is_not_a_date() -> None:
    admin = await f.admin()
    with pytest.raises(ValidationFailed) as err:
        await clients.create_client(
            actor=admin, name="Новый", birthday="01.01.99999999999999999999"
        )
    assert err.value.fields["birthday"].msgid == "Not a date"
