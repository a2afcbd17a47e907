"""The monthly Voice-of-Customer report (and its quarterly review) as data: assembled for one
month (or quarter) and one org subtree from the features' services only, then rendered as HTML,
PDF and XLSX by `render_*`.

Where each section comes from:
- headline KPIs with previous-period and year-on-year change, target and met/missed, category
  share, 12-month trends, product, channel and child-org breakdowns: `analytics.service`
  (`kpi_report`, `headline`), so every number is the KPI service's own;
- hot issues with their typical cases (masked texts): the stored alerts (`alerts.service`);
- new and recurring problems, improvement actions and their measured effect (difference in
  differences): `problems.service` and `problems.actions`;
- customers' suggestions: the month's cases of kind `suggestion` (`cases.service.list_cases`),
  the most typical few picked by `alerts.service.pick_typical`, shown by their masked text.

Nothing personal is read: only `text_masked`, references and aggregates; nothing is decrypted.

Scope: the acting user may ask only for an org in their subtree (`analytics.service.resolve_org`
refuses the rest). Sections counted over cases (problems, suggestions) use the actor narrowed
to the report's org (`_narrowed`): never wider than the actor, so a branch report counts only
that branch's cases even when head office produces it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy.orm import Session

from bankvoc.alerts import service as alerts_service
from bankvoc.alerts.enums import AlertKind
from bankvoc.alerts.models import Alert
from bankvoc.analytics import service as analytics
from bankvoc.analytics.kpis import get_kpi
from bankvoc.analytics.periods import Period, add_months, parse_period
from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseKind, CaseStatus
from bankvoc.cases.models import Case
from bankvoc.cases.schemas import CaseFilters
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.i18n import Lang, pick_lang, t
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.problems import actions as problem_actions
from bankvoc.problems import service as problems_service
from bankvoc.problems.enums import ActionStatus
from bankvoc.problems.models import Problem
from bankvoc.reports import labels

log = logging.getLogger(__name__)

Kind = Literal["monthly", "quarterly"]

# What the report shows, at most.
TOP_HOT_ISSUES = 5
TYPICAL_PER_ISSUE = 3
TYPICAL_TEXT_CHARS = 300
TOP_SUGGESTIONS = 5
SUGGESTIONS_SCANNED = 600  # the month's newest suggestions the typical ones are picked from
TOP_PROBLEMS = 10
TOP_ACTIONS = 10
EFFECT_PERMUTATIONS = 499
ALERT_PAGE = 500
ALERT_PAGES = 20
TREND_MONTHS = 12
TREND_KPIS = ("complaints", "on_time_rate", "resolution_rate", "csat", "callback_rate", "nps")
SATISFACTION_KPIS = ("callback_rate", "csat", "nps", "first_contact_resolution")
ORG_KPIS = ("complaints", "complaints_per_10k_customers", "on_time_rate", "csat")
QUARTER_KPIS = ("complaints", "on_time_rate", "decision_days", "resolution_rate", "repeat_rate",
                "callback_rate", "csat", "nps")


# --- the report's data ---------------------------------------------------------------------------

@dataclass
class KpiLine:
    """One KPI of the period, as the KPI service gave it."""

    code: str
    label: str
    unit: str
    better: str
    formula: str
    value: float | None
    numerator: float
    denominator: float | None
    previous: float | None
    change: float | None
    year_before: float | None
    year_change: float | None
    target: float | None
    met: bool | None


@dataclass
class Share:
    """A group of a breakdown: its count (or value) and share of the whole."""

    key: str
    label: str
    value: float | None
    count: float
    share: float | None  # 0..1, for counts
    previous: float | None = None  # the previous period's count, for categories


@dataclass
class Series:
    code: str
    label: str
    unit: str
    points: list[float | None]


@dataclass
class Trends:
    months: list[str]  # YYYY-MM, oldest first
    series: list[Series]


@dataclass
class OrgRow:
    code: str
    name: str
    values: dict[str, float | None]  # KPI code -> value


@dataclass
class TypicalCase:
    reference: str
    text: str  # masked


@dataclass
class HotIssue:
    label: str
    dimension: str
    key: str
    org: str | None  # org code; None: the whole bank
    days: int  # days flagged in the period
    first_day: date
    last_day: date
    observed: int  # cases on the flagged days
    expected: float | None
    ratio: float | None  # the largest ratio of a flagged day
    typical: list[TypicalCase]


@dataclass
class ProblemLine:
    id: int
    code: str
    title: str
    status: str
    cases: int  # linked cases in the report's scope
    reasons: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    name: str
    label: str
    unit: str
    measured: bool
    pilot_before: float | None
    pilot_after: float | None
    did: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    reliable: bool
    notes: list[str]


@dataclass
class ActionLine:
    id: int
    problem: str  # problem code
    title: str
    status: str
    started_on: date | None
    pilots: list[str]
    cost: float
    outcomes: list[Outcome]
    note: str | None  # why no effect is shown


@dataclass
class Section:
    """Whether a section has data; `note` says why not."""

    available: bool = True
    note: str | None = None


@dataclass
class MonthColumn:
    """The quarterly review: one KPI over the three months."""

    code: str
    label: str
    unit: str
    values: list[float | None]


@dataclass
class MonthlyReport:
    kind: Kind
    lang: Lang
    title: str
    period: str  # 2026-10 or 2026-Q3
    start: date
    end: date  # the first day after
    org_code: str
    org_name: str
    org_is_root: bool
    generated_at: datetime
    generated_by: str
    headline: list[KpiLine]
    categories: list[Share]
    trends: Trends
    products: list[Share]
    channels: list[Share]
    orgs: list[OrgRow]
    org_kpis: list[tuple[str, str, str]]  # (code, label, unit) of `orgs`' columns
    hot_issues: list[HotIssue]
    alert_counts: dict[str, int]  # other alert kinds raised in the period
    new_problems: list[ProblemLine]
    recurring_problems: list[ProblemLine]
    problems_section: Section
    actions: list[ActionLine]
    actions_section: Section
    satisfaction: list[KpiLine]
    suggestion_count: int
    suggestions: list[TypicalCase]
    months: list[str]  # the quarter's months (quarterly review only)
    month_columns: list[MonthColumn]

    def kpi(self, code: str) -> KpiLine:
        for line in (*self.headline, *self.satisfaction):
            if line.code == code:
                return line
        raise KeyError(code)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- periods -------------------------------------------------------------------------------------

def report_period(month: str, *, quarterly: bool = False) -> Period:
    """The month `YYYY-MM`; with `quarterly` the three months ending with it (a calendar
    quarter, labelled 2026-Q3, when the month ends one)."""
    found = parse_period(month, field="month")
    if found.months != 1 or not found.whole_months:
        raise Invalid(f"month: {month!r} is not a month (2026-10)", field="month")
    if not quarterly:
        return found
    start = add_months(found.start, -2)
    if found.start.month % 3 == 0:
        return Period(start, found.end, f"{start.year}-Q{found.start.month // 3}")
    return Period(start, found.end, f"{start:%Y-%m}..{found.start:%Y-%m}")


def trend_period(period: Period) -> Period:
    """The twelve months ending with the period's last month."""
    start = add_months(period.end, -TREND_MONTHS)
    last = date.fromordinal(period.end.toordinal() - 1)
    return Period(start, period.end, f"{start.isoformat()}..{last.isoformat()}")


