"""The VOC numbers as the API, the screens and the reports read them: a KPI for a period and an
org subtree, cut and broken down, against the previous period, the year before and its target;
the cases behind any figure; the imported denominators and the targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from bankvoc.analytics import measures, query, rollup
from bankvoc.analytics.freshness import FiguresCache
from bankvoc.analytics.kpis import Kpi, get_kpi
from bankvoc.analytics.models import KpiTarget, KpiTargetChange, OrgMonthStat
from bankvoc.analytics.periods import Period, parse_period
from bankvoc.cases.models import Case
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.customers.models import Customer
from bankvoc.customers.segments import load_segments
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.surveys.models import Callback

HEADLINE = ("complaints", "complaints_per_10k_customers", "on_time_rate", "decision_days",
            "resolution_rate", "reopen_rate", "repeat_rate", "callback_rate", "csat", "nps",
            "first_contact_resolution", "regulator_transfers")


@dataclass
class Figure:
    """A value with what it is made of."""

    value: float | None
    numerator: float
    denominator: float | None


@dataclass
class Group:
    key: str
    label: str
    figure: Figure
    share: float | None  # of the total numerator, for counts


@dataclass
class KpiReport:
    kpi: Kpi
    period: Period
    org: Org
    cut: dict[str, str]
    figure: Figure
    previous: Figure | None
    year_before: Figure | None
    target: float | None
    source: str
    by: str | None = None
    groups: list[Group] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        if self.target is None or self.figure.value is None:
            return None
        if self.kpi.better == "higher":
            return self.figure.value >= self.target
        return self.figure.value <= self.target

    @staticmethod
    def _change(now: Figure, then: Figure | None) -> float | None:
        if then is None or now.value is None or then.value is None:
            return None
        return now.value - then.value

    @property
    def change(self) -> float | None:
        """Period on period, in the KPI's unit (points for a rate)."""
        return self._change(self.figure, self.previous)

    @property
    def year_change(self) -> float | None:
        return self._change(self.figure, self.year_before)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        def fig(f: Figure | None) -> dict[str, Any] | None:
            return None if f is None else {"value": _round(f.value), "numerator": f.numerator,
                                           "denominator": f.denominator}
        return {
            "kpi": self.kpi.code, "label": self.kpi.label(lang),
            "formula": self.kpi.formula(lang), "unit": self.kpi.unit,
            "better": self.kpi.better, "period": self.period.label,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(), "org": self.org.code, "cut": self.cut,
            **fig(self.figure),  # type: ignore[dict-item]
            "previous": fig(self.previous), "change": _round(self.change),
            "year_before": fig(self.year_before), "year_change": _round(self.year_change),
            "target": self.target, "met": self.met, "source": self.source, "by": self.by,
            "groups": [{"key": g.key, "label": g.label, "value": _round(g.figure.value),
                        "numerator": g.figure.numerator, "denominator": g.figure.denominator,
                        "share": _round(g.share)} for g in self.groups],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def resolve_org(session: Session, *, actor: Actor, code: str | None) -> Org:
    """The org a figure is about: the actor's own by default; never one outside their scope."""
    org = (org_service.get_org_by_id(session, org_id=actor.org_id) if code is None
           else org_service.get_org_by_code(session, code=code))
    if not org_service.org_visible(actor, org):
        raise Forbidden(f"org {org.code} is outside your organisation", field="org")
    return org


def kpi_report(session: Session, *, actor: Actor, kpi: str, period: str | Period,
               org: str | None = None, cut: dict[str, str | None] | None = None,
               by: str | None = None, compare: bool = True, lang: str = "zh") -> KpiReport:
    actor.require("kpi.read")
    definition = get_kpi(kpi)
    when = parse_period(period) if isinstance(period, str) else period
    root = resolve_org(session, actor=actor, code=org)
    dims = _clean_cut(cut or {})
    question = query.Cut(org=root, **dims)
    tz = get_settings().tz
    answer = query.answer(session, kpi=definition, period=when, cut=question, by=by, tz=tz)
    figure = Figure(*answer.total.figure(definition))
    previous = year_before = None
    if compare:
        previous = Figure(*query.answer(session, kpi=definition, period=when.previous(),
                                        cut=question, by=None, tz=tz).total.figure(definition))
        year_before = Figure(*query.answer(session, kpi=definition, period=when.year_before(),
                                           cut=question, by=None, tz=tz
                                           ).total.figure(definition))
    report = KpiReport(kpi=definition, period=when, org=root, cut=dims, figure=figure,
                       previous=previous, year_before=year_before,
                       target=target_for(session, kpi=definition.code, org=root,
                                         on=when.start),
                       source=answer.source, by=by)
    if by is not None:
        labels = _labels(session, by, answer.groups, lang)
        counts = definition.denominator is None
        for key, sums in sorted(answer.groups.items(), key=lambda item: str(item[0])):
            group_figure = Figure(*sums.figure(definition))
            share = (group_figure.numerator / figure.numerator
                     if counts and figure.numerator else None)
            report.groups.append(Group(key=str(key), label=labels.get(key, str(key) or "—"),
                                       figure=group_figure, share=share))
    return report


def headline(session: Session, *, actor: Actor, period: str | Period, org: str | None = None,
             codes: Sequence[str] = HEADLINE, lang: str = "zh") -> list[KpiReport]:
    with query.shared_reads(session):
        return [kpi_report(session, actor=actor, kpi=code, period=period, org=org, lang=lang)
                for code in codes]


# The dashboard's headline of an org and period is the same for everyone who may see it until
# the figures change (the roll-up is refreshed once a minute): worked out once per change.
_headlines = FiguresCache()


def clear_figures_cache() -> None:
    _headlines.clear()


def headline_figures(session: Session, *, actor: Actor, period: str, org: str | None = None,
                     lang: str = "zh") -> list[dict[str, Any]]:
    """`headline` as the API gives it (`KpiReport.as_dict`), reused while the figures stay
    the same. The actor's right to read it is checked every time."""
    actor.require("kpi.read")
    when = parse_period(period)
    root = resolve_org(session, actor=actor, code=org)
    key = (root.id, when, lang, str(get_settings().tz))
    return _headlines.get(session, key, lambda: [
        report.as_dict(lang) for report in headline(
            session, actor=actor, period=when, org=root.code, lang=lang)])


def _clean_cut(cut: dict[str, str | None]) -> dict[str, str]:
    unknown = set(cut) - set(measures.DIMENSIONS)
    if unknown:
        raise Invalid(f"cannot cut by {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    return {dim: value.strip() for dim, value in cut.items() if value and value.strip()}


def _labels(session: Session, by: str, keys: Iterable[Any], lang: str) -> dict[Any, str]:
    taxonomy = load_taxonomy()
    labels: dict[Any, str] = {}
    if by == "org":
        for org in session.scalars(select(Org).where(Org.id.in_(list(keys)))):
            labels[org.id] = (org.name_en or org.name) if lang == "en" else org.name
        return labels
    if by == "segment":  # the segment map's names (an older map's code shown as it is)
        segments = load_segments()
        return {key: segments.label(str(key), lang) for key in keys}
    for key in keys:
        term = (taxonomy.product(str(key)) if by == "product"
                else taxonomy.category(str(key)) if by == "category" else None)
        if term is not None:
            labels[key] = term.label(lang)
        elif by == "channel":
            labels[key] = t(f"channel.{key}", lang)
        elif isinstance(key, date):
            labels[key] = key.strftime("%Y-%m") if by == "month" else key.isoformat()
    return labels


# --- targets ---------------------------------------------------------------------------------

def target_for(session: Session, *, kpi: str, org: Org, on: date) -> float | None:
    """The target in force on `on`: the nearest org up the tree that has one, else bank-wide."""
    ancestors = [int(part) for part in org.path.strip("/").split("/") if part]

    def read() -> dict[str, list[Any]]:  # every KPI's at once: a dashboard asks for a dozen
        by_kpi: dict[str, list[Any]] = defaultdict(list)
        for row in session.execute(
                select(KpiTarget.kpi, KpiTarget.org_id, KpiTarget.value)
                .where(KpiTarget.valid_from <= on,
                       or_(KpiTarget.org_id.in_(ancestors), KpiTarget.org_id.is_(None)))
                .order_by(KpiTarget.valid_from)):
            by_kpi[row.kpi].append(row)
        return by_kpi

    rows = query.shared_read(session, ("targets", org.path, on), read).get(kpi, [])
    found: dict[int | None, float] = {row.org_id: row.value for row in rows}  # latest wins
    for org_id in reversed(ancestors):
        if org_id in found:
            return found[org_id]
    return found.get(None)


def set_target(session: Session, *, actor: Actor, kpi: str, value: float,
               valid_from: date, org: str | None = None, note: str = "") -> KpiTarget:
    """Set the target of `kpi` from `valid_from` on (bank-wide, or for `org` and its subtree);
    each setting is kept as a `kpi_target_change` row with the value before and after."""
    actor.require("kpi.manage")
    if len(note) > 500:
        raise Invalid("note: at most 500 characters", field="note")
    definition = get_kpi(kpi)
    if definition.unit == "percent" and not 0 <= value <= 100:
        raise Invalid("value: a rate's target is a percentage between 0 and 100", field="value")
    org_row = None if org is None else resolve_org(session, actor=actor, code=org)
    if org_row is None and actor.org_path.count("/") > 2:
        raise Forbidden("only head office sets bank-wide targets", field="org")
    org_id = org_row.id if org_row else None
    existing = session.scalar(select(KpiTarget).where(
        KpiTarget.kpi == kpi, KpiTarget.valid_from == valid_from,
        KpiTarget.org_id.is_(None) if org_id is None else KpiTarget.org_id == org_id))
    before = None if existing is None else existing.value
    if existing is None:
        existing = KpiTarget(kpi=kpi, org_id=org_id, valid_from=valid_from, value=value,
                             set_by=actor.user_id)
        session.add(existing)
    else:
        existing.value, existing.set_by = value, actor.user_id
    session.add(KpiTargetChange(
        actor_user_id=actor.user_id, actor_username=actor.username, kpi=kpi, org_id=org_id,
        valid_from=valid_from, before_value=before, after_value=value, note=note.strip()))
    session.flush()
    return existing


def target_changes(session: Session, *, actor: Actor, kpi: str | None = None,
                   limit: int = 200) -> list[KpiTargetChange]:
    """The latest settings of targets the actor may see (bank-wide ones and those of orgs in
    their subtree), newest first."""
    actor.require("kpi.read")
    stmt = (select(KpiTargetChange)
            .where(or_(KpiTargetChange.org_id.is_(None),
                       org_service.in_scope(actor, KpiTargetChange.org_id)))
            .order_by(KpiTargetChange.at.desc(), KpiTargetChange.id.desc()).limit(limit))
    if kpi is not None:
        stmt = stmt.where(KpiTargetChange.kpi == kpi)
    return list(session.scalars(stmt))


def targets_in_force(session: Session, *, actor: Actor, on: date) -> list[KpiTarget]:
    """The targets in force on `on` that the actor may see: per KPI, the bank-wide one and one
    per org of their subtree (the latest `valid_from` not after `on`)."""
    actor.require("kpi.read")
    rows = session.scalars(
        select(KpiTarget)
        .where(KpiTarget.valid_from <= on,
               or_(KpiTarget.org_id.is_(None), org_service.in_scope(actor, KpiTarget.org_id)))
        .order_by(KpiTarget.valid_from))
    latest: dict[tuple[str, int | None], KpiTarget] = {}
    for row in rows:
        latest[(row.kpi, row.org_id)] = row
    return list(latest.values())


# --- imported denominators -------------------------------------------------------------------

@dataclass
class StatRow:
    org: str
    month: str
    customers: int | None
    individual_customers: int | None
    outlets: int | None


def import_org_stats(session: Session, *, actor: Actor, rows: Sequence[StatRow],
                     source: str) -> int:
    """Store customers and outlets per org and month (a later import of a month replaces it)."""
    actor.require("kpi.manage")
    orgs = org_service.find_orgs_by_code(session, codes={row.org for row in rows})
    stored = 0
    for number, row in enumerate(rows, start=1):
        org = orgs.get(row.org)
        if org is None:
            raise Invalid(f"row {number}: org: no org has code {row.org!r}", field="org")
        if not org_service.org_visible(actor, org):
            raise Forbidden(f"row {number}: org {row.org} is outside your organisation",
                            field="org")
        month = parse_period(row.month, field="month")
        if month.months != 1 or not month.whole_months:
            raise Invalid(f"row {number}: month: {row.month!r} is not a month (2026-10)",
                          field="month")
        for name in ("customers", "individual_customers", "outlets"):
            value = getattr(row, name)
            if value is not None and value < 0:
                raise Invalid(f"row {number}: {name}: must not be negative", field=name)
        stat = session.get(OrgMonthStat, (org.id, month.start)) or OrgMonthStat(
            org_id=org.id, month=month.start)
        stat.customers, stat.individual_customers, stat.outlets = (
            row.customers, row.individual_customers, row.outlets)
        stat.source = source[:200]
        session.add(stat)
        stored += 1
    session.flush()
    return stored


# --- the roll-up -----------------------------------------------------------------------------

def refresh_rollup(session: Session, *, limit: int = rollup.MARKS_PER_REFRESH
                   ) -> rollup.RefreshReport:
    return rollup.refresh(session, tz=get_settings().tz, limit=limit)


def rebuild_rollup(session: Session, *, start: date, end: date) -> rollup.RefreshReport:
    return rollup.rebuild(session, start=start, end=end, tz=get_settings().tz)


# --- the cases behind a figure ---------------------------------------------------------------

def drill(session: Session, *, actor: Actor, kpi: str, period: str | Period,
          org: str | None = None, cut: dict[str, str | None] | None = None,
          limit: int = 100, after_id: int | None = None) -> list[Case]:
    """The cases a figure counts (its denominator's cases, or for a count its cases), oldest
    first, a page at a time (`after_id`: the last id of the page before)."""
    return list(drill_all(session, actor=actor, kpi=kpi, period=period, org=org, cut=cut,
                          after_id=after_id, limit=limit))


def drill_all(session: Session, *, actor: Actor, kpi: str, period: str | Period,
              org: str | None = None, cut: dict[str, str | None] | None = None,
              after_id: int | None = None, limit: int | None = None) -> Iterator[Case]:
    actor.require("kpi.read")
    definition = get_kpi(kpi)
    when = parse_period(period) if isinstance(period, str) else period
    root = resolve_org(session, actor=actor, code=org)
    since, until = rollup.utc_bounds(when.start, when.end, get_settings().tz)
    statement = (select(Case).where(
        Case.received_at >= since, Case.received_at < until, Case.merged_into_id.is_(None),
        Case.org_id.in_(select(Org.id).where(Org.path.startswith(root.path, autoescape=True))),
        org_service.in_scope(actor, Case.org_id)).order_by(Case.id))
    if definition.kinds != ("*",):
        statement = statement.where(Case.kind.in_(definition.kinds))
    for dim, value in _clean_cut(cut or {}).items():
        if dim == "segment":
            statement = statement.outerjoin(Customer, Customer.id == Case.customer_id)
        statement = statement.where(measures.dimension_value(dim) == value)
    population = _population(definition, session.get_bind().dialect.name)
    if population is not None:
        statement = statement.where(population)
    if after_id is not None:
        statement = statement.where(Case.id > after_id)
    if limit is not None:
        statement = statement.limit(limit)
    yield from session.scalars(statement).unique()


def _population(kpi: Kpi, dialect: str) -> ColumnElement[bool] | None:
    if kpi.drill == "decided":
        return Case.resolved_at.is_not(None)
    if kpi.drill == "answered":
        return exists().where(and_(Callback.case_id == Case.id,
                                   measures.callback_done(dialect)))
    return None

