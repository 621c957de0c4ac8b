"""The client portrait (sections, fields, list values, order) and sales scenarios."""

from __future__ import annotations

from crm import deals, scenarios
from crm.models import (
    FieldDefinition,
    FieldOption,
    FieldSection,
    Stage,
    StageAction,
    StageActionKind,
    User,
)
from tests.admin_web.conftest import Browser
from tests.crm import factories


async def _field(name: str) -> FieldDefinition:
    return await FieldDefinition.get(name=name)


async def test_sections_and_fields(as_admin: Browser) -> None:
    _, text = await as_admin.post("/fields/sections", {"name": "Маркетинг"})
    assert "Section “Маркетинг” added" in text
    section = await FieldSection.get(name="Маркетинг")
    _, text = await as_admin.post(
        "/fields",
        {
            "name": "Loyalty",
            "type": "list",
            "belongs_to": "all",
            "section_id": str(section.id),
            "options": "Gold\nSilver\n\nBronze\n",
        },
    )
    assert "Field “Loyalty” added" in text
    loyalty = await _field("Loyalty")
    values = await FieldOption.filter(definition_id=loyalty.id).order_by("position")
    assert [o.value for o in values] == ["Gold", "Silver", "Bronze"]
    assert loyalty.section_id == section.id  # type: ignore[attr-defined]
    # list values inline
    _, text = await as_admin.post(f"/fields/{loyalty.id}/options", {"value": "Platinum"})
    assert "Value “Platinum” added" in text
    _, text = await as_admin.post(f"/fields/{loyalty.id}/options", {"value": "Gold"})
    assert "This value already exists" in text
    assert await FieldOption.filter(definition_id=loyalty.id).count() == 4
    # rename the section
    await as_admin.post(f"/fields/sections/{section.id}/rename", {"name": "Лояльность"})
    assert (await FieldSection.get(id=section.id)).name == "Лояльность"
    _status, text = await as_admin.get("/fields")
    assert "Platinum" in text and "Лояльность" in text


async def test_field_validation_writes_nothing(as_admin: Browser) -> None:
    await as_admin.get("/fields")
    for data, message in (
        ({"name": "", "type": "string"}, "Required"),
        ({"name": "X", "type": "colour"}, "Unknown field type"),
        ({"name": "X", "type": "list", "options": ""}, "A list field needs at least one value"),
        ({"name": "X", "type": "list", "options": "a\na"}, "List values must be different"),
        ({"name": "X", "type": "string", "section_id": "77"}, "Unknown section"),
        ({"name": "X", "type": "string", "section_id": "x"}, "Not a number"),
    ):
        status, text = await as_admin.post("/fields", {"belongs_to": "all", **data})
        assert message in text, data
    assert not await FieldDefinition.exists()
    status, text = await as_admin.get("/fields")
    assert status == 200


async def test_reorder_edit_and_move_between_sections(as_admin: Browser) -> None:
    a = await as_admin.post("/fields/sections", {"name": "A"})
    await as_admin.post("/fields/sections", {"name": "B"})
    sec_a, sec_b = await FieldSection.get(name="A"), await FieldSection.get(name="B")
    for name in ("one", "two", "three"):
        await as_admin.post("/fields", {"name": name, "type": "string", "section_id": sec_a.id})
    one, two, three = [await _field(n) for n in ("one", "two", "three")]
    await as_admin.post(f"/fields/{three.id}/move", {"direction": "up"})
    order = await FieldDefinition.filter(section_id=sec_a.id).order_by("position", "id")
    assert [f.name for f in order] == ["one", "three", "two"]
    await as_admin.post(f"/fields/{one.id}/move", {"direction": "up"})  # already first
    order = await FieldDefinition.filter(section_id=sec_a.id).order_by("position", "id")
    assert [f.name for f in order] == ["one", "three", "two"]
    _, text = await as_admin.post(f"/fields/{two.id}/move", {"direction": "sideways"})
    assert "Unknown choice" in text
    # edit: rename, required, move to B (goes last there)
    await as_admin.post(
        f"/fields/{two.id}",
        {"name": "deux", "section_id": sec_b.id, "required": "1", "is_active": "1"},
    )
    two = await FieldDefinition.get(id=two.id)
    assert (two.name, two.section_id, two.required) == ("deux", sec_b.id, True)  # type: ignore[attr-defined]
    _status, text = await as_admin.post(
        f"/fields/{two.id}", {"name": "one", "section_id": sec_b.id}
    )
    assert "This name is already taken" in text
    assert (await FieldDefinition.get(id=two.id)).name == "deux"
    assert a[0] == 200


