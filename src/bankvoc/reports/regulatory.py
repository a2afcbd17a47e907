"""Regulatory statistics: complaints counted by the three dimensions of JR/T 0169-2018 (channel,
business type, cause) and by the business groups of the regulator's quarterly bulletin, per
period and org; and the annual consumer-complaint disclosure (年度消费投诉情况) a bank publishes.

What counts: complaints (投诉, not intents, suggestions or questions) received in the period,
merged duplicates left out, in the org subtree and the actor's scope: the population of the
`complaints` KPI (analytics.kpis), so the statistics and the KPIs give the same totals.

A case is mapped to its JR/T codes and bulletin group by the taxonomy alone (`jrt_codes`,
`bulletin_category`: one definition, editable by the bank); a product, nature or channel the
taxonomy does not know counts as `other` (JR/T 0169-2018 codes "other" 99/9). The cases are
counted in SQL grouped by (product, category, channel, org), a few thousand groups even on ten
million cases, and the groups are mapped in Python.

The regulator's ratios (complaints per 1,000 outlets and per 10 million individual customers,
which the NFRA bulletin publishes; ../shared/reference/regulation.md) and every figure a KPI
defines come from the KPI service (analytics.service.kpi_report), so each has one definition.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics
from bankvoc.analytics.periods import Period, parse_period
from bankvoc.analytics.rollup import utc_bounds
from bankvoc.cases.enums import CaseKind, DecisionType
from bankvoc.cases.models import Case
from bankvoc.core.errors import Invalid
from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.nlp.taxonomy import Entry, Taxonomy, load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

PERMISSION = "kpi.read"
# The tables of the statistics: JR/T 0169-2018's three dimensions, then the bulletin groups.
DIMENSIONS = ("channel", "business", "cause", "bulletin")
DIMENSION_NAMES: dict[str, tuple[str, str]] = {
    "channel": ("投诉业务办理渠道", "Channel"),
    "business": ("投诉业务类别", "Business type"),
    "cause": ("投诉原因", "Cause"),
    "bulletin": ("监管通报业务类别", "Bulletin category"),
}
# The regulator's published ratios, by KPI code (analytics.kpis).
RATIO_KPIS = ("complaints_per_1k_outlets", "complaints_per_10m_individuals")
# What the disclosure says about how complaints were handled, from the KPI registry.
HANDLING_KPIS = ("resolution_rate", "on_time_rate", "decision_days", "callback_rate", "csat",
                 "regulator_transfers")
UNDECIDED, NOT_RECORDED = "undecided", "not_recorded"
_OUTCOME_NAMES = {UNDECIDED: ("尚未办结", "Not yet decided"),
                  NOT_RECORDED: ("未记录处理方式", "Decision type not recorded")}
MIN_YEAR, MAX_YEAR = 2000, 2100


def _pct(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _change_pct(now: float | None, then: float | None) -> float | None:
    if now is None or then is None or not then:
        return None
    return 100.0 * (now - then) / then


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# --- the orgs a statistic is broken down by ------------------------------------------------------

@dataclass(frozen=True)
class OrgColumn:
    """An org a figure is given for: a child of the org asked about, or that org itself (its
    own cases, registered at it rather than below it)."""

    id: int
    code: str
    name: str
    name_en: str | None
    own: bool = False  # the org asked about itself

    @classmethod
    def of(cls, org: Org, *, own: bool = False) -> OrgColumn:
        return cls(id=org.id, code=org.code, name=org.name, name_en=org.name_en, own=own)

    @property
    def en(self) -> str:
        return self.name_en or self.code

    def label(self, lang: str) -> str:
        if lang == "en":
            return f"{self.en} (own)" if self.own else self.en
        return f"{self.name}（本级）" if self.own else self.name

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "name_en": self.name_en, "own": self.own}


def _subtree(session: Session, actor: Actor, root: Org) -> list[Org]:
    return list(session.scalars(
        select(Org).where(Org.path.startswith(root.path, autoescape=True),
                          org_service.in_scope(actor, Org.id)).order_by(Org.code)))


def _column_of(root: Org, orgs: Sequence[Org]) -> dict[int, int]:
    """Each org of the subtree → the child of `root` it lies under (`root` → itself)."""
    mapping = {}
    for org in orgs:
        rest = org.path[len(root.path):].strip("/")
        mapping[org.id] = int(rest.split("/", 1)[0]) if rest else root.id
    return mapping


def _columns(root: Org, orgs: Sequence[Org], counts: Counter[int]) -> list[OrgColumn]:
    """The children of `root` by code, then `root` itself when cases were registered at it (or
    it has no children)."""
    children = [OrgColumn.of(org) for org in orgs if org.parent_id == root.id]
    if counts.get(root.id) or not children:
        children.append(OrgColumn.of(root, own=bool(children)))
    return children


# --- JR/T 0169-2018 statistics -------------------------------------------------------------------

@dataclass(frozen=True)
class _Group:
    product: str | None
    category: str | None
    channel: str | None
    org_id: int
    count: int


def complaint_groups(session: Session, *, actor: Actor, root: Org, period: Period
                     ) -> list[_Group]:
    """Complaints of the period in the subtree, counted per (product, category, channel, org):
    the only read of the case table, indexed by (org_id, received_at)."""
    since, until = utc_bounds(period.start, period.end, get_settings().tz)
    subtree = select(Org.id).where(Org.path.startswith(root.path, autoescape=True))
    statement = (
        select(Case.product, Case.category, Case.channel, Case.org_id,
               func.count().label("n"))
        .where(Case.kind == CaseKind.complaint.value, Case.merged_into_id.is_(None),
               Case.received_at >= since, Case.received_at < until,
               Case.org_id.in_(subtree), org_service.in_scope(actor, Case.org_id))
        .group_by(Case.product, Case.category, Case.channel, Case.org_id))
    return [_Group(product=row.product, category=row.category, channel=row.channel,
                   org_id=int(row.org_id), count=int(row.n))
            for row in session.execute(statement)]


@dataclass
class DimensionRow:
    """One code of a dimension: its count per org column, its total and share of all."""

    code: str
    zh: str
    en: str
    counts: dict[int, int]
    total: int
    share: float | None  # percent of all complaints

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class DimensionTable:
    dimension: str
    rows: list[DimensionRow]
    totals: dict[int, int]
    total: int

    @property
    def zh(self) -> str:
        return DIMENSION_NAMES[self.dimension][0]

    @property
    def en(self) -> str:
        return DIMENSION_NAMES[self.dimension][1]

    def row(self, code: str) -> DimensionRow:
        return next(r for r in self.rows if r.code == code)


@dataclass
class OrgRow:
    org: OrgColumn
    complaints: int
    per_1k_outlets: float | None
    per_10m_individuals: float | None


@dataclass
class JrtStatistics:
    period: Period
    org: OrgColumn
    standard: str
    taxonomy_version: str
    columns: list[OrgColumn]
    tables: dict[str, DimensionTable]
    orgs: list[OrgRow]
    total: int
    per_1k_outlets: float | None = None
    per_10m_individuals: float | None = None

    def as_dict(self) -> dict[str, Any]:
        codes = {c.id: c.code for c in self.columns}
        return {
            "period": self.period.label, "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(), "org": self.org.as_dict(),
            "standard": self.standard, "taxonomy_version": self.taxonomy_version,
            "complaints": self.total,
            "complaints_per_1k_outlets": _round(self.per_1k_outlets),
            "complaints_per_10m_individuals": _round(self.per_10m_individuals),
            "orgs": [{**row.org.as_dict(), "complaints": row.complaints,
                      "complaints_per_1k_outlets": _round(row.per_1k_outlets),
                      "complaints_per_10m_individuals": _round(row.per_10m_individuals)}
                     for row in self.orgs],
            "dimensions": {
                dim: {"zh": table.zh, "en": table.en, "total": table.total,
                      "by_org": {codes[c]: n for c, n in table.totals.items()},
                      "rows": [{"code": r.code, "zh": r.zh, "en": r.en, "total": r.total,
                                "share": _round(r.share),
                                "by_org": {codes[c]: n for c, n in r.counts.items()}}
                               for r in table.rows]}
                for dim, table in self.tables.items()},
        }


def _entries(taxonomy: Taxonomy, dimension: str) -> list[Entry]:
    if dimension == "bulletin":
        return list(taxonomy.bulletin_categories)
    return list(getattr(taxonomy.standard, dimension))


def _codes(taxonomy: Taxonomy, group: _Group) -> dict[str, str]:
    """A group's code in each table: the taxonomy's mapping, nothing else."""
    jrt = taxonomy.jrt_codes(product=group.product, category=group.category,
                             channel=group.channel)
    return {"channel": jrt.channel, "business": jrt.business, "cause": jrt.cause,
            "bulletin": taxonomy.bulletin_category(group.product).code}


def _tables(taxonomy: Taxonomy, groups: Sequence[_Group], column_of: dict[int, int],
            columns: Sequence[OrgColumn]) -> dict[str, DimensionTable]:
    counts: dict[str, dict[str, Counter[int]]] = {d: defaultdict(Counter) for d in DIMENSIONS}
    for group in groups:
        column = column_of[group.org_id]
        for dimension, code in _codes(taxonomy, group).items():
            counts[dimension][code][column] += group.count
    tables = {}
    for dimension in DIMENSIONS:
        totals: Counter[int] = Counter()
        for by_column in counts[dimension].values():
            totals.update(by_column)
        total = sum(totals.values())
        rows = [DimensionRow(code=entry.code, zh=entry.zh, en=entry.en,
                             counts={c.id: counts[dimension][entry.code][c.id] for c in columns},
                             total=sum(counts[dimension][entry.code].values()),
                             share=_pct(sum(counts[dimension][entry.code].values()), total))
                for entry in _entries(taxonomy, dimension)]
        tables[dimension] = DimensionTable(dimension=dimension, rows=rows,
                                           totals={c.id: totals[c.id] for c in columns},
                                           total=total)
    return tables


def jrt_statistics(session: Session, *, actor: Actor, period: str | Period,
                   org: str | None = None) -> JrtStatistics:
    """Complaints of a period (a quarter as the regulator asks, or any period) in an org
    subtree, by each JR/T 0169-2018 dimension and bulletin group, per child org, with totals
    and the regulator's ratios where the denominators were imported."""
    actor.require(PERMISSION)
    when = parse_period(period) if isinstance(period, str) else period
    root = analytics.resolve_org(session, actor=actor, code=org)
    taxonomy = load_taxonomy()
    orgs = _subtree(session, actor, root)
    column_of = _column_of(root, orgs)
    groups = complaint_groups(session, actor=actor, root=root, period=when)
    per_column: Counter[int] = Counter()
    for group in groups:
        per_column[column_of[group.org_id]] += group.count
    columns = _columns(root, orgs, per_column)
    ratios = {code: analytics.kpi_report(session, actor=actor, kpi=code, period=when,
                                         org=root.code, by="org", compare=False)
              for code in RATIO_KPIS}

    def ratio(code: str, column: OrgColumn) -> float | None:
        found = next((g for g in ratios[code].groups if g.key == str(column.id)), None)
        return None if found is None else found.figure.value

    return JrtStatistics(
        period=when, org=OrgColumn.of(root), standard=taxonomy.standard.id,
        taxonomy_version=taxonomy.version, columns=columns,
        tables=_tables(taxonomy, groups, column_of, columns),
        orgs=[OrgRow(org=c, complaints=per_column[c.id],
                     per_1k_outlets=ratio("complaints_per_1k_outlets", c),
                     per_10m_individuals=ratio("complaints_per_10m_individuals", c))
              for c in columns],
        total=sum(per_column.values()),
        per_1k_outlets=ratios["complaints_per_1k_outlets"].figure.value,
        per_10m_individuals=ratios["complaints_per_10m_individuals"].figure.value)


