"""The VOC dashboard (客户之声看板): headline KPIs against their targets, the category and trend
charts with their drill-down, open hot-issue alerts and the cases at risk of breaching.

Every figure comes from `analytics.service` (one KPI registry; org scoping there), alerts from
`alerts.service`, cases from `cases.service`. The figures are in the HTML as well as in the
charts' JSON: the page is whole without JavaScript, and `static/dashboard.js` only draws them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bankvoc.alerts import service as alerts_service
from bankvoc.alerts.enums import AlertStatus
from bankvoc.analytics import export as analytics_export
from bankvoc.analytics import service as analytics
from bankvoc.analytics.kpis import REGISTRY
from bankvoc.analytics.periods import Period, add_months, parse_period
from bankvoc.cases import service as cases_service
from bankvoc.cases.schemas import CaseFilters
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from bankvoc.web.present import CaseRow, Choice, Countdown, Labeller, Problem, case_row

PERIOD_KINDS = ("month", "quarter", "range")
QUARTER_CHOICES = 8  # the quarter picker offers the current quarter and the seven before
TREND_MONTHS = 12
AT_RISK_HOURS = 48  # "at risk": the decision is due within this many hours, or overdue
AT_RISK_SHOWN = 15
AT_RISK_SCAN = 200  # open cases read (the cases service's page size) to pick the nearest
ALERTS_SHOWN = 10
DRILL_PAGE = 50
CUT_FIELDS = ("category", "product", "channel", "segment")
SHARE_KPI = "complaints"
TREND_KPIS = ("complaints", "on_time_rate")
NOTE_MAX = alerts_service.MAX_NOTE


# --- the period and org asked for ---------------------------------------------------------------

def last_complete_month(today: date) -> str:
    return add_months(today.replace(day=1), -1).strftime("%Y-%m")


def current_quarter(today: date) -> tuple[int, int]:
    return today.year, (today.month - 1) // 3 + 1


def quarter_choices(today: date, count: int = QUARTER_CHOICES) -> list[str]:
    year, quarter = current_quarter(today)
    found = []
    for _ in range(count):
        found.append(f"{year}-Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return found


@dataclass(frozen=True)
class PeriodForm:
    """The period picker as typed: its kind and the fields of each kind; `org` an org code."""

    kind: str
    month: str
    quarter: str
    start: str
    end: str
    org: str

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, today: date) -> PeriodForm:
        """From the picker's own fields, or from `period=` (the form of every link the
        dashboard makes); the last complete month when neither says anything."""
        def get(name: str) -> str:
            return str(params.get(name, "")).strip()

        period, kind = get("period"), get("kind")
        month = quarter = start = end = ""
        if not kind and period:
            if ".." in period:
                kind, (start, _, end) = "range", period.partition("..")
            elif "-q" in period.lower():
                kind, quarter = "quarter", period.upper()
            else:
                kind, month = "month", period
        elif kind:
            month, quarter, start, end = get("month"), get("quarter"), get("from"), get("to")
        else:
            kind = "month"
        if kind == "month" and not month:
            month = last_complete_month(today)
        if kind == "quarter" and not quarter:
            quarter = quarter_choices(today)[1]
        return cls(kind=kind, month=month, quarter=quarter, start=start, end=end,
                   org=get("org"))

    @property
    def period(self) -> str:
        """The period as the analytics service reads it."""
        if self.kind == "quarter":
            return self.quarter
        if self.kind == "range":
            return f"{self.start}..{self.end}"
        return self.month

    def query(self, **extra: str) -> dict[str, str]:
        query = {"period": self.period}
        if self.org:
            query["org"] = self.org
        return {**query, **{k: v for k, v in extra.items() if v}}


def check_period(form: PeriodForm) -> Period:
    """The service's period, or `Invalid` naming the picker's field."""
    field_name = {"month": "month", "quarter": "quarter", "range": "from"}.get(form.kind)
    if field_name is None:
        raise Invalid(f"kind: {form.kind!r} is not month, quarter or range", field="kind")
    if form.kind == "range" and not (form.start and form.end):
        raise Invalid("a range needs both its first and its last day",
                      field="from" if not form.start else "to")
    try:
        return parse_period(form.period, field=field_name)
    except Invalid as exc:
        raise Invalid(exc.message, field=field_name) from None


def _problem(exc: BankvocError, lab: Labeller) -> Problem:
    name = exc.field or "month"
    message = lab("dash.org_invalid") if name == "org" else lab("dash.period_invalid")
    return Problem(field=name, label=lab(f"dash.field_{name}"), message=message,
                   detail=exc.message)


def org_choices(session: Session, actor: Actor, lab: Labeller) -> list[Choice]:
    """The orgs of the actor's subtree, in tree order, indented by depth."""
    orgs = org_service.list_orgs(session, actor=actor)
    top = min((o.path.count("/") for o in orgs), default=0)
    return [Choice(o.code, "\u3000" * (o.path.count("/") - top)
                   + ((o.name_en or o.name) if lab.lang == "en" else o.name) + f" ({o.code})")
            for o in orgs]


