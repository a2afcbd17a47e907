"""The monthly report as one self-contained HTML page: inline CSS, charts as inline SVG drawn on
the server (reports/charts.py); no script, no link, no image, nothing fetched. The same page is
laid out as the PDF (render_pdf.py)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources

from jinja2 import Environment, Template
from markupsafe import Markup

from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import to_local
from bankvoc.reports import charts
from bankvoc.reports.labels import label
from bankvoc.reports.monthly import KpiLine, MonthlyReport, Share

RATE_TRENDS = ("on_time_rate", "resolution_rate", "csat", "callback_rate")
UNIT_SUFFIX = {"percent": "%", "days": ""}


@lru_cache(maxsize=1)
def _template() -> Template:
    source = resources.files("bankvoc.reports").joinpath("templates/monthly.html").read_text(
        "utf-8")
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(source)


def fmt(value: float | None, unit: str, lang: str = "zh") -> str:
    """A KPI value in its unit: 1,234 · 83.3% · 5.7 天 · 26.67."""
    if value is None:
        return "—"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "days":
        return f"{value:.1f} {'days' if lang == 'en' else '天'}"
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:,.2f}"


def fmt_change(value: float | None, unit: str, lang: str = "zh") -> str:
    """A change in the KPI's unit: points for a rate (百分点)."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    size = abs(value)
    if unit == "count":
        return f"{sign}{size:,.0f}"
    if unit == "percent":
        return f"{sign}{size:.1f} {'pt' if lang == 'en' else '个百分点'}"
    if unit == "days":
        return f"{sign}{size:.1f} {'days' if lang == 'en' else '天'}"
    return f"{sign}{size:,.2f}"


def tone(line: KpiLine, change: float | None) -> str:
    """good | bad | flat: whether a change goes the KPI's better way."""
    if change is None or abs(change) < 1e-9:
        return "flat"
    better = change > 0 if line.better == "higher" else change < 0
    return "good" if better else "bad"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def category_charts(report: MonthlyReport) -> tuple[Markup, Markup]:
    title = label("categories", report.lang)
    items = [(s.label, s.count) for s in report.categories]
    return (Markup(charts.donut_chart(items, title=title)),
            Markup(charts.bar_chart([(s.label, 100 * (s.share or 0.0))
                                     for s in report.categories], title=title, suffix="%")))


def share_chart(shares: list[Share], title: str) -> Markup:
    return Markup(charts.bar_chart([(s.label, s.count) for s in shares], title=title,
                                   decimals=0))


def trend_charts(report: MonthlyReport) -> list[Markup]:
    months = report.trends.months
    counts = [s for s in report.trends.series if s.code == "complaints"]
    rates = [s for s in report.trends.series if s.code in RATE_TRENDS]
    found = []
    if counts:
        found.append(Markup(charts.line_chart(months, [(s.label, s.points) for s in counts],
                                              title=counts[0].label, decimals=0)))
    if rates:
        found.append(Markup(charts.line_chart(months, [(s.label, s.points) for s in rates],
                                              title=label("trends", report.lang),
                                              suffix="%")))
    return found


def org_chart(report: MonthlyReport) -> Markup:
    return Markup(charts.bar_chart(
        [(row.name, row.values.get("complaints") or 0.0) for row in report.orgs],
        title=label("orgs", report.lang), decimals=0))


def render_html(report: MonthlyReport) -> str:
    lang = report.lang
    generated = to_local(report.generated_at, get_settings().tz).strftime("%Y-%m-%d %H:%M")
    return _template().render(
        r=report, lang=lang, L=lambda key: label(key, lang),
        fmt=lambda value, unit: fmt(value, unit, lang),
        change=lambda value, unit: fmt_change(value, unit, lang), tone=tone, percent=percent,
        generated=generated,
        last_day=date.fromordinal(report.end.toordinal() - 1).isoformat(),
        kind_label=lambda kind: t(f"alert_kind.{kind}", lang),
        category_charts=category_charts(report),
        product_chart=share_chart(report.products, label("product", lang)),
        channel_chart=share_chart(report.channels, label("channel", lang)),
        trend_charts=trend_charts(report),
        org_chart=org_chart(report) if report.orgs else None)