# --- the annual disclosure -----------------------------------------------------------------------

@dataclass
class KpiFigure:
    """A KPI's figure for the period, with the year before."""

    code: str
    zh: str
    en: str
    unit: str
    value: float | None
    numerator: float
    denominator: float | None
    year_before: float | None
    year_change: float | None  # in the KPI's unit (points for a rate)

    @classmethod
    def of(cls, report: analytics.KpiReport) -> KpiFigure:
        return cls(code=report.kpi.code, zh=report.kpi.zh, en=report.kpi.en,
                   unit=report.kpi.unit, value=report.figure.value,
                   numerator=report.figure.numerator, denominator=report.figure.denominator,
                   year_before=report.year_before.value if report.year_before else None,
                   year_change=report.year_change)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "unit": self.unit,
                "value": _round(self.value), "numerator": self.numerator,
                "denominator": self.denominator, "year_before": _round(self.year_before),
                "year_change": _round(self.year_change)}


@dataclass
class QuarterRow:
    label: str
    complaints: int
    previous: int
    change_pct: float | None  # quarter on quarter
    year_before: int
    year_change_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"quarter": self.label, "complaints": self.complaints, "previous": self.previous,
                "change_pct": _round(self.change_pct, 2), "year_before": self.year_before,
                "year_change_pct": _round(self.year_change_pct, 2)}


