"""Client list, filters, bulk edit, the card, merge; deals and inbox pages."""

from __future__ import annotations

from crm import clients, clock, fields
from crm.company import update_company
from crm.models import (
    ChangeRecord,
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    Conversation,
    Direction,
    FieldValue,
    Message,
    MessageStatus,
    RelationType,
    Role,
    User,
)
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


async def _loyalty() -> tuple[int, dict[str, int]]:
    field = await fields.create_field(
        name="Loyalty", type="list", options=["Gold", "Silver", "Bronze"], actor=None
    )
    maps = await fields.option_maps([field])
    return field.id, maps[field.id]


async def test_list_filters(as_admin: Browser, admin: User, manager: User) -> None:
    field_id, _options = await _loyalty()
    a = await clients.create_client(
        actor=admin,
        kind="legal",
        name="ООО Альфа",
        inn="7707083893",
        tags=["VIP"],
        responsible_id=manager.id,
        custom={field_id: "Gold"},
    )
    b = await clients.create_client(
        actor=admin, name="Борис", phones=["+79161234567"], relation_type="supplier"
    )
    status, text = await as_admin.get("/clients")
    assert "ООО Альфа" in text and "Борис" in text
    _, text = await as_admin.get("/clients?q=Альф")
    assert "ООО Альфа" in text and "Борис" not in text
    _, text = await as_admin.get("/clients?q=8 916 123-45-67")
    assert "Борис" in text and "ООО Альфа" not in text
    _, text = await as_admin.get("/clients?q=7707083893")
    assert "ООО Альфа" in text
    tag = await a.tags.all().first()
    assert tag is not None
    _, text = await as_admin.get(f"/clients?tag_id={tag.id}")
    assert "ООО Альфа" in text and "Борис" not in text
    _, text = await as_admin.get(f"/clients?responsible_id={manager.id}")
    assert "ООО Альфа" in text and "Борис" not in text
    _, text = await as_admin.get("/clients?relation_type=supplier")
    assert "Борис" in text and "ООО Альфа" not in text
    _, text = await as_admin.get("/clients?kind=legal")
    assert "ООО Альфа" in text and "Борис" not in text
    _, text = await as_admin.get(f"/clients?field_id={field_id}&field_value=Gold")
    assert "ООО Альфа" in text and "Борис" not in text
    _, text = await as_admin.get(f"/clients?field_id={field_id}&field_value=Silver")
    assert "No clients found" in text
    status, text = await as_admin.get("/clients?relation_type=alien")
    assert status == 422 and "Unknown choice" in text
    status, text = await as_admin.get(f"/clients?field_id={field_id}&field_value=Diamond")
    assert status == 422 and "Loyalty: unknown value Diamond" in text
    assert b.id


async def test_bulk_edit_with_custom_fields(as_admin: Browser, admin: User, manager: User) -> None:
    field_id, options = await _loyalty()
    group = [await factories.client(admin, name=f"Клиент {i}") for i in range(4)]
    await as_admin.get("/clients")
    _status, text = await as_admin.post(
        "/clients/bulk",
        [("client_ids", str(c.id)) for c in group[:3]]
        + [
            (f"field_{field_id}", str(options["Silver"])),
            ("relation_type", "supplier"),
            ("responsible_id", str(manager.id)),
            ("tags_add", "Импорт, VIP"),
        ],
    )
    assert "Updated 3 clients" in text
    values = await FieldValue.filter(definition_id=field_id).order_by("client_id")
    assert [v.client_id for v in values] == [c.id for c in group[:3]]  # type: ignore[attr-defined]
    assert {v.value_option_id for v in values} == {options["Silver"]}  # type: ignore[attr-defined]
    assert await Client.filter(relation_type=RelationType.SUPPLIER).count() == 3
    assert await Client.filter(responsible_id=manager.id).count() == 3
    assert await Client.filter(tags__name="VIP").count() == 3
    assert await ChangeRecord.filter(field="Loyalty").count() == 3