def utc_range(period: Period) -> tuple[datetime, datetime]:
    tz = get_settings().tz
    return (datetime.combine(period.start, time(), tzinfo=tz).astimezone(UTC),
            datetime.combine(period.end, time(), tzinfo=tz).astimezone(UTC))


# --- assembling ----------------------------------------------------------------------------------

def build_report(session: Session, *, actor: Actor, month: str, org: str | None = None,
                 quarterly: bool = False, lang: str = "zh",
                 now: datetime | None = None) -> MonthlyReport:
    """The report of `month` (YYYY-MM; with `quarterly` its quarter) for `org` (a code; the
    actor's own org by default) and its subtree."""
    actor.require("kpi.read")
    language = pick_lang(lang)
    period = report_period(month, quarterly=quarterly)
    root = analytics.resolve_org(session, actor=actor, code=org)
    scoped = _narrowed(actor, root)
    now = now or utcnow()
    kind: Kind = "quarterly" if quarterly else "monthly"

    headline = [_line(r, language) for r in analytics.headline(
        session, actor=actor, period=period, org=root.code, lang=language)]
    satisfaction_codes = [c for c in SATISFACTION_KPIS if c not in analytics.HEADLINE]
    satisfaction = [line for line in headline if line.code in SATISFACTION_KPIS] + [
        _line(analytics.kpi_report(session, actor=actor, kpi=code, period=period,
                                   org=root.code, lang=language), language)
        for code in satisfaction_codes]

    categories = _categories(session, actor, period, root, language)
    products = _shares(session, actor, period, root, "product", language)
    channels = _shares(session, actor, period, root, "channel", language)
    trends = _trends(session, actor, period, root, language)
    orgs, org_kpis = _org_rows(session, actor, period, root, language)
    hot, counts = _hot_issues(session, actor, period, root)
    problems_section, new_problems, recurring = _problems(session, scoped, period, root,
                                                          language)
    actions_section, actions = _actions(session, actor, scoped, period, root, language)
    suggestion_count, suggestions = _suggestions(session, scoped, period, root)
    months: list[str] = []
    columns: list[MonthColumn] = []
    if quarterly:
        months, columns = _quarter_columns(session, actor, period, root, language)
    title = labels.label("title_quarterly" if quarterly else "title", language)
    return MonthlyReport(
        kind=kind, lang=language, title=title, period=period.label, start=period.start,
        end=period.end, org_code=root.code, org_name=_org_name(root, language),
        org_is_root=root.parent_id is None, generated_at=now, generated_by=actor.username,
        headline=headline, categories=categories, trends=trends, products=products,
        channels=channels, orgs=orgs, org_kpis=org_kpis, hot_issues=hot, alert_counts=counts,
        new_problems=new_problems, recurring_problems=recurring,
        problems_section=problems_section, actions=actions, actions_section=actions_section,
        satisfaction=satisfaction, suggestion_count=suggestion_count, suggestions=suggestions,
        months=months, month_columns=columns)