@dataclass
class ShareRow:
    code: str
    zh: str
    en: str
    count: int
    share: float | None  # percent
    year_before: int | None = None
    year_change_pct: float | None = None

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "count": self.count,
                "share": _round(self.share, 2), "year_before": self.year_before,
                "year_change_pct": _round(self.year_change_pct, 2)}


@dataclass
class AnnualDisclosure:
    year: int
    org: OrgColumn
    standard: str
    taxonomy_version: str
    total: KpiFigure
    year_change_pct: float | None
    quarters: list[QuarterRow]
    by_business: list[ShareRow]
    by_region: list[ShareRow]
    by_cause: list[ShareRow]
    handling: list[KpiFigure]
    outcomes: list[ShareRow] = field(default_factory=list)

    @property
    def complaints(self) -> int:
        return int(self.total.numerator)

    def handling_figure(self, code: str) -> KpiFigure:
        return next(f for f in self.handling if f.code == code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year, "org": self.org.as_dict(), "standard": self.standard,
            "taxonomy_version": self.taxonomy_version, "complaints": self.complaints,
            "year_before": self.total.year_before,
            "year_change_pct": _round(self.year_change_pct, 2),
            "quarters": [q.as_dict() for q in self.quarters],
            "by_business": [r.as_dict() for r in self.by_business],
            "by_region": [r.as_dict() for r in self.by_region],
            "by_cause": [r.as_dict() for r in self.by_cause],
            "handling": [f.as_dict() for f in self.handling],
            "outcomes": [r.as_dict() for r in self.outcomes],
        }