# --- the headline cards ------------------------------------------------------------------------

UNIT_SUFFIX = {"percent": "%"}


def number(value: float | None, unit: str, lab: Labeller) -> str:
    """A KPI value as it reads on a card: counts whole, rates with one decimal."""
    if value is None:
        return "—"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "days":
        return lab("dash.days", n=f"{value:.1f}")
    return f"{value:,.2f}" if unit.startswith("per_") else f"{value:.1f}"


def change_text(change: float | None, unit: str, lab: Labeller) -> str:
    if change is None:
        return lab("dash.no_comparison")
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    size = abs(change)
    if unit == "percent":
        return lab("dash.points", n=f"{sign}{size:.1f}")
    if unit == "count":
        return f"{sign}{size:,.0f}"
    if unit == "days":
        return lab("dash.days", n=f"{sign}{size:.1f}")
    return f"{sign}{size:,.2f}"


@dataclass(frozen=True)
class Change:
    """A change against an earlier period: its words, its arrow and whether it is good news."""

    text: str
    arrow: str  # up | down | flat | none
    tone: str  # good | bad | flat | none
    said: str  # the direction in words, for screen readers

    @property
    def symbol(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▬"}.get(self.arrow, "")


def change(value: float | None, unit: str, better: str, lab: Labeller) -> Change:
    text = change_text(value, unit, lab)
    if value is None:
        return Change(text, "none", "none", "")
    if abs(value) < 1e-9:
        return Change(text, "flat", "flat", lab("dash.flat"))
    up = value > 0
    good = up == (better == "higher")
    return Change(text, "up" if up else "down", "good" if good else "bad",
                  lab("dash.up") if up else lab("dash.down"))


@dataclass(frozen=True)
class KpiCard:
    code: str
    label: str
    formula: str
    value: str
    raw: float | None
    unit: str
    unit_label: str
    previous: Change
    year: Change
    target: str
    met: bool | None
    detail: str
    url: str


def _target_text(report: analytics.KpiReport, lab: Labeller) -> str:
    if report.target is None:
        return lab("dash.no_target")
    sign = "≥" if report.kpi.better == "higher" else "≤"
    return lab("dash.target", sign=sign, value=number(report.target, report.kpi.unit, lab))


def _detail(report: analytics.KpiReport, lab: Labeller) -> str:
    figure = report.figure
    if report.kpi.denominator is None:
        return ""
    if figure.value is None:
        return lab("dash.no_denominator") if report.kpi.needs_stat and not figure.denominator \
            else lab("dash.nothing_counted")
    return lab("dash.of", numerator=f"{figure.numerator:,.0f}",
               denominator=f"{figure.denominator or 0:,.0f}")


def kpi_card(report: analytics.KpiReport, lab: Labeller, url: str) -> KpiCard:
    unit, better = report.kpi.unit, report.kpi.better
    return KpiCard(
        code=report.kpi.code, label=report.kpi.label(lab.lang),
        formula=report.kpi.formula(lab.lang), value=number(report.figure.value, unit, lab),
        raw=report.figure.value, unit=unit, unit_label=lab(f"dash.unit_{unit}"),
        previous=change(report.change, unit, better, lab),
        year=change(report.year_change, unit, better, lab), target=_target_text(report, lab),
        met=report.met, detail=_detail(report, lab), url=url)


# --- the charts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShareRow:
    key: str
    label: str
    count: int
    share: str
    url: str | None  # None: no drill-down (cases with no category yet)


@dataclass(frozen=True)
class TrendRow:
    month: str
    complaints: int
    complaints_url: str
    on_time: str
    on_time_raw: float | None
    on_time_url: str


def trend_period(period: Period) -> Period:
    """The 12 months that end with the last month of `period`."""
    last = (period.end - timedelta(days=1)).replace(day=1)
    first = add_months(last, -(TREND_MONTHS - 1))
    return Period(first, add_months(last, 1), f"{first:%Y-%m}..{last:%Y-%m}")


def _month_key(key: str) -> str:
    return key[:7]


# --- alerts and cases at risk ------------------------------------------------------------------

@dataclass(frozen=True)
class AlertView:
    id: int
    kind: str
    kind_code: str
    label: str
    day: str
    observed: int
    expected: str
    ratio: str
    p_value: str
    words: str
    reasons: list[str]
    typical: list[tuple[str, str]]  # (reference, masked text)


def _alert_view(read: dict[str, Any], lab: Labeller) -> AlertView:
    expected, ratio, p = read["expected"], read["ratio"], read["p_value"]
    return AlertView(
        id=read["id"], kind=lab.enum("alert_kind", read["kind"]), kind_code=read["kind"],
        label=read["label"], day=read["day"].isoformat(), observed=read["observed"],
        expected="—" if expected is None else f"{expected:.1f}",
        ratio="—" if ratio is None else f"{ratio:.1f}×",
        p_value="—" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}"),
        words="、".join(read["words"][:8]), reasons=list(read["reasons"])[:3],
        typical=[(c["reference"], c["text"][:120]) for c in read["typical_cases"][:3]])


