"""The contact-centre dashboard (呼叫中心看板): headline KPIs of a period against their targets
and the period before, one ranked row per team, agent or queue, and the daily trend of service
level and volume.

Every figure comes from `contact.dashboard` (which applies `contact.kpis` to the viewer's org
subtree). The figures are in the HTML (with their raw values in `data-value`, the fractions
`bankvoc contact kpis --json` prints) as well as in the chart's JSON: the page is whole without
JavaScript, and `static/charts.js` only draws the trend. A bad request (a date, the cut, the
sort, an org) comes back as the page with the problem next to its field, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.contact import dashboard as contact_dashboard
from bankvoc.contact.dashboard import Overview
from bankvoc.contact.kpis import SERVICE_LEVEL_S, KpiRow
from bankvoc.contact.targets import KPIS, Target
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from bankvoc.web.dashboard_pages import Change, json_for_script, org_choices
from bankvoc.web.present import Choice, Labeller, Problem

DEFAULT_DAYS = 30
PRESETS = (7, 30, 90)
FIELDS = ("from", "to", "by", "sort", "org")
# The columns of the table, in order; each sorts it, best first.
COLUMNS = ("interactions", "service_level", "connect_rate", "abandonment_rate", "asa_s",
           "aht_s", "transfer_rate", "fcr", "satisfied_rate", "csat")
RATES = frozenset({"service_level", "connect_rate", "abandonment_rate", "transfer_rate", "fcr",
                   "satisfied_rate"})
SECONDS = frozenset({"asa_s", "aht_s", "talk_s"})
DEFAULT_SORT = "service_level"
# Which way ranks first for the columns without a target (the busiest first).
_BETTER = {"interactions": "higher"}


def value_text(kpi: str, value: float | None, lab: Labeller) -> str:
    """A figure as it reads on the page: rates in per cent with one decimal, times in seconds,
    counts whole, the mean rating with two decimals."""
    if value is None:
        return "—"
    if kpi in RATES:
        return f"{value * 100:.1f}%"
    if kpi in SECONDS:
        return lab("cc.seconds", n=f"{value:.1f}")
    if kpi == "interactions":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def raw_value(row: KpiRow, kpi: str) -> float | int | None:
    """The figure as `KpiRow.as_dict` rounds it (what scripts and the tests compare)."""
    value = row.as_dict()[kpi]
    return cast("float | int | None", value)


def _better(kpi: str, targets: Mapping[str, Target]) -> str:
    """Which way is better: the target's direction in force, else the KPI's natural one."""
    target = targets.get(kpi)
    if target is not None:
        return target.better
    return KPIS[kpi][1] if kpi in KPIS else _BETTER.get(kpi, "higher")


def change_of(kpi: str, now: float | None, before: float | None, lab: Labeller,
              targets: Mapping[str, Target]) -> Change:
    """The change against the period before: points for rates, seconds for times; good or bad
    news by the direction of the KPI's target in force."""
    if now is None or before is None:
        return Change(lab("dash.no_comparison"), "none", "none", "")
    delta = now - before
    if kpi in RATES:
        delta *= 100
    size = abs(delta)
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if kpi in RATES:
        text = lab("dash.points", n=f"{sign}{size:.1f}")
    elif kpi in SECONDS:
        text = lab("cc.seconds", n=f"{sign}{size:.1f}")
    elif kpi == "interactions":
        text = f"{sign}{size:,.0f}"
    else:
        text = f"{sign}{size:.2f}"
    if size < 1e-9:
        return Change(text, "flat", "flat", lab("dash.flat"))
    up = delta > 0
    good = up == (_better(kpi, targets) == "higher")
    # More or fewer calls is neither good nor bad news in itself.
    tone = "none" if kpi == "interactions" else "good" if good else "bad"
    return Change(text, "up" if up else "down", tone,
                  lab("dash.up") if up else lab("dash.down"))


def target_text(target: Target | None, lab: Labeller) -> str:
    if target is None:
        return lab("dash.no_target")
    sign = "≥" if target.better == "higher" else "≤"
    return lab("dash.target", sign=sign, value=value_text(target.kpi, target.value, lab))


@dataclass(frozen=True)
class Tile:
    kpi: str
    label: str
    formula: str
    value: str
    raw: float | int | None
    target: str
    met: bool | None
    change: Change
    previous: str
    detail: str = ""


