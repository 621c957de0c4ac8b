"""The Reports section and the dashboard, through the panel as a head and as managers,
over the company of tests/crm/reports/world.py whose figures are known (March 2026)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from html import unescape

import pytest
import time_machine
from openpyxl import load_workbook
from tortoise.context import TortoiseContext

from crm.models import User
from crm.users import hash_password
from tests.admin_web.conftest import PASSWORD, Browser
from tests.crm.reports.world import NOW, World, build

LINK = re.compile(r'href="(/reports/[a-z]+/records\?[^"]+)"')


@pytest.fixture
async def world(db: TortoiseContext) -> AsyncIterator[World]:
    with time_machine.travel(NOW, tick=False):
        w = await build()
        await User.all().update(password_hash=hash_password(PASSWORD))
        yield w


async def login(browser: Browser, user: User) -> Browser:
    status, _ = await browser.login(user.email)
    assert status == 200
    return browser


def links(page: str) -> list[str]:
    return [unescape(link) for link in LINK.findall(page)]


def visible(page: str) -> str:
    """The page's text, tags as spaces, runs of spaces as one."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)).replace("\xa0", " "))


def rows_of(page: str) -> list[str]:
    body = page.split('<table id="records">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]


async def test_funnel_page_figures_chart_and_records(browser: Browser, world: World) -> None:
    await login(browser, world.head)
    status, page = await browser.get(
        f"/reports/funnel?period=this_month&scenario={world.scenario_id}"
    )
    assert status == 200
    assert "<svg" in page and 'class="chart"' in page  # the chart, inline
    entered = [link for link in links(page) if "figure=entered" in link]
    first_stage = next(link for link in entered if f"key={world.stages[0]}" in link)
    # the chart's bar and the table's figure open the same records
    chart = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    table = page.split("</svg>", 1)[1]
    escaped = first_stage.replace("&", "&amp;")
    assert f'href="{escaped}"' in chart and f'href="{escaped}"' in table
    status, records = await browser.get(first_stage)
    assert status == 200
    assert "(3)" in records  # A, B and C entered the first stage in March
    titles = {name for name in ("A", "B", "C", "D") if f"<td>{name}</td>" in records}
    assert titles == {"A", "B", "C"}


async def test_exports_open_in_a_spreadsheet(browser: Browser, world: World) -> None:
    await login(browser, world.head)
    resp = await browser.client.get("/reports/managers?period=this_month&format=xlsx")
    assert resp.status == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await resp.read()))
    values = [cell for row in book.worksheets[0].iter_rows(values_only=True) for cell in row]
    assert "Анна" in values and "Борис" in values
    resp = await browser.client.get(
        f"/reports/funnel/records?period=this_month&figure=entered&key={world.stages[0]}&format=csv"
    )
    text = (await resp.read()).decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[1])
    titles = {row[1] for row in csv.reader(io.StringIO(text), dialect) if len(row) > 1}
    assert {"A", "B", "C"} <= titles and "D" not in titles


async def test_a_manager_sees_only_their_own(browser: Browser, world: World) -> None:
    await login(browser, world.anna)
    status, page = await browser.get("/reports/managers?period=this_month")
    assert status == 200
    assert "Анна" in page and "Борис" not in page
    # naming a colleague (a link shared by the head) shows her own figures, saying so
    status, page = await browser.get(
        f"/reports/managers?period=this_month&managers={world.boris.id}"
    )
    assert status == 200 and 'id="own-only"' in page
    assert "Анна" in page and "Борис" not in page
    status, page = await browser.get(
        f"/reports/managers/records?period=this_month&figure=won&managers={world.boris.id}"
    )
    assert status == 200 and 'id="own-only"' in page and "<td>A</td>" in page
    # a drill-down link made up for Boris's row shows none of his records
    status, page = await browser.get(
        f"/reports/managers/records?period=this_month&figure=opened&manager={world.boris.id}"
    )
    # ">cC<": the bare name could turn up inside the page's random CSRF token
    assert status == 200 and "(0)" in page and ">cC<" not in page
    status, page = await browser.get("/reports/pipeline")
    assert ">cC<" not in page and "Борис" not in page
    assert 'name="period"' not in page and 'name="from"' not in page  # "now": no period
    _, funnel = await browser.get("/reports/funnel")
    assert 'name="period"' in funnel


async def test_a_bad_filter_is_shown_beside_its_field(browser: Browser, world: World) -> None:
    await login(browser, world.head)
    status, page = await browser.get("/reports/inquiries?from=2026-03-10&to=2026-03-01")
    assert status == 200
    assert 'id="err-to"' in page and "<svg" not in page
    status, page = await browser.get(
        "/reports/funnel/records?period=this_month&figure=nonsense&key=1"
    )
    assert status == 422  # ValidationFailed, as every refused input