def _narrowed(actor: Actor, org: Org) -> Actor:
    """The actor with their data scope narrowed to `org`'s subtree (which lies in theirs)."""
    if not org_service.org_visible(actor, org):  # resolve_org has refused it already
        raise Invalid("org outside the actor's scope", field="org")
    return dataclasses.replace(actor, org_id=org.id, org_path=org.path)


def _org_name(org: Org, lang: Lang) -> str:
    return (org.name_en or org.name) if lang == "en" else org.name


def _line(report: analytics.KpiReport, lang: Lang) -> KpiLine:
    kpi = report.kpi
    return KpiLine(
        code=kpi.code, label=kpi.label(lang), unit=kpi.unit, better=kpi.better,
        formula=kpi.formula(lang), value=report.figure.value,
        numerator=report.figure.numerator, denominator=report.figure.denominator,
        previous=report.previous.value if report.previous else None, change=report.change,
        year_before=report.year_before.value if report.year_before else None,
        year_change=report.year_change, target=report.target, met=report.met)


def _groups(report: analytics.KpiReport) -> list[Share]:
    return [Share(key=g.key, label=g.label, value=g.figure.value, count=g.figure.numerator,
                  share=g.share) for g in report.groups]


def _categories(session: Session, actor: Actor, period: Period, root: Org,
                lang: Lang) -> list[Share]:
    """The share of each category in the org's complaints, largest first, with the previous
    period's count beside it."""
    now = analytics.kpi_report(session, actor=actor, kpi="complaints", period=period,
                               org=root.code, by="category", compare=False, lang=lang)
    before = analytics.kpi_report(session, actor=actor, kpi="complaints",
                                  period=period.previous(), org=root.code, by="category",
                                  compare=False, lang=lang)
    previous = {g.key: g.figure.numerator for g in before.groups}
    shares = _groups(now)
    for share in shares:
        share.previous = previous.get(share.key, 0.0)
    return sorted(shares, key=lambda s: (-s.count, s.key))