@dataclass(frozen=True)
class Cell:
    kpi: str
    text: str
    raw: float | int | None
    met: bool | None


@dataclass(frozen=True)
class GroupLine:
    rank: int | None
    key: str
    label: str
    cells: list[Cell]
    sub: str = ""  # an agent's user name beside their display name


@dataclass(frozen=True)
class DayLine:
    day: str
    interactions: int
    service_level: str
    service_level_raw: float | None
    abandonment: str


@dataclass(frozen=True)
class Column:
    kpi: str
    label: str
    url: str
    sorted: bool
    ascending: bool = False  # ranked smallest first (lower is better, by the target in force)


@dataclass
class ContactDashboard:
    values: dict[str, str]
    cuts: list[Choice]
    sorts: list[Choice]
    orgs: list[Choice]
    presets: list[tuple[str, str]] = field(default_factory=list)
    problem: Problem | None = None
    scope: str = ""
    period: str = ""
    previous: str = ""
    threshold_s: int = SERVICE_LEVEL_S
    targets_from: str = ""  # which version of the contact-centre targets is in force
    targets_url: str = ""  # its configuration page, for those who may read it
    tiles: list[Tile] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    lines: list[GroupLine] = field(default_factory=list)
    days: list[DayLine] = field(default_factory=list)
    charts_json: str = "{}"

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def invalid(self, name: str) -> bool:
        return self.problem is not None and self.problem.field == name

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _url(path: str, query: Mapping[str, str]) -> str:
    kept = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


def _date(values: Mapping[str, str], name: str) -> date:
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        raise Invalid(f"{values[name]!r} is not a day (YYYY-MM-DD)", field=name) from None


def _label_of(name: str, lab: Labeller) -> str:
    return lab(f"cc.field_{name}")