def year_period(year: int | str, *, field: str = "year") -> Period:
    """A calendar year as a period; anything else is refused naming `field`."""
    text = str(year).strip()
    if not text.isdigit() or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise Invalid(f"{field}: {text!r} is not a year between {MIN_YEAR} and {MAX_YEAR}",
                      field=field)
    return parse_period(text, field=field)


def _dimension_shares(now: DimensionTable, then: DimensionTable) -> list[ShareRow]:
    """A table's rows with a count this year or the year before, largest first."""
    rows = []
    for row in now.rows:
        before = then.row(row.code).total
        if row.total or before:
            rows.append(ShareRow(code=row.code, zh=row.zh, en=row.en, count=row.total,
                                 share=row.share, year_before=before,
                                 year_change_pct=_change_pct(row.total, before)))
    return sorted(rows, key=lambda r: (-r.count, -(r.year_before or 0)))


def _regions(session: Session, *, actor: Actor, root: Org, when: Period) -> list[ShareRow]:
    now = analytics.kpi_report(session, actor=actor, kpi="complaints", period=when,
                               org=root.code, by="org", compare=False)
    then = analytics.kpi_report(session, actor=actor, kpi="complaints",
                                period=when.year_before(), org=root.code, by="org",
                                compare=False)
    before = {g.key: g.figure.numerator for g in then.groups}
    ids = {int(g.key) for g in now.groups} | {int(k) for k in before}
    orgs = {o.id: o for o in session.scalars(select(Org).where(Org.id.in_(ids)))}
    has_children = bool(session.scalar(select(func.count()).select_from(Org)
                                       .where(Org.parent_id == root.id)))
    rows = []
    for key in sorted({g.key for g in now.groups} | set(before)):
        column = OrgColumn.of(orgs[int(key)], own=int(key) == root.id and has_children)
        count = next((int(g.figure.numerator) for g in now.groups if g.key == key), 0)
        previous = int(before.get(key, 0))
        rows.append(ShareRow(code=column.code, zh=column.label("zh"), en=column.label("en"),
                             count=count, share=_pct(count, now.figure.numerator),
                             year_before=previous,
                             year_change_pct=_change_pct(count, previous)))
    return sorted(rows, key=lambda r: (-r.count, r.code))


