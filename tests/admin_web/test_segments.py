"""Segments in the panel and the API: the rule builder's form (rows added, a field changed,
saved, bad input refused with the reason and nothing saved), the members as the client
list filtered by the segment (and bulk edit over them), the composition report, the
AB/XYZ matrix, the reports' `segment` filter, /api/v1/segments, and a manager limited to
their own clients among the members."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from crm import clock
from crm.apikeys import create_key
from crm.models import Client, Interest, Invoice, Payment, Segment, SegmentMember, Stage, Tag, User
from crm.segments.abcxyz import classify
from tests.admin_web.conftest import Browser
from tests.crm import factories


async def _clients(admin: User, manager: User) -> tuple[Tag, list[Client]]:
    made = [
        await factories.client(admin, "Alpha LLC", tags=["VIP"], responsible_id=manager.id),
        await factories.client(admin, "Beta LLC", tags=["VIP"]),
        await factories.client(admin, "Gamma LLC"),
    ]
    return await Tag.get(name="VIP"), made


def _form(name: str, tag: Tag, **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "description": "",
        "op": "and",
        "groups": "1",
        "g0_op": "and",
        "g0_n": "1",
        "g0_c0_field": "tag",
        "g0_c0_op": "any",
        "g0_c0_values": str(tag.id),
        "action": "save",
        **extra,
    }


async def test_builder_saves_and_members_are_the_filtered_list(
    as_admin: Browser, admin: User, manager: User
) -> None:
    tag, (alpha, beta, _) = await _clients(admin, manager)
    status, page = await as_admin.get("/segments/new")
    assert status == 200 and 'id="segment-form"' in page
    # a row added, its field changed to one with a number of days: the form follows
    form = _form("VIP", tag, action="add_condition:0")
    status, page = await as_admin.post("/segments/new", form)
    assert status == 200 and 'name="g0_c1_field"' in page
    form |= {"g0_n": "2", "g0_c1_field": "no_interaction_days", "action": "refresh"}
    status, page = await as_admin.post("/segments/new", form)
    assert status == 200 and 'name="g0_c1_days"' in page
    form |= {"g0_c1_op": "eq", "g0_c1_days": "30", "action": "save"}
    status, page = await as_admin.post("/segments/new", form)
    assert status == 200, page
    segment = await Segment.get(name="VIP")
    assert "Segment saved: 2 clients" in page
    current = await SegmentMember.filter(segment_id=segment.id, left_at=None).values_list(
        "client_id", flat=True
    )
    assert sorted(current) == sorted([alpha.id, beta.id])
    _, listed = await as_admin.get(f"/clients?segment_id={segment.id}")
    assert "Alpha LLC" in listed and "Beta LLC" in listed and "Gamma LLC" not in listed
    # bulk edit reaches the segment's members through the same filter
    status, _ = await as_admin.post(
        "/clients/bulk",
        {"segment_id": str(segment.id), "all_matching": "1", "tags_add": "Wholesale"},
    )
    assert status == 200
    tagged = await Client.filter(tags__name="Wholesale").values_list("name", flat=True)
    assert sorted(tagged) == ["Alpha LLC", "Beta LLC"]
    # the composition report: who left after the rule changed and a recompute
    await beta.tags.clear()
    status, page = await as_admin.post(f"/segments/{segment.id}/recompute", {})
    assert "Recomputed: 1 clients, 0 joined, 1 left" in page
    _, page = await as_admin.get(f"/segments/{segment.id}")
    current_part, left_part = page.split('id="segment-left"', 1)
    assert "Alpha LLC" in current_part.split('id="segment-current"', 1)[1]
    assert "Beta LLC" in left_part
    # the reports take the segment as a filter
    status, page = await as_admin.get(f"/reports/pipeline?segment={segment.id}")
    assert status == 200 and f'<option value="{segment.id}" selected>VIP</option>' in page
    status, page = await as_admin.get("/reports/pipeline?segment=x")
    assert status == 400 or "A positive whole number expected" in page


async def test_bad_input_is_refused_with_the_reason_and_nothing_saved(
    as_admin: Browser, admin: User, manager: User
) -> None:
    tag, _ = await _clients(admin, manager)
    cases = [
        (_form("", tag), "Required"),
        (_form("No conditions", tag, groups="0"), "Add at least one condition"),
        (_form("Unknown tag", tag, g0_c0_values="999999"), "Unknown choice"),
        (
            _form(
                "Bad amount",
                tag,
                g0_c0_field="revenue",
                g0_c0_op="gt",
                g0_c0_value="lots",
                g0_c0_period="last_month",
            ),
            "A number expected",
        ),
        (_form("No days", tag, g0_c0_field="no_won_days", g0_c0_op="eq"), "number of days"),
    ]
    for form, reason in cases:
        status, page = await as_admin.post("/segments/new", form)
        assert status == 400 and reason in page, (form, page[-2000:])
    assert await Segment.all().count() == 0
    await as_admin.post("/segments/new", _form("VIP", tag))
    status, page = await as_admin.post("/segments/new", _form("VIP", tag))
    assert status == 400 and "A segment with this name exists" in page


async def test_a_manager_sees_their_own_clients_among_the_members(
    browser: Browser, admin: User, manager: User
) -> None:
    tag, (alpha, _, _) = await _clients(admin, manager)
    from crm.segments import service
    from crm.segments.members import recompute

    rule = {"op": "and", "items": [{"field": "tag", "op": "any", "values": [str(tag.id)]}]}
    segment = await service.create_segment("VIP", rule, actor=admin)
    await recompute(segment)
    await browser.login(manager.email)
    _, page = await browser.get("/segments")
    assert "VIP" in page and "/segments/new" not in page
    _, page = await browser.get(f"/segments/{segment.id}")
    assert "Alpha LLC" in page and "Beta LLC" not in page
    _, page = await browser.get(f"/clients?segment_id={segment.id}")
    assert "Alpha LLC" in page and "Beta LLC" not in page
    status, _ = await browser.get(f"/segments/{segment.id}/edit")
    assert status == 403
    _, key = await create_key("m", manager.id, actor=None)
    client: TestClient = browser.client  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    resp = await client.get(f"/api/v1/segments/{segment.id}/members", headers=headers)
    assert [m["name"] for m in (await resp.json())["items"]] == ["Alpha LLC"]
    resp = await client.post(f"/api/v1/segments/{segment.id}/recompute", headers=headers)
    assert resp.status == 403
    assert alpha.id  # the manager's own client


async def test_api_lists_gets_pages_members_and_recomputes(
    browser: Browser, admin: User, manager: User
) -> None:
    tag, _ = await _clients(admin, manager)
    from crm.segments import service

    rule = {"op": "and", "items": [{"field": "tag", "op": "any", "values": [str(tag.id)]}]}
    segment = await service.create_segment("VIP", rule, actor=admin)
    _, key = await create_key("a", admin.id, actor=admin)
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    client = browser.client
    resp = await client.post(f"/api/v1/segments/{segment.id}/recompute", headers=headers)
    assert (await resp.json()) == {"members": 2, "joined": 2, "left": 0}
    resp = await client.get("/api/v1/segments", headers=headers)
    listed = (await resp.json())["items"]
    assert [(s["name"], s["members"]) for s in listed] == [("VIP", 2)]
    assert listed[0]["rule"]["items"][0]["field"] == "tag"
    resp = await client.get(f"/api/v1/segments/{segment.id}", headers=headers)
    assert (await resp.json())["name"] == "VIP"
    resp = await client.get(
        f"/api/v1/segments/{segment.id}/members?per_page=1&page=2", headers=headers
    )
    body = await resp.json()
    assert len(body["items"]) == 1 and body["has_more"] is False and body["page"] == 2
    resp = await client.get("/api/v1/segments/999999", headers=headers)
    assert resp.status == 404


async def test_abcxyz_matrix_card_and_drill_down(
    as_admin: Browser, admin: User, manager: User
) -> None:
    _, (alpha, beta, _) = await _clients(admin, manager)
    scenario = await factories.scenario()
    stage = await Stage.filter(scenario_id=scenario.id).first()
    assert stage is not None
    today = clock.now().astimezone(ZoneInfo("Europe/Moscow")).date()
    for client, monthly in ((alpha, 900), (beta, 100)):
        deal = await Interest.create(client=client, title="x", scenario_id=scenario.id, stage=stage)
        invoice = await Invoice.create(
            interest=deal, client=client, number="1", issued_on=today, amount=Decimal(12 * monthly)
        )
        for back in range(1, 13):  # every month of the window: steady, X
            index = today.year * 12 + today.month - 1 - back
            day = date(index // 12, index % 12 + 1, 15)
            await Payment.create(invoice=invoice, client=client, paid_on=day, amount=monthly)
    await classify()
    _, page = await as_admin.get("/reports/abcxyz")
    assert 'data-cell="AX"' in page
    cell = page.split('data-cell="AX"', 1)[1].split("</td>", 1)[0]
    assert ">1<" in cell  # Alpha: 90% of revenue
    _, card = await as_admin.get(f"/clients/{beta.id}")
    assert "BX" in card.split('id="client-class"', 1)[1][:400]
    _, listed = await as_admin.get("/clients?abc=A&xyz=X")
    assert "Alpha LLC" in listed and "Beta LLC" not in listed
    _, page = await as_admin.post(
        "/settings",
        {
            "name": "Co",
            "default_locale": "en",
            "default_timezone": "Europe/Moscow",
            "reminder_lead_minutes": "15",
            "abc_a_percent": "90",
            "abc_b_percent": "20",
        },
    )
    assert "A and B together must be under 100%" in page