def dashboard(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
              root: str = "", now: datetime | None = None) -> ContactDashboard:
    """The dashboard of the period, cut and org asked for: by default the 30 days before
    today, by team, the viewer's whole subtree."""
    actor.require("contact.read")
    today = ensure_aware(now or utcnow()).astimezone(lab.tz).date()
    yesterday = today - timedelta(days=1)
    values = {name: str(params.get(name, "")).strip()[:40] for name in FIELDS}
    values["to"] = values["to"] or yesterday.isoformat()
    values["from"] = values["from"] or (yesterday - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    values["by"] = values["by"] or "team"
    values["sort"] = values["sort"] or DEFAULT_SORT
    view = ContactDashboard(
        values=values, orgs=org_choices(session, actor, lab),
        cuts=[Choice(c, lab(f"cc.by_{c}")) for c in contact_dashboard.CUTS],
        sorts=[Choice(c, lab(f"cc.col.{c}")) for c in COLUMNS])
    path = f"{root}/contact"
    for days in PRESETS:
        first = yesterday - timedelta(days=days - 1)
        view.presets.append((lab("cc.last_days", n=days), _url(path, {
            **values, "from": first.isoformat(), "to": yesterday.isoformat()})))
    try:
        start, end = _date(values, "from"), _date(values, "to")
        if values["by"] not in contact_dashboard.CUTS:
            raise Invalid(f"{values['by']!r} is not a cut; use one of "
                          f"{', '.join(contact_dashboard.CUTS)}", field="by")
        if values["sort"] not in COLUMNS:
            raise Invalid(f"{values['sort']!r} is not a column; use one of "
                          f"{', '.join(COLUMNS)}", field="sort")
        org = org_service.get_org_by_id(session, org_id=actor.org_id)
        if values["org"]:
            org = org_service.get_org_by_code(session, code=values["org"])
            if not org_service.org_visible(actor, org):
                raise Invalid(f"org {values['org']!r} is outside your scope", field="org")
        found = contact_dashboard.overview(
            session, actor=actor, start=start, end=end, by=values["by"],
            org_code=values["org"] or None, tz=lab.tz)
    except BankvocError as exc:
        if exc.field not in FIELDS:
            raise
        view.problem = Problem(field=exc.field, label=_label_of(exc.field, lab),
                               message=lab("cc.invalid"), detail=exc.message)
        return view
    name = (org.name_en or org.name) if lab.lang == "en" else org.name
    view.scope = f"{name} ({org.code})"
    names = contact_dashboard.agent_names(
        session, usernames=[r.group for r in found.groups if r.group]) if values["by"] == "agent" \
        else {}
    _fill(view, found, lab, path, names)
    version = (lab("cc.targets_version", n=found.targets_version) if found.targets_version
               else lab("cc.targets_file"))
    view.targets_from = lab("cc.targets_from", version=version)
    if actor.can("config.read"):
        view.targets_url = f"{root}/admin/config/contact_targets"
    return view


def _fill(view: ContactDashboard, found: Overview, lab: Labeller, path: str,
          names: Mapping[str, str]) -> None:
    view.threshold_s = found.service_level_s
    view.period = lab("dash.period_span", start=found.start.isoformat(),
                      end=found.end.isoformat())
    view.previous = lab("cc.previous", start=found.previous_start.isoformat(),
                        end=found.previous_end.isoformat())
    view.tiles = [_tile("interactions", found, lab)]
    view.tiles += [_tile(kpi, found, lab) for kpi in contact_dashboard.HEADLINE]
    view.columns = [Column(kpi=k, label=lab(f"cc.col.{k}"),
                           url=_url(path, {**view.values, "sort": k}),
                           sorted=view.get("sort") == k,
                           ascending=_better(k, found.targets) == "lower") for k in COLUMNS]
    view.lines = _ranked(found, view.get("sort"), view.get("by"), lab, names)
    view.days = [DayLine(
        day=day.isoformat(), interactions=row.interactions,
        service_level=value_text("service_level", row.service_level, lab),
        service_level_raw=row.service_level,
        abandonment=value_text("abandonment_rate", row.abandonment_rate, lab))
        for day, row in found.days]
    sl_target = found.targets.get("service_level")
    view.charts_json = json_for_script({"contact_trend": {
        "days": [d.day for d in view.days],
        "volume": {"name": lab("cc.volume"), "values": [d.interactions for d in view.days]},
        "service_level": {
            "name": lab("cc.kpi.service_level"),
            "values": [None if d.service_level_raw is None
                       else round(d.service_level_raw * 100, 1) for d in view.days]},
        "target": {"name": lab("cc.target_line"),
                   "value": None if sl_target is None else round(sl_target.value * 100, 1)},
        "count_axis": lab("cc.volume"), "rate_axis": "%",
    }})


def _tile(kpi: str, found: Overview, lab: Labeller) -> Tile:
    now, before = raw_value(found.current, kpi), raw_value(found.previous, kpi)
    target = found.targets.get(kpi)
    detail = ""
    if kpi == "satisfied_rate" and found.current.csat is not None:
        detail = lab("cc.csat_mean", n=f"{found.current.csat:.2f}")
    elif kpi == "service_level":
        detail = lab("cc.threshold", s=found.service_level_s)
    return Tile(
        kpi=kpi, label=lab(f"cc.kpi.{kpi}"), formula=lab(f"cc.formula.{kpi}"),
        value=value_text(kpi, now, lab), raw=now, target=target_text(target, lab),
        met=target.met(now) if target is not None else None,
        change=change_of(kpi, now, before, lab, found.targets),
        previous=lab("cc.was", value=value_text(kpi, before, lab)), detail=detail)


def _ranked(found: Overview, sort: str, by: str, lab: Labeller,
            names: Mapping[str, str]) -> list[GroupLine]:
    """The groups, best first by the sort column (those without a value, and the calls of no
    team or agent, last and unranked)."""
    higher = _better(sort, found.targets) == "higher"

    def key(row: KpiRow) -> tuple[int, float, str]:
        value = raw_value(row, sort)
        if value is None or row.group is None:
            return (1, 0.0, row.group or "")
        return (0, -value if higher else value, row.group)

    lines = []
    rank = 0
    for row in sorted(found.groups, key=key):
        ranked = row.group is not None and raw_value(row, sort) is not None
        rank += 1 if ranked else 0
        cells = []
        targets = found.targets_of(row.group)
        for kpi in COLUMNS:
            raw = raw_value(row, kpi)
            target = targets.get(kpi)
            cells.append(Cell(kpi=kpi, text=value_text(kpi, raw, lab), raw=raw,
                              met=target.met(raw) if target is not None else None))
        group = row.group or ""
        lines.append(GroupLine(rank=rank if ranked else None, key=group,
                               label=names.get(group) or group or lab(f"cc.no_{by}"),
                               cells=cells, sub=group if group in names else ""))
    return lines