def _outcomes(session: Session, *, actor: Actor, root: Org, when: Period) -> list[ShareRow]:
    """How the year's complaints were decided (解释说明, 纠正差错, 退款, 赔偿补偿, 不予支持),
    and how many are not yet decided. No KPI defines these: counted here, over the very
    population of the `complaints` KPI."""
    since, until = utc_bounds(when.start, when.end, get_settings().tz)
    subtree = select(Org.id).where(Org.path.startswith(root.path, autoescape=True))
    decided = Case.resolved_at.is_not(None)
    statement = (
        select(decided.label("decided"), Case.decision_type, func.count().label("n"))
        .where(Case.kind == CaseKind.complaint.value, Case.merged_into_id.is_(None),
               Case.received_at >= since, Case.received_at < until,
               Case.org_id.in_(subtree), org_service.in_scope(actor, Case.org_id))
        .group_by(decided, Case.decision_type))
    counts: Counter[str] = Counter()
    for row in session.execute(statement):
        if not row.decided:
            counts[UNDECIDED] += int(row.n)
        elif row.decision_type in {d.value for d in DecisionType}:
            counts[str(row.decision_type)] += int(row.n)
        else:
            counts[NOT_RECORDED] += int(row.n)
    total = sum(counts.values())
    names = {d.value: (t(f"decision.{d.value}", "zh"), t(f"decision.{d.value}", "en"))
             for d in DecisionType} | _OUTCOME_NAMES
    return [ShareRow(code=code, zh=zh, en=en, count=counts[code],
                     share=_pct(counts[code], total))
            for code, (zh, en) in names.items()]


def annual_disclosure(session: Session, *, actor: Actor, year: int | str,
                      org: str | None = None) -> AnnualDisclosure:
    """The annual consumer-complaint disclosure of an org subtree: the year's complaints, their
    quarters (quarter on quarter, year on year), business types, regions, causes, and how they
    were handled (decided and on time, decision days, callbacks, satisfaction, regulator
    transfers, decision types)."""
    actor.require(PERMISSION)
    when = year_period(year)
    root = analytics.resolve_org(session, actor=actor, code=org)
    taxonomy = load_taxonomy()
    total = analytics.kpi_report(session, actor=actor, kpi="complaints", period=when,
                                 org=root.code)
    quarters = []
    for number in range(1, 5):
        report = analytics.kpi_report(session, actor=actor, kpi="complaints",
                                      period=f"{when.start.year}-Q{number}", org=root.code)
        now = int(report.figure.numerator)
        previous = int(report.previous.numerator) if report.previous else 0
        before = int(report.year_before.numerator) if report.year_before else 0
        quarters.append(QuarterRow(label=report.period.label, complaints=now,
                                   previous=previous, change_pct=_change_pct(now, previous),
                                   year_before=before,
                                   year_change_pct=_change_pct(now, before)))
    this_year = jrt_statistics(session, actor=actor, period=when, org=root.code)
    last_year = jrt_statistics(session, actor=actor, period=when.year_before(), org=root.code)
    return AnnualDisclosure(
        year=when.start.year, org=OrgColumn.of(root), standard=taxonomy.standard.id,
        taxonomy_version=taxonomy.version, total=KpiFigure.of(total),
        year_change_pct=_change_pct(total.figure.numerator,
                                    total.year_before.numerator if total.year_before else None),
        quarters=quarters,
        by_business=_dimension_shares(this_year.tables["business"], last_year.tables["business"]),
        by_region=_regions(session, actor=actor, root=root, when=when),
        by_cause=_dimension_shares(this_year.tables["cause"], last_year.tables["cause"]),
        handling=[KpiFigure.of(analytics.kpi_report(session, actor=actor, kpi=code,
                                                    period=when, org=root.code))
                  for code in HANDLING_KPIS],
        outcomes=_outcomes(session, actor=actor, root=root, when=when))
