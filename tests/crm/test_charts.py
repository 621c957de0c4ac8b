"""crm.charts: the same chart as inline SVG for the panel (links, no inline style, labels
as escaped text) and as PNG for Telegram."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from PIL import Image

from crm.charts import LABEL_MAX, Bar, Series, bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> $x$ & Co"


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_bars_are_links_and_labels_are_text() -> None:
    chart = bar_chart(
        [
            Bar("Первичный контакт", 120, "120 · 1 200 000 ₽", "/reports/funnel/list?stage=1&x=2"),
            Bar(HOSTILE, 30, "30"),
        ],
        title="Воронка",
    )
    markup = chart.svg()
    root = ET.fromstring(markup)
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["/reports/funnel/list?stage=1&x=2"]
    texts = _texts(root)
    assert "Первичный контакт" in " ".join(texts) and "Воронка" in texts
    assert "120 · 1 200 000 ₽" in texts
    # `$` not read as mathtext; the long label wrapped on two lines, each a text node
    assert "<script>alert(1)</script>" in texts and "$x$ & Co" in texts
    assert not list(root.iter(f"{SVG}script"))
    assert "<script>" not in markup
    # the panel's CSP (style-src 'self') would drop inline styles: none are left
    assert "style=" not in markup and not list(root.iter(f"{SVG}style"))
    assert root.get("viewBox") and float(root.get("width") or 0) > 100


def test_long_labels_are_cut() -> None:
    root = ET.fromstring(bar_chart([Bar("Ж" * 200, 1)]).svg())
    label = next(t for t in _texts(root) if t.startswith("Ж"))
    assert len(label) == LABEL_MAX and label.endswith("…")


def test_labels_stay_readable_on_a_phone() -> None:
    """At 390 px (a card of about 340) the SVG is shrunk to its width: it is drawn narrow
    enough that its 13 px text is shown at 10 px or more, and long labels wrap."""
    bars = [
        Bar("Продажа: Коммерческое предложение", 15, "15 · 1,2 млн ₽", "/a"),
        Bar("Тендер: Заключение контракта", 10, "10 · 1,6 млн ₽", "/b"),
    ]
    root = ET.fromstring(bar_chart(bars, title="Открытые сделки по этапам").svg())
    width = float(root.get("width") or 0)
    sizes = {float(t.get("font-size", "0").removesuffix("px")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) == 13.0  # the title larger
    assert 13 * min(340 / width, 1) >= 10, width  # shown at 10 px or more (it was 6)
    texts = _texts(root)
    assert "Продажа:" in texts and "Коммерческое" in "".join(texts)


def test_columns_png_for_telegram() -> None:
    chart = column_chart(
        ["окт", "ноя", "дек"],
        [Series("Выиграно", [1, 2, 3], ["/a", "/b", None]), Series("План", [2, 2, 2])],
        title="Выручка",
        tick=lambda v: f"{v:,.0f} ₽",
    )
    png = chart.png()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 400 and image.height > 150
    root = ET.fromstring(chart.svg())
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ["/a", "/b"]
    assert "2 ₽" in _texts(root)


def test_empty_chart_draws() -> None:
    assert bar_chart([]).png().startswith(b"\x89PNG")
