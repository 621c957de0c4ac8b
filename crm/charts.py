"""The reports' charts, drawn once by matplotlib for both surfaces.

`Chart.svg()` is for the web panel: inline SVG whose bars are links to their drill-downs.
The panel's CSP allows no inline style (`style-src 'self'`), so every `style="..."` that
matplotlib writes becomes presentation attributes (`fill="..."`), its `<style>` block and
metadata are dropped, and text stays text (`svg.fonttype: none`). `Chart.png()` is for
Telegram, which shows a picture.

What a label cannot do: labels are customer and company data (stage names, managers, loss
reasons, tags). matplotlib writes them as escaped XML text, so no label becomes markup;
`$` is never read as mathtext (`text.parse_math` off); a label is cut at LABEL_MAX
characters. Links are built by the caller from our own routes and written as attributes.

Sized for a phone: a chart is WIDTH_IN wide (its SVG about 400 px, shrunk to a phone's
width it keeps most of its size), its text 13 px, a bar's long label wrapped on two lines
of LABEL_LINE characters, so the labels stay readable at 390 px.

matplotlib is imported when a chart is first drawn, not when crm is (it takes a second).
"""

from __future__ import annotations

import io
import re
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LABEL_MAX = 40
LABEL_LINE = 16  # a bar's label wraps after this many characters (two lines at most)
WIDTH_IN = 2.8
BAR_HEIGHT_IN = 0.42
PALETTE = ("#3b6fb6", "#e59a3a", "#5aa469", "#c0504d", "#8064a2", "#4bacc6")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# CSS properties matplotlib writes in style="" that SVG also takes as attributes
PRESENTATION = frozenset(
    {
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-opacity",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-miterlimit",
        "opacity",
        "text-anchor",
        "font-size",
        "font-family",
        "font-weight",
        "font-style",
        "dominant-baseline",
        "clip-path",
    }
)
# matplotlib's rc_context changes process-wide settings: one chart is drawn at a time, so
# a chart drawn in a thread (the bot's PNG, the panel's SVG) never takes another's settings
DRAWING = threading.RLock()
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "crmhub",  # ids the same from run to run
    "text.parse_math": False,
    "font.family": "DejaVu Sans",  # shipped with matplotlib; has Cyrillic
    "font.size": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, the text written at its end, and its drill-down."""

    label: str
    value: float
    text: str = ""
    link: str | None = None


@dataclass(frozen=True)
class Series:
    """One series of a column chart: a value (and drill-down link) per category."""

    name: str
    values: Sequence[float]
    links: Sequence[str | None] = field(default_factory=tuple)


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _wrapped(text: str) -> str:
    """A bar's label on one or two lines (words kept whole; a long word stays one line)."""
    text = _label(text)
    if len(text) <= LABEL_LINE:
        return text
    lines = textwrap.wrap(text, LABEL_LINE, break_long_words=False, break_on_hyphens=False)
    if len(lines) <= 2:
        return "\n".join(lines)
    rest = " ".join(lines[1:])
    return lines[0] + "\n" + (rest if len(rest) <= LABEL_LINE + 4 else rest[: LABEL_LINE + 3] + "…")


class Chart:
    """A drawn figure, rendered on demand as inline-safe SVG or as PNG."""

    def __init__(self, figure: Any) -> None:
        self._figure = figure

    def png(self, dpi: int = 192) -> bytes:
        import matplotlib

        with DRAWING, matplotlib.rc_context(RC):
            buf = io.BytesIO()
            self._figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return buf.getvalue()

    def svg(self) -> str:
        import matplotlib

        with DRAWING, matplotlib.rc_context(RC):
            buf = io.BytesIO()
            self._figure.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        return inline_svg(buf.getvalue())


