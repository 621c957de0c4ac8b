"""Whatever a form or a query string carries gets a clear answer, never a server error:
digits that int() refuses, ids that are not numbers or nobody's, unknown choices, texts
longer than their column or with characters no database stores."""

from __future__ import annotations

import aiohttp
import pytest

from crm.models import Channel, Client, ContactPerson, Tag, User
from tests.admin_web.conftest import Browser
from tests.crm import factories

SUPERSCRIPT_TWO = "\u00b2"  # '²'.isdigit() is True, int('²') raises ValueError
ARABIC_ONE = "\u0661"  # '١': int() reads it as 1


@pytest.mark.parametrize(
    "path",
    [
        f"/deals?page={SUPERSCRIPT_TWO}",
        f"/inbox?page={SUPERSCRIPT_TWO}",
        f"/clients?page={SUPERSCRIPT_TWO}",
        f"/clients?tag_id={SUPERSCRIPT_TWO}",
        f"/clients?responsible_id={SUPERSCRIPT_TWO}",
        f"/clients?field_id={SUPERSCRIPT_TWO}",
        "/clients?page=" + "9" * 5000,
    ],
    ids=["deals", "inbox", "clients", "tag", "responsible", "field", "5000-digits"],
)
async def test_odd_digits_in_page_queries_show_the_page(as_admin: Browser, path: str) -> None:
    status, _ = await as_admin.get(path)
    assert status == 200, path


@pytest.mark.parametrize(
    "tail", [ARABIC_ONE, "1" * 5000, "9" * 11], ids=["arabic-indic", "5000-digits", "11-digits"]
)
async def test_odd_digits_in_ids_of_the_path_are_not_found(as_admin: Browser, tail: str) -> None:
    await factories.client(await User.get(email="boss@example.com"))
    status, _ = await as_admin.get(f"/clients/{tail}")
    assert status == 404


async def test_bulk_edit_ignores_ids_that_are_not_ascii_digits(
    as_admin: Browser, admin: User
) -> None:
    client = await factories.client(admin)
    await as_admin.get("/clients")
    status, text = await as_admin.post(
        "/clients/bulk",
        [("client_ids", SUPERSCRIPT_TWO), ("client_ids", ARABIC_ONE), ("relation_type", "other")],
    )
    assert status == 200 and "Select at least one client" in text
    status, text = await as_admin.post(
        "/clients/bulk",
        [
            ("client_ids", SUPERSCRIPT_TWO),
            ("client_ids", str(client.id)),
            ("relation_type", "other"),
        ],
    )
    assert status == 200 and "Updated 1 clients" in text


async def test_vk_group_id_of_odd_digits_is_not_a_number(as_admin: Browser) -> None:
    await as_admin.get("/channels/new/vk")
    data = {"group_id": SUPERSCRIPT_TWO, "token": "t", "secret": "s", "confirmation": "c"}
    status, text = await as_admin.post("/channels/new/vk", data)
    assert status == 200 and "Not a number" in text
    assert not await Channel.exists()


@pytest.mark.parametrize(
    "responsible",
    ["abc", SUPERSCRIPT_TWO, "-1", "1.5", "99999"],
    ids=["letters", "superscript", "negative", "fraction", "nobody"],
)
async def test_responsible_that_is_not_a_user_is_a_field_error(
    as_admin: Browser, admin: User, responsible: str
) -> None:
    client = await factories.client(admin, name="Старый")
    await as_admin.get("/clients/new")
    status, text = await as_admin.post(
        "/clients/new", {"kind": "individual", "name": "Новый", "responsible_id": responsible}
    )
    assert status == 200 and ("Not a number" in text or "Unknown user" in text)
    await as_admin.get("/clients")
    status, text = await as_admin.post(
        "/clients/bulk", {"client_ids": str(client.id), "responsible_id": responsible}
    )
    assert status == 200 and ("Not a number" in text or "Unknown user" in text)
    assert await Client.all().count() == 1
    assert (await Client.get(id=client.id)).responsible_id is None  # type: ignore[attr-defined]


async def test_unknown_kind_on_the_card_is_an_unknown_choice(
    as_admin: Browser, admin: User
) -> None:
    client = await factories.client(admin, name="Вектор")
    await as_admin.get(f"/clients/{client.id}")
    for kind in ("bogus", ""):
        status, text = await as_admin.post(
            f"/clients/{client.id}", {"kind": kind, "name": "Вектор", "relation_type": "buyer"}
        )
        assert status == 200 and "Unknown choice" in text, kind
    await as_admin.get("/clients/new")
    status, text = await as_admin.post("/clients/new", {"kind": "bogus", "name": "Новый"})
    assert status == 200 and "Unknown choice" in text
    assert (await Client.get(id=client.id)).kind.value == "individual"


