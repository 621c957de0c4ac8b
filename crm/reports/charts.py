"""The reports' figures as charts (`crm.charts`), one builder per report for both
surfaces: the web passes `link` (a figure's drill-down address, so a bar opens its
records), the bot passes none and sends the PNG. Labels are translated and numbers
formatted in the reader's locale here, so web and bot draw the same chart."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_decimal

from crm import labels
from crm.charts import Bar, Chart, Series, bar_chart, column_chart
from crm.i18n import format_money, gettext, pgettext
from crm.reports import funnel as funnel_report
from crm.reports import inquiries as inquiries_report
from crm.reports import managers as managers_report
from crm.reports import pipeline as pipeline_report
from crm.reports.base import BaseReport
from crm.reports.funnel import ScenarioFunnel
from crm.reports.inquiries import BUCKET_NAMES, InquiriesReport
from crm.reports.managers import ManagersReport
from crm.reports.pipeline import PipelineReport
from crm.reports.sources import SourcesReport
from crm.reports.words import GROUP_WORDS

# link(figure, **place) -> the drill-down's address, or None where there is none
Link = Callable[..., str | None]
CURRENCY = "RUB"
MAX_BARS = 15


def _none(figure: str, **place: object) -> str | None:
    return None


def _count(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def _money(value: Decimal, locale: str) -> str:
    """Short money for a chart's label ("20,1 млн ₽"): the table beside has it exact."""
    from babel.numbers import format_compact_currency

    if abs(value) < 10_000:
        return format_money(value, CURRENCY, locale)
    return format_compact_currency(value, CURRENCY, locale=locale, fraction_digits=1)


def funnel_chart(
    sc: ScenarioFunnel, locale: str, link: Link = _none, *, titled: bool = True
) -> Chart | None:
    """Deals entering each stage (count and amount), top to bottom; None when none did."""
    if not any(stage.entered for stage in sc.stages) and not sc.won:
        return None
    bars = [
        Bar(
            stage.name,
            stage.entered,
            f"{_count(stage.entered, locale)} · {_money(stage.entered_amount, locale)}",
            link(funnel_report.ENTERED, key=stage.stage_id),
        )
        for stage in sc.stages
    ]
    bars.append(
        Bar(
            pgettext("count", "Won", locale),
            sc.won,
            f"{_count(sc.won, locale)} · {_money(sc.won_amount, locale)}",
            link(funnel_report.WON, key=sc.scenario_id),
        )
    )
    return bar_chart(bars, title=sc.name if titled else "")


def pipeline_chart(report: PipelineReport, locale: str, link: Link = _none) -> Chart | None:
    """Open deals' amount per stage (all managers), in the scenarios' order."""
    if not report.cells:
        return None
    several = len({cell.scenario_id for cell in report.cells}) > 1
    totals: dict[int, tuple[str, int, Decimal]] = {}
    for cell in report.cells:
        label = f"{cell.scenario}: {cell.stage}" if several else cell.stage
        _, count, amount = totals.get(cell.stage_id, (label, 0, Decimal(0)))
        totals[cell.stage_id] = (label, count + cell.count, amount + cell.amount)
    bars = [
        Bar(
            name,
            float(amount),
            f"{_count(count, locale)} · {_money(amount, locale)}",
            link(pipeline_report.OPEN, stage=stage_id),
        )
        for stage_id, (name, count, amount) in totals.items()
    ]
    return bar_chart(bars[:MAX_BARS], title=gettext("Open deals by stage", locale))


def managers_chart(report: ManagersReport, locale: str, link: Link = _none) -> Chart | None:
    """Won amount per manager, with the plan's share where a plan is set."""
    if not any(row.won_amount for row in report.rows):
        return None
    bars = []
    for row in sorted(report.rows, key=lambda r: -r.won_amount)[:MAX_BARS]:
        text = _money(row.won_amount, locale)
        if row.plan_amount_done is not None:
            text += " · " + gettext(
                "{share} of plan", locale, share=percent(row.plan_amount_done, locale)
            )
        bars.append(
            Bar(
                row.name,
                float(row.won_amount),
                text,
                link(managers_report.WON, manager=row.manager_id),
            )
        )
    return bar_chart(bars, title=gettext("Won by manager", locale))


def inquiries_chart(report: InquiriesReport, locale: str, link: Link = _none) -> Chart | None:
    """First responses by how long the customer waited (working minutes)."""
    if not any(report.total.buckets):
        return None
    bars = [
        Bar(
            gettext(name, locale),
            count,
            _count(count, locale),
            link(inquiries_report.BUCKET, key=index),
        )
        for index, (name, count) in enumerate(zip(BUCKET_NAMES, report.total.buckets, strict=True))
    ]
    return bar_chart(bars, title=gettext("First response time", locale))


def sources_chart(report: SourcesReport, locale: str, link: Link = _none) -> Chart | None:
    """First messages, inquiries, deals and wins per channel, side by side."""
    if not report.channels:
        return None
    rows = report.channels[:MAX_BARS]
    names = [r.name for r in rows]
    series = [
        Series(gettext("First messages", locale), [r.first_messages for r in rows]),
        Series(gettext("Inquiries", locale), [r.inquiries for r in rows]),
        Series(gettext("Deals", locale), [r.interests for r in rows]),
        Series(pgettext("count", "Won", locale), [r.won for r in rows]),
    ]
    return column_chart(names, series, title=gettext("Channels", locale))


def group_label(dimension: str, text: object, locale: str) -> str:
    """A base group's label as the reader reads it (a kind or relation in words)."""
    table = GROUP_WORDS.get(dimension)
    return labels.label(str(text), locale, table) if table and text else str(text or "")


def base_chart(report: BaseReport, locale: str, link: Link = _none) -> Chart | None:
    """Clients per group, the largest groups first."""
    if not report.groups:
        return None
    bars = [
        Bar(
            " · ".join(
                group_label(dim, text, locale)
                for dim, text in zip(report.group_by, group.labels, strict=False)
            ),
            group.clients,
            _count(group.clients, locale),
            link(
                "group",
                group_by=",".join(report.group_by),
                keys=",".join("" if k is None else str(k) for k in group.keys),
            ),
        )
        for group in report.groups[:MAX_BARS]
    ]
    return bar_chart(bars, title=gettext("Clients", locale))


def month_chart(
    categories: list[str], won: list[Decimal], plan: list[Decimal | None], locale: str
) -> Chart:
    """Won amount by month beside the plan (the dashboard's and the bot's /report)."""
    series = [Series(pgettext("count", "Won", locale), [float(v) for v in won])]
    if any(p is not None for p in plan):
        series.append(Series(pgettext("target", "Plan", locale), [float(p or 0) for p in plan]))
    return column_chart(
        categories,
        series,
        title=gettext("Won by month", locale),
        tick=lambda v: format_decimal(round(v), locale=locale),
    )


def percent(share: float | None, locale: str) -> str:
    from babel.numbers import format_percent

    return "—" if share is None else format_percent(share, locale=locale)