def _shares(session: Session, actor: Actor, period: Period, root: Org, by: str,
            lang: Lang) -> list[Share]:
    found = analytics.kpi_report(session, actor=actor, kpi="complaints", period=period,
                                 org=root.code, by=by, compare=False, lang=lang)
    return sorted(_groups(found), key=lambda s: (-s.count, s.key))


def _month_keys(period: Period) -> list[str]:
    return [m.strftime("%Y-%m") for m in period.month_starts()]


def _by_month(session: Session, actor: Actor, code: str, period: Period, root: Org,
              lang: Lang, months: list[str]) -> tuple[analytics.KpiReport, list[float | None]]:
    """A KPI month by month over `period`: a count is 0 in a month without cases, a rate
    has no value."""
    found = analytics.kpi_report(session, actor=actor, kpi=code, period=period, org=root.code,
                                 by="month", compare=False, lang=lang)
    by_month = {g.key[:7]: g.figure.value for g in found.groups}
    empty = 0.0 if found.kpi.denominator is None else None
    return found, [by_month.get(m, empty) for m in months]


def _trends(session: Session, actor: Actor, period: Period, root: Org, lang: Lang) -> Trends:
    window = trend_period(period)
    months = _month_keys(window)
    series = []
    for code in TREND_KPIS:
        found, values = _by_month(session, actor, code, window, root, lang, months)
        series.append(Series(code=code, label=found.kpi.label(lang), unit=found.kpi.unit,
                             points=values))
    return Trends(months=months, series=series)


def _quarter_columns(session: Session, actor: Actor, period: Period, root: Org,
                     lang: Lang) -> tuple[list[str], list[MonthColumn]]:
    months = _month_keys(period)
    columns = []
    for code in QUARTER_KPIS:
        found, values = _by_month(session, actor, code, period, root, lang, months)
        columns.append(MonthColumn(code=code, label=found.kpi.label(lang), unit=found.kpi.unit,
                                   values=values))
    return months, columns


def _org_rows(session: Session, actor: Actor, period: Period, root: Org,
              lang: Lang) -> tuple[list[OrgRow], list[tuple[str, str, str]]]:
    """The org's children (branches for head office), ranked by complaints, with a few KPIs."""
    children = [o for o in org_service.list_orgs(session, actor=actor)
                if o.parent_id == root.id]
    if not children:
        return [], []
    columns: list[tuple[str, str, str]] = [
        (code, get_kpi(code).label(lang), str(get_kpi(code).unit)) for code in ORG_KPIS]
    values: dict[str, dict[str, float | None]] = defaultdict(dict)
    for code in ORG_KPIS:
        found = analytics.kpi_report(session, actor=actor, kpi=code, period=period,
                                     org=root.code, by="org", compare=False, lang=lang)
        for group in found.groups:
            values[group.key][code] = group.figure.value
    rows = [OrgRow(code=child.code, name=_org_name(child, lang),
                   values={code: values.get(str(child.id), {}).get(
                       code, 0.0 if get_kpi(code).denominator is None else None)
                       for code in ORG_KPIS})
            for child in children]
    rows.sort(key=lambda r: (-(r.values.get("complaints") or 0.0), r.code))
    return rows, columns


# --- hot issues ----------------------------------------------------------------------------------

