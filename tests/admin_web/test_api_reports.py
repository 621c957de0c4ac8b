"""/api/v1/reports: the known world's figures through the API, managers limited to their
own work, refusals of bad filters, and the CSV/XLSX answers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from crm.apikeys import create_key
from crm.models import User
from tests.admin_web.conftest import Browser
from tests.crm.reports.world import NOW, World, build


@pytest.fixture(autouse=True)
def month_end() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class Api:
    def __init__(self, client: TestClient[Any, Any], key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        resp = await self.client.get(
            "/api/v1/reports/" + path,
            params={k: str(v) for k, v in params.items()},
            headers=self.headers,
        )
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.read()


@pytest.fixture
async def world(browser: Browser) -> World:
    return await build()


async def _api(browser: Browser, user: User) -> Api:
    _, key = await create_key("reports", user.id, actor=None)
    return Api(browser.client, key)


async def test_every_report_through_the_api(browser: Browser, world: World) -> None:
    api = await _api(browser, world.head)
    status, body = await api.get("funnel")
    assert status == 200
    [sale] = body["scenarios"]
    assert [s["entered"] for s in sale["stages"]] == [3, 3, 1]
    assert sale["stages"][0]["entered_amount"] == "350.00"
    assert sale["won_amount"] == "100.00" and sale["win_rate"] == 0.5
    assert body["period"]["first"] == "2026-03-01"
    _, cohort = await api.get("funnel", cohort="true")
    assert [s["entered"] for s in cohort["scenarios"][0]["stages"]] == [3, 2, 1]
    _, pipe = await api.get("pipeline")
    assert [(c["stage"], c["count"]) for c in pipe["cells"]] == [("S2", 1), ("S3", 1)]
    _, team = await api.get("managers")
    anna = next(r for r in team["rows"] if r["name"] == "Анна")
    assert (anna["won"], anna["plan_amount"], anna["first_response"]["median"]) == (
        1,
        "1000.00",
        18.5,
    )
    _, asked = await api.get("inquiries")
    assert asked["total"]["buckets"] == [0, 1, 1, 1, 0, 0] and asked["sla_minutes"] == 15
    _, came = await api.get("sources", lead_source="promo")
    assert came["total"]["won_amount"] == "100.00"
    _, clients = await api.get("base", group_by=f"field:{world.field_id},responsible")
    assert sum(g["clients"] for g in clients["groups"]) == 6
    assert clients["quality"]["duplicates"] == 2
    _, deals = await api.get("funnel/drill", figure="entered", key=world.stages[1], per_page=2)
    assert (deals["total"], len(deals["rows"]), deals["kind"]) == (3, 2, "interests")


async def test_a_manager_sees_only_their_own_figures(browser: Browser, world: World) -> None:
    api = await _api(browser, world.boris)
    _, team = await api.get("managers")
    assert [r["name"] for r in team["rows"]] == ["Борис"]
    status, body = await api.get("managers", managers=world.anna.id)
    assert (status, body["error"]["code"]) == (403, "permission_denied")
    status, body = await api.get("funnel/drill", figure="won", key=world.scenario_id)
    assert (status, body["total"]) == (200, 0)  # Анна's win is not Борис's
    _, page = await api.get("managers/drill", figure="opened", manager=world.anna.id)
    assert page["total"] == 0
    status, _ = await api.get("inquiries/drill", figure="received", managers=world.anna.id)
    assert status == 403
    _, mine = await api.get("inquiries/drill", figure="received")
    assert sorted(mine["ids"]) == sorted([world.inquiries["Q3"].id, world.inquiries["Q4"].id])
    _, funnel = await api.get("funnel")
    assert [s["entered"] for s in funnel["scenarios"][0]["stages"]] == [1, 1, 1]


async def test_bad_filters_are_refused_with_each_field(browser: Browser, world: World) -> None:
    api = await _api(browser, world.head)
    status, body = await api.get(
        "funnel", period="soon", managers="x", colour="red", cohort="maybe"
    )
    assert status == 422
    assert {"period", "managers"} <= set(body["error"]["fields"])  # "colour" is ignored
    status, body = await api.get("funnel", cohort="maybe")
    assert (status, list(body["error"]["fields"])) == (422, ["cohort"])
    status, body = await api.get("base", group_by="colour")
    assert (status, list(body["error"]["fields"])) == (422, ["group_by"])
    status, body = await api.get("funnel/drill", figure="nope", key=1)
    assert (status, list(body["error"]["fields"])) == (422, ["figure"])
    status, body = await api.get("funnel", field=world.field_id, field_value="Марс")
    assert (status, list(body["error"]["fields"])) == (422, ["field_value"])
    status, body = await api.get("managers", idle_days=999999999)
    assert (status, list(body["error"]["fields"])) == (422, ["idle_days"])
    status, body = await api.get("pipeline", format="pdf")
    assert status == 422
    no_key = await browser.client.get("/api/v1/reports/funnel")
    assert no_key.status == 401


async def test_csv_and_xlsx_answers(browser: Browser, world: World) -> None:
    api = await _api(browser, world.head)
    status, data = await api.get("managers", format="xlsx")
    assert status == 200
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Manager" and {r[0] for r in rows[1:]} == {"Анна", "Борис"}
    status, data = await api.get("inquiries/drill", figure="sla_missed", format="csv")
    text = data.decode("utf-8-sig")
    assert status == 200 and "Records" in text and text.count("\n") == 4


async def test_next_response_through_the_api(browser: Browser, world: World) -> None:
    from tests.crm.reports.test_next_response import later_messages

    waits = await later_messages(world)
    api = await _api(browser, world.head)
    status, asked = await api.get("inquiries")
    later = asked["next_response"]
    assert status == 200 and later["total"]["buckets"] == [1, 0, 2, 1, 0, 0]
    spread = later["total"]["next_response"]
    assert (spread["count"], spread["median"], spread["p90"]) == (4, 17.5, pytest.approx(132))
    boris = next(g for g in later["managers"] if g["name"] == "Борис")
    assert boris["figures"]["next_response"]["median"] == 97.5
    _, page = await api.get("inquiries/drill", figure="next_bucket", key=2)
    assert (page["kind"], page["ids"]) == ("messages", [waits["W1"], waits["W2"]])
    assert [row[-1] for row in page["rows"]] == [20.0, 15.0]
    status, data = await api.get("inquiries", format="xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[-3:] == [
        "Next response",
        "Next response by channel",
        "Next response by manager",
    ]
    mine = await _api(browser, world.anna)
    _, own = await mine.get("inquiries/drill", figure="next_waited")
    assert own["ids"] == [waits["W1"], waits["W5"], waits["W3"]]
