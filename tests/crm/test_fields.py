from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm import clients, fields
from crm.errors import PermissionDenied, ValidationFailed
from crm.models import FieldDefinition, FieldType, FieldValue
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_definitions_by_section_and_order() -> None:
    admin = await f.admin()
    main = await fields.create_section("Основное", actor=admin)
    extra = await fields.create_section("Дополнительно", actor=admin)
    a = await fields.create_field(name="Сайт", type="string", section_id=main.id, actor=admin)
    b = await fields.create_field(
        name="Сотрудников", type="number", section_id=main.id, actor=admin
    )
    c = await fields.create_field(
        name="Партнёр", type="flag", belongs_to="legal", section_id=extra.id, actor=admin
    )
    await fields.reorder_fields([b.id, a.id], actor=admin)
    legal = [d.name for d in await fields.definitions_for(clients.ClientKind.LEGAL)]
    individual = [d.name for d in await fields.definitions_for(clients.ClientKind.INDIVIDUAL)]
    assert legal == ["Сотрудников", "Сайт", "Партнёр"]
    assert individual == ["Сотрудников", "Сайт"]
    await fields.update_field(c.id, {"section_id": main.id}, actor=admin)
    await fields.rename_section(extra.id, "Прочее", actor=admin)


async def test_only_admins_define_fields() -> None:
    manager = await f.manager()
    with pytest.raises(PermissionDenied):
        await fields.create_field(name="X", type="string", actor=manager)


async def test_bad_definitions_are_refused() -> None:
    admin = await f.admin()
    with pytest.raises(ValidationFailed) as err:
        await fields.create_field(name="", type="colour", actor=admin)
    assert set(err.value.fields) == {"name", "type"}
    with pytest.raises(ValidationFailed) as err:
        await fields.create_field(name="Лояльность", type="list", options=[], actor=admin)
    assert "options" in err.value.fields
    await fields.create_field(name="Лояльность", type="list", options=["A"], actor=admin)
    with pytest.raises(ValidationFailed):
        await fields.create_field(name="Лояльность", type="list", options=["A"], actor=admin)
    assert await FieldDefinition.all().count() == 1


async def test_typed_values_round_trip_on_the_card() -> None:
    admin = await f.admin()
    defs = {
        "list": await fields.create_field(
            name="Лояльность", type="list", options=["Низкая", "Высокая"], actor=admin
        ),
        "string": await fields.create_field(name="Сайт", type="string", actor=admin),
        "number": await fields.create_field(name="Оборот", type="number", actor=admin),
        "flag": await fields.create_field(name="Партнёр", type="flag", actor=admin),
        "date": await fields.create_field(name="Первая сделка", type="date", actor=admin),
    }
    await fields.add_option(defs["list"].id, "Средняя", actor=admin)
    client = await clients.create_client(
        actor=admin,
        name="Клиент",
        custom={
            defs["list"].id: "Средняя",
            defs["string"].id: "example.ru",
            defs["number"].id: "1 234,50",
            defs["flag"].id: "да",
            defs["date"].id: "01.02.2024",
        },
    )
    shown = {d.name: v for d, v in await fields.values_of(client)}
    assert shown == {
        "Лояльность": "Средняя",
        "Сайт": "example.ru",
        "Оборот": Decimal("1234.5"),
        "Партнёр": True,
        "Первая сделка": date(2024, 2, 1),
    }
    await clients.update_client(client.id, {}, custom={defs["string"].id: ""}, actor=admin)
    assert await FieldValue.filter(definition_id=defs["string"].id).count() == 0


async def test_value_errors_name_the_field_and_write_nothing() -> None:
    admin = await f.admin()
    number = await fields.create_field(name="Оборот", type="number", actor=admin)
    only_legal = await fields.create_field(
        name="ОКПО", type="string", belongs_to="legal", actor=admin
    )
    with pytest.raises(ValidationFailed) as err:
        await clients.create_client(
            actor=admin,
            name="Физлицо",
            kind="individual",
            custom={number.id: "много", only_legal.id: "123", 99999: "x"},
        )
    messages = err.value.field_messages("en")
    assert messages[f"field_{number.id}"] == "Оборот: not a number"
    assert f"field_{only_legal.id}" in messages and "field_99999" in messages
    assert await clients.Client.all().count() == 0


# --- property tests of value validation (no database round trip per example) ---------------


def _definition(ftype: FieldType, required: bool = False) -> FieldDefinition:
    return FieldDefinition(id=1, name="Поле", type=ftype, required=required)


OPTIONS = {"Низкая": 10, "Высокая": 11, "10": 10, "11": 11}


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12))
def test_any_finite_number_is_accepted_as_decimal(value: Decimal) -> None:
    typed = fields.parse_value(_definition(FieldType.NUMBER), str(value), OPTIONS)
    assert typed.number is not None
    assert abs(typed.number - value) <= Decimal("0.00005")


@given(st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_text_in_number_field_is_refused_unless_numeric(raw: str) -> None:
    try:
        Decimal(raw.strip().replace(" ", "").replace(",", "."))
        numeric = True
    except ArithmeticError:
        numeric = False
    if numeric:
        return
    with pytest.raises(ValidationFailed) as err:
        fields.parse_value(_definition(FieldType.NUMBER), raw, OPTIONS)
    assert list(err.value.fields) == ["field_1"]


@given(st.text())
def test_list_field_accepts_exactly_its_values(raw: str) -> None:
    definition = _definition(FieldType.LIST)
    if raw.strip() in OPTIONS:
        assert fields.parse_value(definition, raw, OPTIONS).option_id == OPTIONS[raw.strip()]
    elif raw.strip():
        with pytest.raises(ValidationFailed):
            fields.parse_value(definition, raw, OPTIONS)
    else:
        assert fields.parse_value(definition, raw, OPTIONS).empty


@given(st.dates())
def test_dates_in_iso_and_russian_forms(day: date) -> None:
    definition = _definition(FieldType.DATE)
    assert fields.parse_value(definition, day.isoformat(), OPTIONS).day == day
    ru = f"{day.day:02d}.{day.month:02d}.{day.year}"
    assert fields.parse_value(definition, ru, OPTIONS).day == day


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.booleans(), st.sampled_from(["да", "нет", "yes", "no", "1", "0", "true"])))
def test_flags(raw: Any) -> None:
    typed = fields.parse_value(_definition(FieldType.FLAG), raw, OPTIONS)
    assert typed.flag in (True, False)


def test_required_field_refuses_empty() -> None:
    with pytest.raises(ValidationFailed):
        fields.parse_value(_definition(FieldType.STRING, required=True), "  ", OPTIONS)