async def test_bulk_edit_of_everything_matching_the_filter(as_admin: Browser, admin: User) -> None:
    field_id, options = await _loyalty()
    for i in range(3):
        await factories.client(admin, name=f"Ромашка {i}")
    await factories.client(admin, name="Лютик")
    await as_admin.get("/clients?q=Ромашка")
    _status, text = await as_admin.post(
        "/clients/bulk",
        {"all_matching": "1", "q": "Ромашка", f"field_{field_id}": str(options["Gold"])},
    )
    assert "Updated 3 clients" in text
    assert await FieldValue.filter(definition_id=field_id).count() == 3


async def test_bulk_edit_refusals_write_nothing(as_admin: Browser, admin: User) -> None:
    field_id, _options = await _loyalty()
    legal_only = await fields.create_field(
        name="ОКВЭД", type="string", belongs_to="legal", actor=None
    )
    person = await factories.client(admin, name="Частное лицо")
    await as_admin.get("/clients")
    for data, message in (
        ([("client_ids", str(person.id))], "Choose what to change"),
        ([("relation_type", "supplier")], "Select at least one client"),
        ([("client_ids", str(person.id)), ("relation_type", "alien")], "Unknown choice"),
        ([("client_ids", str(person.id)), (f"field_{field_id}", "999")], "Loyalty: unknown value"),
        (
            [("client_ids", str(person.id)), (f"field_{legal_only.id}", "x")],
            "This field does not apply to this kind of client",
        ),
        ([("client_ids", "99999"), ("relation_type", "supplier")], "Not found"),
    ):
        _status, text = await as_admin.post("/clients/bulk", data)
        assert message in text, data
    assert not await FieldValue.exists()
    assert (await Client.get(id=person.id)).relation_type == RelationType.BUYER


async def test_client_card(as_admin: Browser, admin: User) -> None:
    section = await fields.create_section("Лояльность", actor=None)
    field = await fields.create_field(
        name="Loyalty", type="list", options=["Gold"], section_id=section.id, actor=None
    )
    client = await clients.create_client(
        actor=admin,
        kind="legal",
        name="ООО Альфа",
        inn="7707083893",
        phones=["+79161234567"],
        custom={field.id: "Gold"},
    )
    twin = await clients.create_client(actor=admin, name="Альфа (дубль)", phones=["89161234567"])
    await clients.add_person(client.id, actor=admin, name="Ольга", role="бухгалтер")
    status, text = await as_admin.get(f"/clients/{client.id}")
    assert status == 200
    assert "Лояльность" in text and 'data-field="Loyalty">Gold<' in text
    assert "Ольга" in text and "бухгалтер" in text
    assert "Альфа (дубль)" in text and "(same phone)" in text  # the duplicate, found by phone
    assert "Change history" in text
    assert "(Moscow)" in text and "Europe/Moscow" not in text  # the zone in the reader's words
    # edit, with a custom field
    await as_admin.post(
        f"/clients/{client.id}",
        {
            "kind": "legal",
            "name": "ООО Альфа-Плюс",
            "inn": "7707083893",
            "relation_type": "buyer",
            "phones": "+79161234567, +7 495 123-45-67",
            "tags": "VIP",
            f"field_{field.id}": "",
        },
    )
    client = await Client.get(id=client.id)
    assert client.name == "ООО Альфа-Плюс"
    assert not await FieldValue.filter(client_id=client.id).exists()
    _, text = await as_admin.get(f"/clients/{client.id}")
    assert "ООО Альфа-Плюс" in text and "+74951234567" in text
    # invalid edit: nothing changes
    status, text = await as_admin.post(
        f"/clients/{client.id}",
        {"kind": "legal", "name": "", "inn": "123", "relation_type": "buyer"},
    )
    assert "Required" in text and "INN must have 10 digits" in text
    assert (await Client.get(id=client.id)).name == "ООО Альфа-Плюс"
    # merge the duplicate into this one
    status, text = await as_admin.post(f"/clients/{client.id}/merge", {"merged_id": str(twin.id)})
    assert "Clients merged" in text
    assert (await Client.get(id=twin.id)).merged_into_id == client.id  # type: ignore[attr-defined]


