"""`crm.fields.kept_definitions` keeps the active definitions a moment: a change in this
process applies at once, one from another process within DEFINITIONS_TTL; and the card's
reads written in SQL (custom values, contacts, tags, responsible, key persons) give what the
ORM reads they replaced give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tortoise.models import Model

from crm import clients, fields
from crm.client_card import card_details
from crm.models import (
    Client,
    ClientContact,
    ClientKind,
    ContactPerson,
    FieldDefinition,
    FieldOption,
    FieldValue,
    User,
)
from tests.crm import factories as f
from tests.crm.conftest import Clock

pytestmark = pytest.mark.usefixtures("db")


async def names(kind: ClientKind = ClientKind.INDIVIDUAL) -> list[str]:
    return [d.name for d in await fields.kept_definitions(kind)]


async def shown(client: Client) -> dict[str, Any]:
    return {d.name: v for d, v in await fields.values_of(client)}


async def test_changes_in_this_process_apply_at_once(clock: Clock) -> None:
    admin = await f.admin()
    client = await f.client(admin, name="Клиент")
    assert await names() == []  # now kept
    size = await fields.create_field(name="Размер", type="list", options=["S"], actor=admin)
    site = await fields.create_field(name="Сайт", type="string", actor=admin)
    assert await names() == ["Размер", "Сайт"]
    await fields.add_option(size.id, "M", actor=admin)
    await clients.update_client(client.id, {}, custom={size.id: "M"}, actor=admin)
    assert (await shown(client))["Размер"] == "M"  # the new option's text is known
    await fields.update_field(site.id, {"name": "Веб-сайт"}, actor=admin)
    assert await names() == ["Размер", "Веб-сайт"]
    await fields.reorder_fields([site.id, size.id], actor=admin)
    assert await names() == ["Веб-сайт", "Размер"]
    section = await fields.create_section("Маркетинг", actor=admin)
    await fields.update_field(site.id, {"section_id": section.id}, actor=admin)
    await fields.rename_section(section.id, "Реклама", actor=admin)
    (kept,) = [d for d in await fields.kept_definitions(ClientKind.INDIVIDUAL) if d.section]
    assert kept.section.name == "Реклама"
    await fields.update_field(site.id, {"is_active": False}, actor=admin)
    assert await names() == ["Размер"]
    await (await FieldOption.get(definition_id=size.id, value="S")).delete()
    (kept,) = await fields.kept_definitions(ClientKind.INDIVIDUAL)
    assert [o.value for o in kept.options] == ["M"]


async def test_a_change_from_another_process_applies_within_the_ttl(clock: Clock) -> None:
    admin = await f.admin()
    site = await fields.create_field(name="Сайт", type="string", actor=admin)
    assert await names() == ["Сайт"]
    await FieldDefinition.filter(id=site.id).update(name="Веб")  # no save in this process
    clock.now += fields.DEFINITIONS_TTL / 2
    assert await names() == ["Сайт"]
    clock.now += fields.DEFINITIONS_TTL / 2
    assert await names() == ["Веб"]


async def test_read_once_per_ttl_per_kind(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = await f.admin()
    await fields.create_field(name="Все", type="string", actor=admin)
    await fields.create_field(name="Юрлица", type="string", belongs_to="legal", actor=admin)
    reads: list[ClientKind | None] = []
    read = fields.definitions_for

    async def counting(kind: ClientKind | None = None) -> list[FieldDefinition]:
        reads.append(kind)
        return await read(kind)

    monkeypatch.setattr(fields._definitions, "load", counting)
    for _ in range(3):
        assert await names(ClientKind.INDIVIDUAL) == ["Все"]
        assert await names(ClientKind.LEGAL) == ["Все", "Юрлица"]
    assert reads == [ClientKind.INDIVIDUAL, ClientKind.LEGAL]
    clock.now += fields.DEFINITIONS_TTL
    await names(ClientKind.LEGAL)
    assert reads == [ClientKind.INDIVIDUAL, ClientKind.LEGAL, ClientKind.LEGAL]


async def test_callers_get_their_own_list(clock: Clock) -> None:
    admin = await f.admin()
    await fields.create_field(name="Сайт", type="string", actor=admin)
    mine = await fields.kept_definitions(ClientKind.INDIVIDUAL)
    mine.clear()
    assert await names() == ["Сайт"]


def _fields(obj: Any, model: type[Model]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model._meta.fields_db_projection}


async def _values_by_orm(client: Client) -> list[tuple[int, Any]]:
    """values_of as it was: the definitions and the stored values through the ORM."""
    definitions = await fields.definitions_for(client.kind)
    stored = {v.definition_id: v for v in await FieldValue.filter(client_id=client.id)}  # type: ignore[attr-defined]
    options = {o.id: o.value for d in definitions for o in d.options}
    return [
        (d.id, fields.display(stored[d.id], options) if d.id in stored else None)
        for d in definitions
    ]


async def test_values_read_in_sql_are_the_orm_values() -> None:
    admin = await f.admin()
    section = await fields.create_section("Главное", actor=admin)
    defs = [
        await fields.create_field(
            name="Лояльность", type="list", options=["Низкая", "Высокая"], actor=admin
        ),
        await fields.create_field(name="Сайт", type="string", section_id=section.id, actor=admin),
        await fields.create_field(name="Оборот", type="number", actor=admin),
        await fields.create_field(name="Партнёр", type="flag", actor=admin),
        await fields.create_field(name="Первая сделка", type="date", actor=admin),
        await fields.create_field(name="Пусто", type="string", actor=admin),
        await fields.create_field(name="ОГРН", type="string", belongs_to="legal", actor=admin),
    ]
    raw = ["Высокая", "example.ru", "-1 234,5678", "нет", "29.02.2024", "", "1027700132195"]
    firm = await f.client(
        admin,
        name="Фирма",
        kind="legal",
        inn="7707083893",
        custom={d.id: v for d, v in zip(defs, raw, strict=True)},
    )
    person = await f.client(admin, name="Человек", custom={defs[2].id: "0,1"})
    for client in (firm, person, await f.client(admin, name="Без полей")):
        got = [(d.id, v) for d, v in await fields.values_of(client)]
        assert got == await _values_by_orm(client)
    assert dict((d.name, v) for d, v in await fields.values_of(firm))["Оборот"] == Decimal(
        "-1234.5678"
    )


async def test_card_details_are_the_orm_reads() -> None:
    admin = await f.admin()
    anna, boris = await f.manager(), await f.manager(full_name="Борис <Б>")
    lotus = await f.client(
        anna,
        name="Лотос",
        phones=["+7 912 345-67-89", "+7 495 000-00-00"],
        emails=["b@lotus.ru", "a@lotus.ru"],
        tags=["важный", "Опт", "бюро"],
    )
    await clients.add_person(lotus.id, actor=anna, name="Павел", role="Директор")
    await clients.add_person(
        lotus.id, actor=anna, name="Ольга", phone="+7 912 000-11-22", birthday="1980-02-29"
    )
    nobodys = await f.client(admin, name="Ничей")
    borises = await f.client(boris, name="Бориса")
    for client in (lotus, nobodys, borises):
        details = await card_details(client)
        contacts = await ClientContact.filter(client_id=client.id).order_by("kind", "position")
        assert details.contacts == [(c.kind, c.value) for c in contacts]
        tags = await client.tags.all().order_by("id").values_list("name", flat=True)
        assert details.tags == list(tags)
        responsible = await User.filter(id=client.responsible_id).first()  # type: ignore[attr-defined]
        assert details.responsible == (responsible.full_name if responsible else None)
        persons = await ContactPerson.filter(client_id=client.id).order_by("id")
        assert [_fields(p, ContactPerson) for p in details.persons] == [
            _fields(p, ContactPerson) for p in persons
        ]
        assert all(not p._partial and p._saved_in_db for p in details.persons)
    details = await card_details(lotus)
    assert [v for _, v in details.contacts] == [
        "b@lotus.ru",
        "a@lotus.ru",
        "+79123456789",
        "+74950000000",
    ]
    assert details.tags == ["важный", "Опт", "бюро"] and details.responsible == anna.full_name
    assert (await card_details(borises)).responsible == "Борис <Б>"
    assert (await card_details(nobodys)).responsible is None