def _hot_issues(session: Session, actor: Actor, period: Period, root: Org
                ) -> tuple[list[HotIssue], dict[str, int]]:
    """The period's stored alerts of the org's subtree: hot issues merged per series (the same
    category at the same org on several days is one issue), the biggest excess first; the
    other kinds counted."""
    subtree = {o.id: o for o in org_service.list_orgs(session, actor=actor)
               if o.path.startswith(root.path)}
    last_day = date.fromordinal(period.end.toordinal() - 1)
    alerts: list[Alert] = []
    for page in range(ALERT_PAGES):
        batch = alerts_service.list_alerts(session, actor=actor, since=period.start,
                                           until=last_day, limit=ALERT_PAGE,
                                           offset=page * ALERT_PAGE)
        alerts += batch
        if len(batch) < ALERT_PAGE:
            break
    mine = [a for a in alerts if (a.org_id in subtree if a.org_id is not None
                                  else root.parent_id is None)]
    counts = {kind.value: 0 for kind in AlertKind if kind != AlertKind.hot_issue}
    grouped: dict[tuple[str, str, int | None], list[Alert]] = defaultdict(list)
    for alert in mine:
        if alert.kind == AlertKind.hot_issue:
            grouped[(alert.dimension, alert.key, alert.org_id)].append(alert)
        elif alert.kind in counts:
            counts[alert.kind] += 1

    def excess(items: list[Alert]) -> float:
        return float(sum(a.observed - (a.expected or 0.0) for a in items))

    ranked = sorted(grouped.items(), key=lambda item: (-excess(item[1]), item[0][0],
                                                       item[0][1], item[0][2] or 0))
    chosen = ranked[:TOP_HOT_ISSUES]
    latest = [max(items, key=lambda a: (a.day, a.id)) for _, items in chosen]
    texts = alerts_service.typical_cases(session, latest)
    issues = []
    for ((dimension, key, org_id), items), newest in zip(chosen, latest, strict=True):
        expected = [a.expected for a in items if a.expected is not None]
        ratios = [a.ratio for a in items if a.ratio is not None]
        issues.append(HotIssue(
            label=newest.label, dimension=dimension, key=key,
            org=subtree[org_id].code if org_id is not None else None,
            days=len({a.day for a in items}), first_day=min(a.day for a in items),
            last_day=max(a.day for a in items), observed=sum(a.observed for a in items),
            expected=round(sum(expected), 1) if expected else None,
            ratio=round(max(ratios), 2) if ratios else None,
            typical=[TypicalCase(texts[c][0], texts[c][1][:TYPICAL_TEXT_CHARS])
                     for c in newest.case_ids[:TYPICAL_PER_ISSUE] if c in texts]))
    return issues, counts


# --- problems and improvement actions ------------------------------------------------------------

def _all_problems(session: Session, actor: Actor) -> list[Problem]:
    found: list[Problem] = []
    while True:
        page, total = problems_service.list_problems(session, actor=actor, limit=200,
                                                     offset=len(found))
        found += page
        if not page or len(found) >= total:
            return found


def _problem_line(problem: Problem, cases: int, lang: Lang,
                  reasons: list[str] | None = None) -> ProblemLine:
    title = (problem.title_en or problem.title_zh) if lang == "en" else problem.title_zh
    return ProblemLine(id=problem.id, code=problem.code, title=title,
                       status=t(f"problem_status.{problem.status}", lang), cases=cases,
                       reasons=reasons or [])


def _problems(session: Session, scoped: Actor, period: Period, root: Org, lang: Lang
              ) -> tuple[Section, list[ProblemLine], list[ProblemLine]]:
    """New problems (entered in the library in the period; for an org below head office only
    those with cases in its subtree) and recurring ones (cases after the fix, or a rising last
    month), counted over the org's cases."""
    try:
        problems = _all_problems(session, scoped)
        counts = problems_service.linked_counts(session, actor=scoped, problems=problems)
        since, until = utc_range(period)
        new = [p for p in problems if since <= ensure_aware(p.created_at) < until
               and (root.parent_id is None or counts.get(p.id, 0) > 0)]
        new.sort(key=lambda p: (-counts.get(p.id, 0), p.code))
        recurring = problems_service.recurring(session, actor=scoped, now=until, months=6)
    except BankvocError as exc:
        return Section(False, exc.message), [], []
    recurring_lines = [_problem_line(r.problem, counts.get(r.problem.id, 0), lang, r.reasons)
                       for r in recurring]
    recurring_lines.sort(key=lambda p: (-p.cases, p.code))
    section = Section(bool(problems))
    if not problems:
        section.note = labels.label("no_data", lang)
    return (section, [_problem_line(p, counts.get(p.id, 0), lang) for p in new[:TOP_PROBLEMS]],
            recurring_lines[:TOP_PROBLEMS])