def bar_chart(bars: Sequence[Bar], *, title: str = "") -> Chart:
    """Horizontal bars, top to bottom in the given order (a funnel, a ranking)."""
    import matplotlib
    from matplotlib.figure import Figure

    with DRAWING, matplotlib.rc_context(RC):
        labels = [_wrapped(b.label) for b in bars]
        per_bar = BAR_HEIGHT_IN * (1.4 if any("\n" in label for label in labels) else 1)
        height = max(1.6, 0.9 + per_bar * len(bars))
        figure = Figure(figsize=(WIDTH_IN, height))
        axes = figure.add_subplot()
        positions = list(range(len(bars)))
        drawn = axes.barh(positions, [b.value for b in bars], color=PALETTE[0], height=0.6)
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        top = max((b.value for b in bars), default=0) or 1
        axes.set_xlim(0, top * 1.25)
        axes.xaxis.set_visible(False)
        axes.spines["bottom"].set_visible(False)
        for patch, bar in zip(drawn.patches, bars, strict=True):
            if bar.link:
                patch.set_url(bar.link)
            if bar.text:
                axes.text(
                    bar.value + top * 0.01,
                    patch.get_y() + patch.get_height() / 2,
                    _label(bar.text),
                    va="center",
                    ha="left",
                )
        if title:
            axes.set_title(_label(title), loc="left")
    return Chart(figure)


def column_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    tick: Callable[[float], str] | None = None,
) -> Chart:
    """Columns per category, one colour per series side by side (this month against plan).
    `tick` writes the value axis' numbers (money per locale); without it they are whole."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    with DRAWING, matplotlib.rc_context(RC):
        figure = Figure(figsize=(WIDTH_IN, 3.2))
        axes = figure.add_subplot()
        count = max(len(series), 1)
        width = 0.8 / count
        for index, one in enumerate(series):
            positions = [c + (index - (count - 1) / 2) * width for c in range(len(categories))]
            drawn = axes.bar(
                positions,
                list(one.values),
                width=width,
                color=PALETTE[index % len(PALETTE)],
                label=_label(one.name),
            )
            for patch, link in zip(drawn.patches, one.links, strict=False):
                if link:
                    patch.set_url(link)
        axes.set_xticks(range(len(categories)), [_wrapped(c) for c in categories])
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        if tick is not None:
            axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: tick(value)))
        if len(series) > 1:
            axes.legend(frameon=False)
        if title:
            axes.set_title(_label(title), loc="left")
    return Chart(figure)


_FONT = re.compile(
    r"^(?:(?P<style>italic|oblique)\s+)?(?:(?P<weight>bold|\d{3})\s+)?"
    r"(?P<size>[\d.]+px)\s+(?P<family>.+)$"
)


def _declarations(style: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in style.split(";"):
        name, _, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not name or not value:
            continue
        if name == "font":
            match = _FONT.match(value)
            if match:
                found["font-size"] = match["size"]
                found["font-family"] = match["family"].replace("'", "").replace('"', "")
                if match["weight"]:
                    found["font-weight"] = match["weight"]
                if match["style"]:
                    found["font-style"] = match["style"]
        elif name in PRESENTATION:
            found[name] = value
    return found


def inline_svg(document: bytes) -> str:
    """matplotlib's SVG as markup for an HTML page under `style-src 'self'`: styles as
    attributes, no <style> or metadata, links opening in the page, drawn at its own size."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(document)
    for parent in root.iter():
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}style", f"{{{SVG_NS}}}metadata"):
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for name, value in _declarations(style).items():
                element.set(name, value)
        href = element.attrib.get(f"{{{XLINK_NS}}}href")
        if element.tag == f"{{{SVG_NS}}}a" and href is not None:
            element.set("href", href)  # SVG 2, which browsers prefer to xlink
    for name in ("width", "height"):  # "432pt" -> 432 (CSS px): drawn at its own size,
        size = root.attrib.get(name, "")  # shrunk by `max-width: 100%` on a narrow page
        root.set(name, size.removesuffix("pt") or "100")
    root.set("class", "chart")
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")
