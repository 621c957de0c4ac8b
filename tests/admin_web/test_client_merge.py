"""The merge screen: a choice per field both clients fill, what is carried over, the
merge itself, and its undo from the card; admins and heads of sales merge, managers not."""

from __future__ import annotations

import re

from crm import clients, fields
from crm.models import Client, FieldValue, MergeRecord, Role, User
from tests.admin_web.conftest import Browser, make_user


async def _pair(admin: User) -> tuple[Client, Client, int]:
    size = await fields.create_field(name="Размер", type="string", actor=admin)
    survivor = await clients.create_client(
        actor=admin,
        kind="legal",
        name="Вектор",
        phones=["+79161234567"],
        note="Старая <заметка>",
        custom={size.id: "мал"},
        tags=["Опт"],
    )
    twin = await clients.create_client(
        actor=admin,
        kind="legal",
        name="ООО «Вектор»",
        inn="7707083893",
        kpp="773601001",
        birthday="2001-05-17",
        region="Новосибирская область",
        relation_type="supplier",
        note="Платят в срок",
        phones=["+79161234567", "+79037654321"],
        custom={size.id: "крупный"},
        tags=["VIP"],
    )
    return survivor, twin, size.id


async def test_the_merge_screen_lets_each_field_be_chosen(as_admin: Browser, admin: User) -> None:
    survivor, twin, size_id = await _pair(admin)
    _, card = await as_admin.get(f"/clients/{survivor.id}")
    assert f'href="/clients/{survivor.id}/merge?merged_id={twin.id}"' in card

    status, text = await as_admin.get(f"/clients/{survivor.id}/merge?merged_id={twin.id}")
    assert status == 200
    choices = set(re.findall(r'name="choice_([a-z_0-9]+)" value="merged"', text))
    assert choices == {"name", "relation_type", "note", f"custom_{size_id}"}
    assert "Старая &lt;заметка&gt;" in text  # customer text escaped
    carried = dict(re.findall(r'<dd data-key="([a-z_0-9]+)">(.*?)</dd>', text, re.S))
    assert carried["inn"] == "7707083893" and carried["kpp"] == "773601001"
    assert carried["region"] == "Новосибирская область"
    assert "VIP" in carried["tags"] and "Опт" not in carried["tags"]

    _, text = await as_admin.post(
        f"/clients/{survivor.id}/merge",
        {
            "merged_id": str(twin.id),
            "choice_name": "survivor",
            "choice_relation_type": "merged",
            "choice_note": "merged",
            f"choice_custom_{size_id}": "survivor",
        },
    )
    assert "Clients merged" in text
    kept = await Client.get(id=survivor.id)
    assert (kept.name, kept.note) == ("Вектор", "Платят в срок")
    assert kept.relation_type.value == "supplier"
    assert (kept.inn, kept.kpp, kept.region) == ("7707083893", "773601001", "Новосибирская область")
    assert (await FieldValue.get(client_id=survivor.id)).value_string == "мал"
    record = await MergeRecord.get(survivor_id=survivor.id)
    assert record.moved["taken"] == ["note", "relation_type"]
    assert "inn" in record.moved["carried"]
    assert "VIP" in text and "Merged into this client" in text

    # undo from the card: both cards come back as they were
    _, text = await as_admin.post(f"/clients/{survivor.id}/merges/{record.id}/undo")
    assert "Merge undone" in text
    kept = await Client.get(id=survivor.id)
    assert (kept.relation_type.value, kept.note, kept.inn) == ("buyer", "Старая <заметка>", None)
    assert await kept.tags.all().values_list("name", flat=True) == ["Опт"]
    back = await Client.get(id=twin.id)
    assert back.merged_into_id is None  # type: ignore[attr-defined]
    assert (back.inn, back.note) == ("7707083893", "Платят в срок")
    _, card = await as_admin.get(f"/clients/{survivor.id}")
    assert "Merged into this client" not in card


async def test_managers_cannot_open_the_merge_screen(
    as_manager: Browser, admin: User, manager: User
) -> None:
    survivor, twin, _ = await _pair(admin)
    status, _ = await as_manager.get(f"/clients/{survivor.id}/merge?merged_id={twin.id}")
    assert status == 403
    status, _ = await as_manager.post(f"/clients/{survivor.id}/merge", {"merged_id": str(twin.id)})
    assert (await Client.get(id=twin.id)).merged_into_id is None  # type: ignore[attr-defined]


async def test_the_merge_screen_of_an_unknown_client_is_not_found(
    as_admin: Browser, admin: User
) -> None:
    survivor, _, _ = await _pair(admin)
    for query in ("merged_id=999999", "merged_id=abc", "merged_id=99999999999999"):
        status, _ = await as_admin.get(f"/clients/{survivor.id}/merge?{query}")
        assert status == 404


async def test_a_head_of_sales_merges_and_undoes(browser: Browser, admin: User) -> None:
    """Issue 14: a head sees every client and may change none of settings, channels, users
    or API keys; the client base's duplicates are theirs to merge."""
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Helen Head")
    survivor, twin, _ = await _pair(admin)
    await browser.login(head.email)
    _, card = await browser.get(f"/clients/{survivor.id}")
    assert f'href="/clients/{survivor.id}/merge?merged_id={twin.id}"' in card
    status, text = await browser.get(f"/clients/{survivor.id}/merge?merged_id={twin.id}")
    assert status == 200 and 'id="merge-form"' in text
    status, text = await browser.post(
        f"/clients/{survivor.id}/merge", {"merged_id": str(twin.id), "choice_note": "merged"}
    )
    assert status == 200 and "Clients merged" in text
    assert (await Client.get(id=twin.id)).merged_into_id == survivor.id  # type: ignore[attr-defined]
    record = await MergeRecord.get(survivor_id=survivor.id)
    assert record.actor_id == head.id  # type: ignore[attr-defined]
    assert "Undo the merge" in text
    _, text = await browser.post(f"/clients/{survivor.id}/merges/{record.id}/undo")
    assert "Merge undone" in text
    assert (await Client.get(id=twin.id)).merged_into_id is None  # type: ignore[attr-defined]