def _actions(session: Session, actor: Actor, scoped: Actor, period: Period, root: Org,
             lang: Lang) -> tuple[Section, list[ActionLine]]:
    """Improvement actions under way or done that concern the org (for head office all; for
    an org below it those piloted in its subtree or whose problem has cases there), with their
    effect measured up to the end of the period. The effect compares the pilots with
    comparable orgs in the actor's whole scope."""
    try:
        problems = _all_problems(session, scoped)
        counts = problems_service.linked_counts(session, actor=scoped, problems=problems)
        candidates = []
        for problem in problems:
            for action in problem_actions.list_actions(session, actor=actor,
                                                       problem_id=problem.id):
                if action.status == ActionStatus.cancelled:
                    continue
                pilots = problem_actions.pilot_orgs(session, action_id=action.id)
                concerned = (root.parent_id is None or counts.get(problem.id, 0) > 0
                             or any(o.path.startswith(root.path) for o in pilots))
                if concerned:
                    candidates.append((problem, action, pilots))
    except BankvocError as exc:
        return Section(False, exc.message), []
    candidates.sort(key=lambda c: (c[1].started_on is None,
                                   -(c[1].started_on or date.min).toordinal(), c[1].id))
    _, until = utc_range(period)
    lines = []
    for problem, action, pilots in candidates[:TOP_ACTIONS]:
        outcomes: list[Outcome] = []
        note = None
        if action.started_on is None or action.started_on >= period.end:
            note = "not started" if lang == "en" else "尚未启动"
        else:
            try:
                effect = problem_actions.measure_effect(
                    session, actor=actor, action_id=action.id, now=until,
                    permutations=EFFECT_PERMUTATIONS)
                outcomes = [Outcome(
                    name=o.name, label=t(f"report_outcome.{o.name}", lang), unit=o.unit,
                    measured=o.measured, pilot_before=o.pilot_before,
                    pilot_after=o.pilot_after, did=o.did, ci_low=o.ci_low, ci_high=o.ci_high,
                    p_value=o.p_value, reliable=o.reliable, notes=list(o.notes))
                    for o in effect.outcomes]
            except (BankvocError, ValueError) as exc:
                note = exc.message if isinstance(exc, BankvocError) else str(exc)
        lines.append(ActionLine(
            id=action.id, problem=problem.code, title=action.title,
            status=t(f"action_status.{action.status}", lang), started_on=action.started_on,
            pilots=[o.code for o in pilots], cost=float(action.cost), outcomes=outcomes,
            note=note))
    section = Section(bool(lines))
    if not lines:
        section.note = labels.label("no_data", lang)
    return section, lines


# --- customers' suggestions ----------------------------------------------------------------------

def _suggestions(session: Session, scoped: Actor, period: Period, root: Org
                 ) -> tuple[int, list[TypicalCase]]:
    """How many suggestions the org's customers made in the period, and the most typical few
    (closest to what they say together), by masked text."""
    since, until = utc_range(period)
    filters = CaseFilters(kind=CaseKind.suggestion, org=root.code, received_from=since,
                          received_to=until)
    total = cases_service.count_cases(session, actor=scoped, filters=filters,
                                      exclude_statuses=(CaseStatus.merged,))
    found: list[Case] = []
    cursor: str | None = None
    while len(found) < SUGGESTIONS_SCANNED:  # the newest few hundred are enough to choose from
        page, cursor = cases_service.list_cases(session, actor=scoped, filters=filters,
                                                cursor=cursor, limit=cases_service.MAX_PAGE)
        found += [c for c in page if c.status != CaseStatus.merged]
        if cursor is None:
            break
    found = found[:SUGGESTIONS_SCANNED]
    chosen = alerts_service.pick_typical([c.text_masked for c in found],
                                         [c.severity for c in found], TOP_SUGGESTIONS)
    return total, [TypicalCase(found[i].reference, found[i].text_masked[:TYPICAL_TEXT_CHARS])
                   for i in chosen]


# --- who gets a report ---------------------------------------------------------------------------

def report_orgs(session: Session, *, actor: Actor) -> list[Org]:
    """The orgs that get their own report, as the actor sees them: the head office (the root
    of the tree) and every branch (分行), by code; a branch user's scope yields their branch."""
    actor.require("kpi.read")
    visible = org_service.list_orgs(session, actor=actor)
    roots = [o for o in visible if o.parent_id is None]
    branches = sorted((o for o in visible if o.kind == OrgKind.branch), key=lambda o: o.code)
    return roots + branches