async def test_dashboard(browser: Browser, world: World) -> None:
    await login(browser, world.head)
    status, page = await browser.get("/")
    assert status == 200
    dashboard = page.split('id="dashboard"', 1)[1]
    # March: Q1-Q5 received, Q5 waiting; A won (100) in March, nothing in February
    assert re.search(r"<strong>5</strong><br>Inquiries this month", dashboard)
    assert re.search(r"<strong>1</strong><br>Waiting to be taken", dashboard)
    won = re.search(r'\(<a href="([^"]+)">1</a>\)', page)  # one deal won this month
    assert won is not None and "figure=won" in won.group(1)
    status, records = await browser.get(unescape(won.group(1)))
    assert status == 200 and "(1)" in records and "<td>A</td>" in records
    assert "/reports/pipeline/records?figure=overdue" in unescape(page)
    await browser.post("/logout")
    await login(browser, world.boris)
    status, page = await browser.get("/")
    assert status == 200 and "Анна" not in page


async def test_next_response_section_and_its_records(browser: Browser, world: World) -> None:
    from tests.crm.reports.test_next_response import later_messages

    waits = await later_messages(world)
    await login(browser, world.head)
    status, page = await browser.get("/reports/inquiries?period=this_month")
    assert status == 200
    section = page.split('id="next-response"', 1)[1].split("</section>", 1)[0]
    assert ">18 min<" in section  # the median of 4, 15, 20 and 180: 17.5
    bucket = next(link for link in links(page) if "figure=next_bucket" in link and "key=2" in link)
    status, records = await browser.get(bucket)
    assert status == 200 and "(2)" in records  # W1 and W2 waited 15-60 working minutes
    ids = [re.sub(r"<[^>]+>", "", row.split("</td>", 1)[0]) for row in rows_of(records)]
    assert ids == [str(waits["W1"]), str(waits["W2"])]
    assert "Борис" in records and "Вопрос" in records
    q1 = world.inquiries["Q1"].conversation_id  # type: ignore[attr-defined]
    assert f'href="/inbox/{q1}">{waits["W1"]}</a>' in records  # a message opens its dialogue
    _, asked = await browser.get("/reports/inquiries/records?period=this_month&figure=accepted")
    assert f'href="/inbox/{q1}">{world.inquiries["Q1"].id}</a>' in asked  # and an inquiry
    resp = await browser.client.get(bucket + "&format=xlsx")
    book = load_workbook(io.BytesIO(await resp.read()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][-1] == "Answered in, working min" and [r[-1] for r in rows[1:]] == [20, 15]


FIGURE_CELL = re.compile(r'<td class="num[^"]*">(.*?)</td>|<strong>(.*?)</strong>', re.S)


def unlinked(page: str) -> list[str]:
    """The figures of a page (table cells, bold figures) that open no records."""
    main = page.split("<main", 1)[-1]
    main = re.sub(r"<a\b[^>]*>.*?</a>|<svg\b.*?</svg>|<form\b.*?</form>", "", main, flags=re.S)
    found = []
    for match in FIGURE_CELL.finditer(main):
        cell = (match.group(1) or match.group(2) or "").strip()
        text = unescape(re.sub(r"<[^>]+>", "", cell)).replace("\xa0", " ").strip()
        if re.search(r"[1-9]", text):  # a zero opens nothing
            found.append(text)
    return found


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/reports/funnel?period=this_month",
        "/reports/pipeline",
        "/reports/managers?period=this_month",
        "/reports/inquiries?period=this_month",
        "/reports/sources?period=this_month",
        "/reports/base?period=this_month",
        "/reports/base?period=this_month&group_by=responsible&group_by2=kind",
    ],
)
async def test_every_figure_opens_its_records(browser: Browser, world: World, path: str) -> None:
    from tests.crm.reports.test_next_response import later_messages

    await later_messages(world)
    await login(browser, world.head)
    status, page = await browser.get(path)
    assert status == 200
    assert unlinked(page) == []
    for link in links(page):  # and each link opens a records page
        status, _ = await browser.get(link)
        assert status == 200, link


async def test_dashboard_compares_with_last_month_plan_and_sla(
    browser: Browser, world: World
) -> None:
    await login(browser, world.head)
    _, page = await browser.get("/")
    text = visible(page)
    # first replies Q1 7, Q2 30 (the robot's does not count), Q3 120: median 30, 1 of 3 in 15
    assert "30 min First response, median SLA 15 min met: 33%" in text
    assert "last month: RUB 0.00 (0)" in text  # nothing won in February
    assert "plan: RUB 1,500.00 · 7%" in text  # Анна 1000 + Борис 500, 100 won
    assert "Open deals: 2 · RUB 230.00" in text and "<svg" in page  # the pipeline chart
    await browser.post("/logout")
    await login(browser, world.anna)
    _, page = await browser.get("/")
    text = visible(page)
    assert "plan: RUB 1,000.00 · 10%" in text and "Open deals: 1 · RUB 30.00" in text