@dataclass(frozen=True)
class RiskRow:
    reference: str
    org: str
    title: str
    assignee: str
    countdown: Countdown


# --- the page ----------------------------------------------------------------------------------

@dataclass
class Dashboard:
    form: PeriodForm
    orgs: list[Choice]
    quarters: list[str]
    period_label: str = ""
    org_label: str = ""
    cards: list[KpiCard] = field(default_factory=list)
    shares: list[ShareRow] = field(default_factory=list)
    share_total: int = 0
    trend: list[TrendRow] = field(default_factory=list)
    alerts: list[AlertView] = field(default_factory=list)
    can_acknowledge: bool = False
    at_risk: list[RiskRow] = field(default_factory=list)
    at_risk_more: bool = False
    at_risk_url: str = ""
    overdue_url: str = ""
    at_risk_hours: int = AT_RISK_HOURS
    problem: Problem | None = None
    acknowledged: str = ""
    charts_json: str = "{}"

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _url(path: str, query: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _period_label(period: Period, form: PeriodForm, lab: Labeller) -> str:
    last = period.end - timedelta(days=1)
    return lab("dash.period_span", start=period.start.isoformat(), end=last.isoformat())


def dashboard(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
              root: str = "", now: datetime | None = None) -> Dashboard:
    """The dashboard for the period and org asked for (last complete month, the viewer's own
    org by default); a bad period or org is a problem next to the picker, not an error page."""
    now = now or utcnow()
    today = ensure_aware(now).astimezone(lab.tz).date()
    form = PeriodForm.from_query(params, today=today)
    view = Dashboard(form=form, orgs=org_choices(session, actor, lab),
                     quarters=quarter_choices(today))
    ack = str(params.get("acknowledged", "")).strip()
    view.acknowledged = ack if ack.isdigit() else ""
    try:
        period = check_period(form)
        org = analytics.resolve_org(session, actor=actor, code=form.org or None)
    except BankvocError as exc:
        if exc.field not in ("month", "quarter", "from", "to", "kind", "org"):
            raise
        view.problem = _problem(exc, lab)
        return view
    view.period_label = _period_label(period, form, lab)
    view.org_label = f"{(org.name_en or org.name) if lab.lang == 'en' else org.name} ({org.code})"
    drill = f"{root}/dashboard/cases"
    reports = analytics.headline(session, actor=actor, period=period, org=org.code,
                                 lang=lab.lang)
    view.cards = [kpi_card(r, lab, _url(drill, form.query(kpi=r.kpi.code))) for r in reports]
    _shares(session, view, actor=actor, period=period, org=org.code, lab=lab, drill=drill)
    _trend(session, view, actor=actor, period=period, org=org.code, lab=lab, drill=drill)
    _alerts(session, view, actor=actor, lab=lab)
    _at_risk(session, view, actor=actor, org=org.code, lab=lab, now=now, root=root)
    view.charts_json = _charts_json(view, lab)
    return view


def _shares(session: Session, view: Dashboard, *, actor: Actor, period: Period, org: str,
            lab: Labeller, drill: str) -> None:
    report = analytics.kpi_report(session, actor=actor, kpi=SHARE_KPI, period=period, org=org,
                                  by="category", compare=False, lang=lab.lang)
    groups = sorted(report.groups, key=lambda g: (-g.figure.numerator, g.key))
    view.share_total = int(report.figure.numerator)
    view.shares = [ShareRow(
        key=g.key, label=g.label if g.key else lab("dash.uncategorised"),
        count=int(g.figure.numerator), share="—" if g.share is None else f"{g.share:.1%}",
        url=_url(drill, view.form.query(kpi=SHARE_KPI, category=g.key)) if g.key else None)
        for g in groups if g.figure.numerator]


def _trend(session: Session, view: Dashboard, *, actor: Actor, period: Period, org: str,
           lab: Labeller, drill: str) -> None:
    months = trend_period(period)
    series: dict[str, dict[str, float | None]] = {}
    for code in TREND_KPIS:
        report = analytics.kpi_report(session, actor=actor, kpi=code, period=months, org=org,
                                      by="month", compare=False, lang=lab.lang)
        series[code] = {_month_key(g.key): g.figure.value for g in report.groups}
    for start in months.month_starts():
        key = f"{start:%Y-%m}"
        count = series["complaints"].get(key)
        rate = series["on_time_rate"].get(key)
        month_query = {**view.form.query(), "period": key}
        view.trend.append(TrendRow(
            month=key, complaints=int(count or 0),
            complaints_url=_url(drill, {**month_query, "kpi": "complaints"}),
            on_time=number(rate, "percent", lab), on_time_raw=rate,
            on_time_url=_url(drill, {**month_query, "kpi": "on_time_rate"})))


def _alerts(session: Session, view: Dashboard, *, actor: Actor, lab: Labeller) -> None:
    alerts = alerts_service.list_alerts(session, actor=actor, status=AlertStatus.open.value,
                                        limit=ALERTS_SHOWN)
    cases = alerts_service.typical_cases(session, alerts)
    view.alerts = [_alert_view(alerts_service.to_read(a, cases), lab) for a in alerts]
    view.can_acknowledge = actor.can("case.manage")


def _at_risk(session: Session, view: Dashboard, *, actor: Actor, org: str, lab: Labeller,
             now: datetime, root: str) -> None:
    """Open cases of the org's subtree whose decision is due within AT_RISK_HOURS or overdue,
    the nearest deadline first."""
    horizon = now + timedelta(hours=AT_RISK_HOURS)
    cases, more = cases_service.list_cases(
        session, actor=actor, filters=CaseFilters(org=org, due_before=horizon),
        limit=AT_RISK_SCAN)
    reads = sorted((cases_service.to_read(c) for c in cases),
                   key=lambda r: (ensure_aware(r.due_at) if r.due_at else horizon, r.reference))
    rows: list[CaseRow] = [case_row(r, lab, now) for r in reads[:AT_RISK_SHOWN]]
    view.at_risk = [RiskRow(reference=r.reference, org=r.org, title=r.title,
                            assignee=r.assignee, countdown=r.countdown) for r in rows]
    view.at_risk_more = len(reads) > AT_RISK_SHOWN or more is not None
    view.at_risk_url = _url(f"{root}/cases", {"org": org, "due": "soon"})
    view.overdue_url = _url(f"{root}/cases", {"org": org, "due": "overdue"})


def _charts_json(view: Dashboard, lab: Labeller) -> str:
    """What dashboard.js draws: the same figures the tables show, with their drill links."""
    data = {
        "share": {
            "title": lab("dash.share_title"), "total": view.share_total,
            "items": [{"name": s.label, "value": s.count, "url": s.url} for s in view.shares],
        },
        "trend": {
            "title": lab("dash.trend_title"),
            "months": [t.month for t in view.trend],
            "complaints": {"name": REGISTRY["complaints"].label(lab.lang),
                           "values": [t.complaints for t in view.trend],
                           "urls": [t.complaints_url for t in view.trend]},
            "on_time": {"name": REGISTRY["on_time_rate"].label(lab.lang),
                        "values": [None if t.on_time_raw is None else round(t.on_time_raw, 1)
                                   for t in view.trend],
                        "urls": [t.on_time_url for t in view.trend]},
            "count_axis": lab("dash.unit_count"), "rate_axis": "%",
        },
    }
    return json_for_script(data)


def json_for_script(data: Any) -> str:
    """JSON safe inside a `<script type="application/json">` block (no `</script>`)."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


# --- acknowledging an alert --------------------------------------------------------------------

def acknowledge(session: Session, *, actor: Actor, alert_id: int, note: str) -> None:
    """Acknowledge through the alerts service (scoped there: another org's alert is a 404)."""
    alerts_service.acknowledge(session, actor=actor, alert_id=alert_id, note=note[:NOTE_MAX])


def back_query(raw: str) -> str:
    """The dashboard query an acknowledgement returns to, limited to the picker's fields."""
    kept = [(k, v) for k, v in parse_qsl(raw) if k in ("period", "org")]
    return urlencode(kept)


# --- the cases behind a figure -----------------------------------------------------------------

@dataclass
class DrillView:
    kpi: str
    kpi_label: str
    formula: str
    period: str
    org: str
    cut: list[tuple[str, str]]
    figure: str = ""
    counted: str = ""
    rows: list[CaseRow] = field(default_factory=list)
    next_url: str | None = None
    first_url: str = ""
    is_first_page: bool = True
    csv_url: str = ""
    xlsx_url: str = ""
    back_url: str = ""
    problem: Problem | None = None

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def drill_query(params: Mapping[str, str]) -> dict[str, str]:
    """kpi, period, org and the cut of a drill-down link, as given (empty ones left out)."""
    names = ("kpi", "period", "org", *CUT_FIELDS)
    return {n: str(params.get(n, "")).strip() for n in names if str(params.get(n, "")).strip()}


def drill_cut(query: Mapping[str, str]) -> dict[str, str | None]:
    return {name: query.get(name) or None for name in CUT_FIELDS}


def _cut_label(name: str, value: str, lab: Labeller) -> str:
    if name in ("product", "category"):
        return lab.term(name, value)
    if name == "channel":
        return lab.enum("channel", value)
    return value


def drill_page(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
               root: str = "", now: datetime | None = None) -> DrillView:
    """A page of the cases behind one figure (masked), oldest first, `after` paging, with the
    figure itself and the CSV/XLSX export of all of them."""
    now = now or utcnow()
    query = drill_query(params)
    kpi = query.get("kpi", "complaints")
    definition = REGISTRY.get(kpi)
    period = query.get("period") or last_complete_month(
        ensure_aware(now).astimezone(lab.tz).date())
    query = {**query, "kpi": kpi, "period": period}
    view = DrillView(
        kpi=kpi, kpi_label=definition.label(lab.lang) if definition else kpi,
        formula=definition.formula(lab.lang) if definition else "", period=period,
        org=query.get("org", ""),
        cut=[(lab(f"field.{n}"), _cut_label(n, query[n], lab)) for n in CUT_FIELDS
             if n in query])
    path = f"{root}/dashboard/cases"
    view.first_url = _url(path, query)
    view.back_url = _url(f"{root}/dashboard",
                         {k: v for k, v in query.items() if k in ("period", "org")})
    view.csv_url = _url(f"{root}/dashboard/cases.csv", {**query, "lang": lab.lang})
    view.xlsx_url = _url(f"{root}/dashboard/cases.xlsx", {**query, "lang": lab.lang})
    after = str(params.get("after", "")).strip()
    try:
        after_id = int(after) if after else None
        if after_id is not None and after_id < 0:
            raise ValueError(after)
    except ValueError:
        view.problem = Problem(field=None, label="", message=lab("dash.bad_page"))
        return view
    view.is_first_page = after_id is None
    try:
        report = analytics.kpi_report(session, actor=actor, kpi=kpi, period=period,
                                      org=query.get("org"), cut=drill_cut(query),
                                      compare=False, lang=lab.lang)
        cases = analytics.drill(session, actor=actor, kpi=kpi, period=period,
                                org=query.get("org"), cut=drill_cut(query),
                                limit=DRILL_PAGE + 1, after_id=after_id)
    except BankvocError as exc:
        if exc.status not in (404, 422):
            raise
        view.problem = Problem(field=None, label="", message=lab("dash.drill_invalid"),
                               detail=exc.message)
        return view
    view.kpi_label = report.kpi.label(lab.lang)
    view.period = report.period.label
    view.org = report.org.code
    view.figure = number(report.figure.value, report.kpi.unit, lab)
    view.counted = lab(f"dash.drill_counts_{report.kpi.drill}")
    page = cases[:DRILL_PAGE]
    view.rows = [case_row(cases_service.to_read(c), lab, now) for c in page]
    if len(cases) > DRILL_PAGE:
        view.next_url = _url(path, {**query, "after": str(page[-1].id)})
    return view


def export_cases(session: Session, *, actor: Actor, params: Mapping[str, str], fmt: str,
                 lang: str, tz: ZoneInfo) -> tuple[bytes, str]:
    """Every case behind a figure as CSV or XLSX (personal data masked), and a file name."""
    query = drill_query(params)
    kpi, period = query.get("kpi", "complaints"), query.get("period", "")
    if not period:
        raise Invalid("period: give a month, quarter or range", field="period")
    cases = analytics.drill_all(session, actor=actor, kpi=kpi, period=period,
                                org=query.get("org"), cut=drill_cut(query))
    data = analytics_export.export(cases, fmt=fmt, lang=lang, tz=tz, title=kpi)
    return data, f"{kpi}-{period.replace('..', '_')}.{fmt}"


def cards_by_code(cards: Sequence[KpiCard]) -> dict[str, KpiCard]:
    return {c.code: c for c in cards}