@pytest.mark.parametrize(
    ("field", "limit"),
    [("legal_name", 500), ("org_form", 50), ("region", 100), ("tags", 100)],
)
async def test_card_texts_longer_than_their_column_are_too_long(
    as_admin: Browser, admin: User, field: str, limit: int
) -> None:
    client = await factories.client(admin, name="Вектор")
    base = {"kind": "legal", "name": "Вектор", "relation_type": "buyer"}
    await as_admin.get("/clients/new")
    status, text = await as_admin.post("/clients/new", {**base, field: "x" * (limit + 1)})
    assert status == 200 and "Too long" in text
    await as_admin.get(f"/clients/{client.id}")
    status, text = await as_admin.post(f"/clients/{client.id}", {**base, field: "x" * (limit + 1)})
    assert status == 200 and "Too long" in text
    assert await Client.all().count() == 1
    status, text = await as_admin.post(f"/clients/{client.id}", {**base, field: "x" * limit})
    assert status == 200 and "Saved" in text


async def test_bulk_texts_longer_than_their_column_are_too_long(
    as_admin: Browser, admin: User
) -> None:
    client = await factories.client(admin)
    await as_admin.get("/clients")
    for data in (
        {"tags_add": "x" * 101},
        {"relation_type": "other", "tags_add": "ok, " + "y" * 101},
    ):
        status, text = await as_admin.post("/clients/bulk", {"client_ids": str(client.id), **data})
        assert status == 200 and "Too long" in text, data
    assert not await Tag.exists()


async def test_key_person_texts_longer_than_their_column_are_too_long(
    as_admin: Browser, admin: User
) -> None:
    client = await factories.client(admin)
    await as_admin.get(f"/clients/{client.id}")
    for data in ({"name": "x" * 201}, {"name": "Пётр", "role": "x" * 101}):
        status, text = await as_admin.post(f"/clients/{client.id}/persons", data)
        assert status == 200 and "Too long" in text, data
    assert not await ContactPerson.exists()


async def test_form_text_no_database_stores_is_refused(as_admin: Browser, admin: User) -> None:
    """NUL (which PostgreSQL refuses in text) is refused with the field named."""
    client = await factories.client(admin, name="Вектор")
    await as_admin.get(f"/clients/{client.id}")
    status, text = await as_admin.post(
        f"/clients/{client.id}",
        {"kind": "individual", "name": "Век\x00тор", "relation_type": "buyer"},
    )
    assert status == 200 and "The text contains invalid characters" in text
    await as_admin.get("/clients/new")
    status, text = await as_admin.post("/clients/new", {"kind": "individual", "name": "a\x00"})
    assert status == 200 and "The text contains invalid characters" in text
    assert (await Client.get(id=client.id)).name == "Вектор"
    assert await Client.all().count() == 1


async def test_multipart_form_that_is_not_utf8_is_a_bad_request(as_admin: Browser) -> None:
    await as_admin.get("/clients/new")
    writer = aiohttp.MultipartWriter("form-data")
    for name, value in (
        ("_csrf", as_admin.token.encode()),
        ("kind", b"individual"),
        ("name", b"\xed\xa0\x80"),  # a surrogate's bytes: not UTF-8
    ):
        part = writer.append(value, {"Content-Type": "text/plain; charset=utf-8"})
        part.set_content_disposition("form-data", name=name)
    resp = await as_admin.post_raw("/clients/new", data=writer)
    assert resp.status == 400
    assert not await Client.exists()


async def test_login_with_nul_in_the_email_is_refused(browser: Browser, admin: User) -> None:
    status, text = await browser.login(admin.email + "\x00")
    assert status == 200 and "The text contains invalid characters" in text
    status, _ = await browser.get("/clients?q=%00")
    assert status == 200  # the login page: not logged in


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "field_id=1&field_value=%00"])
async def test_search_for_nul_is_refused(as_admin: Browser, query: str) -> None:
    """PostgreSQL cannot even compare with a text holding NUL."""
    status, text = await as_admin.get("/clients?" + query)
    assert status == 422 and "The text contains invalid characters" in text
