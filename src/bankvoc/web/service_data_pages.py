"""The operational service-data page: for the viewer's org subtree (or an org of it) and a
range of months, every metric's latest figure against its target (met or missed), its
month-on-month change, and trend charts with their figures in tables. Everything goes through
`servicedata.service`, which checks the role and the scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.orgs.service import Actor
from bankvoc.servicedata import service
from bankvoc.servicedata.metrics import Report, Series
from bankvoc.servicedata.targets import Family, Metric
from bankvoc.web.dashboard_pages import json_for_script
from bankvoc.web.i18n_servicedata import SERVICEDATA_UI
from bankvoc.web.present import Labeller, Problem

DEFAULT_MONTHS = 6
FAMILIES: tuple[Family, ...] = ("queue", "channel", "process", "digital")
# What each section's chart draws: one line per group of this metric (digital: both rates).
CHARTED: dict[Family, tuple[str, ...]] = {
    "queue": ("queue_wait_avg",), "channel": ("channel_availability",),
    "process": ("process_median",),
    "digital": ("self_service_share", "assistant_resolution_rate"),
}
_FIELDS = {"org": "sd.field_org", "from": "sd.field_from", "to": "sd.field_to"}


# --- formatting ----------------------------------------------------------------------------------

def figure(metric: Metric, value: float | None, lab: Labeller) -> str:
    """A figure with its unit, as people read it (a duration in hours shown in minutes when
    short, in days when long)."""
    if value is None:
        return lab("sd.no_figure")
    if metric.unit == "percent":
        digits = 2 if metric.code == "channel_availability" else 1
        return f"{value:.{digits}f}%"
    if metric.unit == "ms":
        return f"{value:,.0f} {lab('sd.unit.ms')}"
    if metric.unit == "count":
        return f"{value:,.0f}"
    if metric.unit == "hours":
        if abs(value) < 1:
            return f"{value * 60:.0f} {lab('sd.unit.minutes')}"
        if abs(value) >= 48:
            return f"{value / 24:.1f} {lab('sd.unit.days')}"
        return f"{value:.1f} {lab('sd.unit.hours')}"
    return f"{value:.1f} {lab('sd.unit.' + metric.unit)}"


def group_label(group: str, lab: Labeller) -> str:
    key = f"sd.group.{group or 'all'}"
    return lab(key) if key in SERVICEDATA_UI else group


def target_text(series: Series, lab: Labeller) -> str:
    if series.target is None:
        return lab("sd.no_target")
    if series.metric.target_is_growth:
        return lab("sd.target_growth", value=f"{series.target:+.1f}%")
    text = figure(series.metric, series.target, lab)
    return lab(f"sd.target_{series.metric.better}", value=text)


def change_text(series: Series, lab: Labeller) -> tuple[str, str]:
    """The month-on-month change in words and its tone (good, bad or flat)."""
    change = series.change()
    if change is None:
        return lab("sd.no_figure"), "flat"
    if series.metric.unit == "count":
        growth = series.growth()
        text = f"{growth:+.1f}%" if growth is not None else f"{change:+,.0f}"
    elif series.metric.unit == "percent":
        text = f"{change:+.2f} pt" if series.metric.code == "channel_availability" \
            else f"{change:+.1f} pt"
    else:
        text = figure(series.metric, change, lab)
        text = text if text.startswith("-") else "+" + text
    if abs(change) < 1e-9:
        return text, "flat"
    better = (change < 0) == (series.metric.better == "lower")
    return text, "good" if better else "bad"


# --- the view ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    metric: str
    label: str
    group: str
    group_label: str
    value: str
    raw: float | None
    target: str
    met: bool | None
    change: str
    tone: str


@dataclass
class Chart:
    id: str
    title: str
    months: list[str]
    series: list[dict[str, object]]
    target: float | None
    rows: list[list[str]]  # the same figures as a table: month, then one per line
    heads: list[str]


@dataclass
class Section:
    code: str
    title: str
    lines: list[Line] = field(default_factory=list)
    chart: Chart | None = None


@dataclass(frozen=True)
class Cell:
    value: str
    met: bool | None


@dataclass(frozen=True)
class OrgLine:
    code: str
    name: str
    url: str
    cells: list[Cell]


@dataclass
class ServiceDataView:
    values: dict[str, str]
    scope: str = ""
    latest: str = ""
    sections: list[Section] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)  # the metrics' names, in column order
    orgs: list[OrgLine] = field(default_factory=list)
    problem: Problem | None = None
    wait_over_minutes: float = 15
    charts_json: str = "[]"

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _months(session: Session, actor: Actor, values: dict[str, str]) -> tuple[date, date]:
    end = (service.parse_month(values["to"], field_name="to") if values["to"]
           else service.latest_month(session, actor=actor, org=values["org"] or None)
           or datetime.now(get_settings().tz).date().replace(day=1))
    start = (service.parse_month(values["from"], field_name="from") if values["from"]
             else service.add_months(end, 1 - DEFAULT_MONTHS))
    return start, end


def service_data(session: Session, *, actor: Actor, params: Mapping[str, str],
                 lab: Labeller, root: str = "") -> ServiceDataView:
    values = {name: str(params.get(name, "")).strip()[:40] for name in _FIELDS}
    view = ServiceDataView(values=values)
    try:
        start, end = _months(session, actor, values)
        found = service.report(session, actor=actor, org=values["org"] or None,
                               start=start, end=end)
        orgs = service.by_org(session, actor=actor, org=values["org"] or None, month=end)
    except BankvocError as exc:
        name = exc.field if exc.field in _FIELDS else "from"
        view.problem = Problem(field=f"f-{name}", label=lab(_FIELDS[name]),
                               message=lab("sd.invalid"), detail=exc.message)
        return view
    if not values["from"]:
        values["from"] = start.strftime("%Y-%m")
    if not values["to"]:
        values["to"] = end.strftime("%Y-%m")
    _fill(view, found, lab)
    _compare(view, orgs, lab, root)
    return view


def _compare(view: ServiceDataView, rows: list[service.OrgRow], lab: Labeller,
             root: str) -> None:
    """The orgs under the one shown, side by side in its last month; each links to its own."""
    view.compared = [service.METRICS[code].label(lab.lang) for code in service.COMPARED]
    for row in rows:
        name = row.org.name_en if lab.lang == "en" and row.org.name_en else row.org.name
        query = urlencode({"org": row.org.code, "from": view.get("from"), "to": view.get("to"),
                           "lang": lab.lang})
        cells = []
        for code in service.COMPARED:
            series = row.series.get(code)
            cells.append(Cell(value=figure(service.METRICS[code],
                                           series.latest.value if series else None, lab),
                              met=series.met() if series else None))
        view.orgs.append(OrgLine(code=row.org.code, name=name,
                                 url=f"{root}/service-data?{query}", cells=cells))


def _fill(view: ServiceDataView, found: Report, lab: Labeller) -> None:
    org = found.org.name_en if lab.lang == "en" and found.org.name_en else found.org.name
    months = [m.strftime("%Y-%m") for m in found.months]
    view.scope = lab("sd.scope", org=f"{org} ({found.org.code})", start=months[0],
                     end=months[-1])
    view.latest = lab("sd.latest", month=months[-1])
    view.wait_over_minutes = found.wait_over_minutes
    charts = []
    for family in FAMILIES:
        section = Section(code=family, title=lab(f"sd.section.{family}"))
        for series in found.series:
            if series.metric.family != family:
                continue
            change, tone = change_text(series, lab)
            section.lines.append(Line(
                metric=series.metric.code, label=series.metric.label(lab.lang),
                group=series.group,
                group_label=lab("sd.group.total") if family == "digital"
                else group_label(series.group, lab),
                value=figure(series.metric, series.latest.value, lab), raw=series.latest.value,
                target=target_text(series, lab), met=series.met(), change=change, tone=tone))
        section.chart = _chart(family, found, months, lab)
        if section.chart is not None:
            charts.append({"id": section.chart.id, "title": section.chart.title,
                           "months": months, "series": section.chart.series,
                           "scale": family == "channel",
                           "target": section.chart.target,
                           "target_name": lab("sd.target_line")})
        view.sections.append(section)
    view.charts_json = json_for_script(charts)


def _chart(family: Family, found: Report, months: list[str], lab: Labeller) -> Chart | None:
    drawn = [s for code in CHARTED[family] for s in found.of(code)]
    if not drawn:
        return None
    digital = family == "digital"
    names = [s.metric.label(lab.lang) if digital else group_label(s.group, lab) for s in drawn]
    lines: list[dict[str, object]] = [
        {"name": name, "values": [None if p.value is None else round(p.value, 2)
                                  for p in s.points]}
        for name, s in zip(names, drawn, strict=True)]
    targets = {s.target for s in drawn}
    rows = [[month] + [figure(s.metric, s.points[i].value, lab) for s in drawn]
            for i, month in enumerate(months)]
    return Chart(id=f"sd-chart-{family}", title=lab(f"sd.chart.{family}"), months=months,
                 series=lines, target=targets.pop() if len(targets) == 1 else None,
                 rows=rows, heads=names)