async def test_scenario_with_stages_and_robots(as_admin: Browser, admin: User) -> None:
    _, text = await as_admin.post(
        "/scenarios",
        {
            "name": "Продажа",
            "stages": "Квалификация\nПредложение\nДоговор",
            "require_next_step": "1",
        },
    )
    assert "Scenario “Продажа” created" in text
    scenario = await scenarios.get_scenario(1)
    stages = await scenarios.stages_of(scenario.id)
    assert [s.name for s in stages] == ["Квалификация", "Предложение", "Договор"]
    assert scenario.require_next_step
    # rename, add, reorder
    await as_admin.post(f"/stages/{stages[0].id}/rename", {"name": "Знакомство"})
    await as_admin.post(f"/scenarios/{scenario.id}/stages", {"name": "Оплата"})
    await as_admin.post(f"/stages/{stages[2].id}/move", {"direction": "up"})
    names = [s.name for s in await scenarios.stages_of(scenario.id)]
    assert names == ["Знакомство", "Договор", "Предложение", "Оплата"]
    # robots: a message with a placeholder preview, and a task
    _, text = await as_admin.post(
        f"/stages/{stages[1].id}/robots",
        {
            "kind": "send_message",
            "template": "Здравствуйте, {client_name}! Менеджер: {manager_name}",
        },
    )
    assert "Robot added" in text
    assert "Здравствуйте, ООО «Ромашка»! Менеджер: Anna Boss" in text  # preview on the page
    _, text = await as_admin.post(
        f"/stages/{stages[1].id}/robots", {"kind": "send_message", "template": "Hi {clientname}"}
    )
    assert "Unknown placeholders: {clientname}" in text
    _status, text = await as_admin.post(
        f"/stages/{stages[1].id}/robots",
        {"kind": "create_task", "subject": "Позвонить", "due_in_hours": "2"},
    )
    actions = await StageAction.filter(stage_id=stages[1].id).order_by("id")
    assert [a.kind for a in actions] == [StageActionKind.SEND_MESSAGE, StageActionKind.CREATE_TASK]
    assert actions[1].params == {"subject": "Позвонить", "due_in_hours": 2}
    await as_admin.post(f"/robots/{actions[1].id}/delete")
    assert await StageAction.filter(stage_id=stages[1].id).count() == 1


async def test_template_preview_endpoint(as_admin: Browser) -> None:
    resp = await as_admin.client.post(
        "/scenarios/preview",
        data={"template": "Добрый день, {client_name}. {nope}"},
        headers={"X-CSRF-Token": await as_admin.csrf(), "Accept": "application/json"},
    )
    body = await resp.json()
    assert body["text"] == "Добрый день, ООО «Ромашка». {nope}"
    assert body["unknown"] == ["nope"]
    resp = await as_admin.client.post(
        "/scenarios/preview", data={"template": "x"}, headers={"Accept": "application/json"}
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "csrf_failed"


async def test_stage_in_use_cannot_be_deleted(as_admin: Browser, admin: User) -> None:
    scenario = await factories.scenario()
    stages = await scenarios.stages_of(scenario.id)
    client = await factories.client(admin)
    await deals.create_interest(actor=admin, client_id=client.id, title="Сделка")
    _, text = await as_admin.post(f"/stages/{stages[0].id}/delete")
    assert "The stage “Квалификация” is in use by interests and cannot be deleted" in text
    assert await Stage.filter(id=stages[0].id).exists()
    _status, text = await as_admin.post(f"/stages/{stages[2].id}/delete")
    assert "Stage “Договор” deleted" in text
    assert not await Stage.filter(id=stages[2].id).exists()


async def test_scenario_flags_and_default(as_admin: Browser) -> None:
    first = await factories.scenario("Первый", is_default=True)
    second = await factories.scenario("Второй")
    await as_admin.post(
        f"/scenarios/{second.id}", {"name": "Второй", "is_default": "1", "is_active": "1"}
    )
    second = await scenarios.get_scenario(second.id)
    assert second.is_default and not second.require_next_step
    assert not (await scenarios.get_scenario(first.id)).is_default
    _status, text = await as_admin.post(f"/scenarios/{second.id}", {"name": "Первый"})
    assert "This name is already taken" in text


async def test_manager_cannot_change_portrait_or_scenarios(as_manager: Browser) -> None:
    for path, data in (
        ("/fields", {"name": "X", "type": "string"}),
        ("/fields/sections", {"name": "X"}),
        ("/scenarios", {"name": "X", "stages": "a"}),
    ):
        status, text = await as_manager.post(path, data)
        assert "You are not allowed to do this" in text, path
    assert not await FieldDefinition.exists()
    assert not await FieldSection.exists()
    status, _ = await as_manager.get("/scenarios")
    assert status == 403