async def test_create_client_and_key_person(as_admin: Browser) -> None:
    await as_admin.get("/clients/new")
    _, text = await as_admin.post(
        "/clients/new", {"kind": "individual", "name": "Анна", "emails": "Anna@Example.com"}
    )
    assert "Client “Анна” created" in text
    client = await Client.get(name="Анна")
    _, text = await as_admin.post(
        f"/clients/{client.id}/persons", {"name": "Пётр", "phone": "не телефон"}
    )
    assert "Not a phone number" in text
    _, text = await as_admin.post(f"/clients/{client.id}/persons", {"name": "Пётр", "role": "муж"})
    assert "Key person Пётр added" in text
    _status, text = await as_admin.post("/clients/new", {"kind": "individual", "name": ""})
    assert "Required" in text
    assert await Client.all().count() == 1


async def test_manager_sees_own_clients_read_only(
    as_manager: Browser, admin: User, manager: User
) -> None:
    mine = await factories.client(manager, name="Мой клиент")
    other_manager = await make_user(Role.MANAGER)
    theirs = await factories.client(other_manager, name="Чужой клиент")
    status, text = await as_manager.get("/clients")
    assert "Мой клиент" in text and "Чужой клиент" not in text
    assert 'action="/clients/bulk"' in text and 'id="bulk-edit"' not in text
    status, text = await as_manager.get(f"/clients/{mine.id}")
    assert status == 200 and "Edit the client" not in text
    status, text = await as_manager.get(f"/clients/{theirs.id}")
    assert status == 404
    status, text = await as_manager.post(f"/clients/{mine.id}", {"name": "Переименован"})
    assert "You are not allowed to do this" in text
    status, text = await as_manager.post(
        "/clients/bulk", {"client_ids": str(theirs.id), "relation_type": "supplier"}
    )
    assert "You are not allowed to do this" in text
    assert (await Client.get(id=mine.id)).name == "Мой клиент"
    assert (await Client.get(id=theirs.id)).relation_type == RelationType.BUYER
    # with "clients visible to all" the manager sees every client, still read-only
    await update_company({"clients_visible_to_all": True}, actor=None)
    status, text = await as_manager.get(f"/clients/{theirs.id}")
    assert status == 200


async def _conversation(client: Client, texts: list[str]) -> Conversation:
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="1", client=client)
    # the inbox lists conversations by their last message (as the inbox sets it)
    conversation = await Conversation.create(
        channel=channel, identity=identity, client=client, last_message_at=clock.now()
    )
    for i, text in enumerate(texts):
        await Message.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.IN,
            text=text,
            source_id=str(i),
            status=MessageStatus.RECEIVED,
        )
    return conversation


async def test_inbox_shows_messages_as_text(as_manager: Browser, manager: User) -> None:
    client = await factories.client(manager, name="Покупатель")
    conversation = await _conversation(client, ["<script>alert(1)</script> привет"])
    status, text = await as_manager.get("/inbox")
    assert "Покупатель" in text
    status, text = await as_manager.get(f"/inbox/{conversation.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; привет" in text
    assert "<script>alert" not in text
    other = await factories.client(await make_user(Role.MANAGER), name="Чужой")
    foreign = await _conversation(other, ["секрет"])
    status, text = await as_manager.get(f"/inbox/{foreign.id}")
    assert status == 404 and "секрет" not in text


async def test_deals_page(as_manager: Browser, manager: User) -> None:
    from crm import deals

    await factories.scenario()
    client = await factories.client(manager, name="Клиент")
    await deals.create_interest(actor=manager, client_id=client.id, title="Поставка", amount="1500")
    _, text = await as_manager.get("/deals")
    assert "Поставка" in text and "Квалификация" in text
    _status, text = await as_manager.get("/deals?status=won")
    assert "Поставка" not in text


async def test_money_in_english_keeps_the_code_apart(as_manager: Browser, manager: User) -> None:
    from crm import deals

    await factories.scenario()
    client = await factories.client(manager, name="Клиент")
    await deals.create_interest(actor=manager, client_id=client.id, title="Лот", amount=81700)
    _, text = await as_manager.get("/deals")  # the manager reads English
    assert "RUB\u00a081,700.00" in text and "RUB81" not in text
    _, text = await as_manager.get(f"/clients/{client.id}")
    assert "RUB\u00a081,700.00" in text
