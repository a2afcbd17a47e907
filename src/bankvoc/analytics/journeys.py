"""Customer journeys: where along the way to and through a product complaints arise, and which
pain points (a journey stage and a nature of complaint) hurt most.

`journeys.yaml` (bank-editable, versioned) lists the stages in journey order — enquiry 咨询,
account opening 开户, transaction 交易, loan application 贷款申请, repayment 还款, card use
用卡, purchase 产品购买, after-sales 售后服务, closing 销户 — and puts each (product,
category) pair of the taxonomy at a stage; a pair not listed falls to its category's default
stage, an unknown category or an unclassified case to `default_stage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bankvoc.analytics.periods import Period, parse_period
from bankvoc.analytics.rollup import utc_bounds
from bankvoc.analytics.service import resolve_org
from bankvoc.cases.enums import CaseKind, Severity
from bankvoc.cases.models import Case
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import Problem, YamlFileError, parse_yaml, problems_found, read_yaml
from bankvoc.nlp.taxonomy import Taxonomy, load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.surveys.models import Callback

DEFAULT_PATH = "journeys.yaml"
SEVERE = (Severity.important.value, Severity.urgent.value, Severity.major.value)
UNCLASSIFIED = ""


class JourneysError(YamlFileError):
    """A journeys file refused; `problems` holds every problem found, in the file's order."""

    code = "journeys_invalid"
    default_field = "journeys"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Stage(_Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Pair(_Model):
    product: str = Field(min_length=1)
    category: str = Field(min_length=1)
    stage: str = Field(min_length=1)


class Weights(_Model):
    volume: float = Field(default=1.0, ge=0)
    severity: float = Field(default=1.0, ge=0)
    dissatisfaction: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if self.volume + self.severity + self.dissatisfaction <= 0:
            raise ValueError("at least one weight must be above 0")
        return self


class Ranking(_Model):
    kinds: list[str] = Field(default=[CaseKind.complaint.value,
                                      CaseKind.complaint_intent.value], min_length=1)
    min_cases: int = Field(default=5, ge=1)
    dissatisfied_csat_at_most: int = Field(default=2, ge=1, le=4)
    negative_sentiment_below: float = Field(default=-0.2, ge=-1, le=1)
    weights: Weights = Weights()


class Journeys(_Model):
    """`journeys.yaml`, checked against the taxonomy in force."""

    version: str = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    default_stage: str
    category_defaults: dict[str, str] = {}
    pairs: list[Pair] = []
    ranking: Ranking = Ranking()

    @model_validator(mode="after")
    def _consistent(self) -> Journeys:
        problems = list(self._problems(load_taxonomy()))
        if problems:
            raise problems_found(problems)
        return self

    def _problems(self, taxonomy: Taxonomy) -> Iterator[Problem]:
        codes: set[str] = set()
        for i, stage in enumerate(self.stages):
            if stage.code in codes:
                yield Problem(("stages", i, "code"), f"{stage.code!r} is listed twice")
            codes.add(stage.code)
        if self.default_stage not in codes:
            yield Problem(("default_stage",), f"{self.default_stage!r} is not a stage above")
        products = {p.code for p in taxonomy.products}
        categories = {c.code for c in taxonomy.categories}
        for category, stage_code in self.category_defaults.items():
            if category not in categories:
                yield Problem(("category_defaults", category),
                              "is not a category of the taxonomy")
            if stage_code not in codes:
                yield Problem(("category_defaults", category), f"{stage_code!r} is not a stage")
        seen: dict[tuple[str, str], int] = {}
        for i, pair in enumerate(self.pairs):
            if pair.product not in products:
                yield Problem(("pairs", i, "product"),
                              f"{pair.product!r} is not a product of the taxonomy")
            if pair.category not in categories:
                yield Problem(("pairs", i, "category"),
                              f"{pair.category!r} is not a category of the taxonomy")
            if pair.stage not in codes:
                yield Problem(("pairs", i, "stage"), f"{pair.stage!r} is not a stage")
            key = (pair.product, pair.category)
            if key in seen:
                yield Problem(("pairs", i), f"the pair is mapped already (pairs[{seen[key]}])")
            seen.setdefault(key, i)
        kinds = {k.code for k in taxonomy.kinds}
        for i, kind in enumerate(self.ranking.kinds):
            if kind not in kinds:
                yield Problem(("ranking", "kinds", i), f"{kind!r} is not a case kind")

    def stage_of(self, product: str | None, category: str | None) -> str:
        for pair in self.pairs:
            if pair.product == product and pair.category == category:
                return pair.stage
        return self.category_defaults.get(category or "", self.default_stage)

    def stage(self, code: str) -> Stage:
        return next(s for s in self.stages if s.code == code)


def parse_journeys(text: str, *, source: str = DEFAULT_PATH) -> Journeys:
    """The journeys in `text`, or a JourneysError naming the line and reason of each problem."""
    return parse_yaml(text, Journeys, source=source, error=JourneysError)


def read_journeys(path: Path) -> Journeys:
    return read_yaml(path, Journeys, error=JourneysError)


def load_journeys(path: Path | None = None) -> Journeys:
    """The journeys in `path`, else the bank's own file (BANKVOC_JOURNEYS_FILE), else the
    shipped one; each parsed once per process."""
    return _load(path or get_settings().journeys_file)


@lru_cache(maxsize=4)
def _load(path: Path | None) -> Journeys:
    if path is not None:
        return read_journeys(path)
    return parse_journeys(resources.files("bankvoc.analytics").joinpath(DEFAULT_PATH)
                          .read_text("utf-8"))


# --- pain points ---------------------------------------------------------------------------------

@dataclass
class PainPoint:
    stage: str
    stage_label: str
    category: str
    category_label: str
    cases: int = 0
    severe: int = 0
    with_sentiment: int = 0
    negative: int = 0
    callbacks: int = 0  # answered with a CSAT
    dissatisfied: int = 0  # of those, CSAT at most `dissatisfied_csat_at_most`
    volume_rank: int | None = None
    severity_rank: int | None = None
    dissatisfaction_rank: int | None = None
    score: float | None = None
    rank: int | None = None

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def severity(self) -> float:
        return self.severe / self.cases if self.cases else 0.0

    @property
    def negative_share(self) -> float | None:
        return self._share(self.negative, self.with_sentiment)

    @property
    def low_csat_share(self) -> float | None:
        return self._share(self.dissatisfied, self.callbacks)

    @property
    def dissatisfaction(self) -> float | None:
        """The mean of the low-CSAT share and the negative-sentiment share, of those known."""
        known = [s for s in (self.low_csat_share, self.negative_share) if s is not None]
        return sum(known) / len(known) if known else None

    def as_dict(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)
        return {"rank": self.rank, "stage": self.stage, "stage_label": self.stage_label,
                "category": self.category, "category_label": self.category_label,
                "cases": self.cases, "severe": self.severe, "severity": r(self.severity),
                "callbacks": self.callbacks, "dissatisfied_callbacks": self.dissatisfied,
                "low_csat_share": r(self.low_csat_share), "negative": self.negative,
                "negative_share": r(self.negative_share),
                "dissatisfaction": r(self.dissatisfaction), "volume_rank": self.volume_rank,
                "severity_rank": self.severity_rank,
                "dissatisfaction_rank": self.dissatisfaction_rank, "score": r(self.score)}


@dataclass
class StageTotal:
    stage: str
    label: str
    cases: int


@dataclass
class PainPointReport:
    period: Period
    org: Org
    version: str
    points: list[PainPoint]
    stages: list[StageTotal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.label, "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(), "org": self.org.code,
                "journeys_version": self.version,
                "stages": [{"stage": s.stage, "label": s.label, "cases": s.cases}
                           for s in self.stages],
                "pain_points": [p.as_dict() for p in self.points]}


def pain_points(session: Session, *, actor: Actor, period: str | Period, org: str | None = None,
                lang: str = "zh", journeys: Journeys | None = None) -> PainPointReport:
    """Pain points of an org subtree in a period: the (journey stage, category) pairs of its
    complaints, ranked.

    Counted: cases of the ranking's kinds (complaints and complaint intents by default)
    received in the period at an org of the subtree within the actor's scope, merged
    duplicates left out; the callbacks and sentiment of those cases (a cohort, as the KPIs
    count them). Each pain point has three criteria, the higher the more painful:

    - volume: its cases;
    - severity: the share of them graded important, urgent or major (重要/紧急/重大);
    - dissatisfaction: the mean of the share of answered callbacks with CSAT ≤ 2 and the share
      of cases with negative sentiment (below −0.2), of those of the two it has; none: 0.

    The pain points with at least `min_cases` cases are ranked on each criterion (1 = most
    painful; equal values share the better rank, as in 1, 1, 3), and their combined score is
    the weighted mean of the three ranks (weights in `journeys.yaml`, 1 each by default).
    Ranks, not the values, are combined, because a count and two shares have no common scale;
    a low score is a bad pain point. They are ordered by score, then by volume, then in journey
    order and by category. Smaller ones follow unranked: a share of two cases says little.
    """
    actor.require("kpi.read")
    config = journeys or load_journeys()
    taxonomy = load_taxonomy()
    when = parse_period(period) if isinstance(period, str) else period
    root = resolve_org(session, actor=actor, code=org)
    since, until = utc_bounds(when.start, when.end, get_settings().tz)
    ranking = config.ranking
    within = and_(Case.received_at >= since, Case.received_at < until,
                  Case.merged_into_id.is_(None), Case.kind.in_(ranking.kinds),
                  Case.org_id.in_(select(Org.id).where(Org.path.startswith(root.path,
                                                                           autoescape=True))),
                  org_service.in_scope(actor, Case.org_id))
    points: dict[tuple[str, str], PainPoint] = {}

    def point(product: str | None, category: str | None) -> PainPoint:
        stage = config.stage_of(product, category)
        key = (stage, category or UNCLASSIFIED)
        if key not in points:
            term = taxonomy.category(category) if category else None
            points[key] = PainPoint(
                stage=stage, stage_label=config.stage(stage).label(lang),
                category=key[1], category_label=term.label(lang) if term else (
                    category or ("Unclassified" if lang == "en" else "未分类")))
        return points[key]

    def count_if(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    for row in session.execute(
            select(Case.product, Case.category, func.count().label("cases"),
                   count_if(Case.severity.in_(SEVERE)).label("severe"),
                   func.count(Case.sentiment).label("with_sentiment"),
                   count_if(Case.sentiment < ranking.negative_sentiment_below).label("negative"))
            .where(within).group_by(Case.product, Case.category)):
        target = point(row.product, row.category)
        target.cases += row.cases
        target.severe += row.severe
        target.with_sentiment += row.with_sentiment
        target.negative += row.negative
    for row in session.execute(
            select(Case.product, Case.category, func.count(Callback.csat).label("answered"),
                   count_if(Callback.csat <= ranking.dissatisfied_csat_at_most)
                   .label("dissatisfied"))
            .select_from(Callback).join(Case, Case.id == Callback.case_id)
            .where(within, Callback.status == "done", Callback.csat.is_not(None))
            .group_by(Case.product, Case.category)):
        target = point(row.product, row.category)
        target.callbacks += row.answered
        target.dissatisfied += row.dissatisfied
    ordered = _ranked(list(points.values()), config)
    totals: dict[str, int] = {}
    for p in ordered:
        totals[p.stage] = totals.get(p.stage, 0) + p.cases
    return PainPointReport(
        period=when, org=root, version=config.version, points=ordered,
        stages=[StageTotal(s.code, s.label(lang), totals[s.code])
                for s in config.stages if s.code in totals])


def _competition_ranks(values: list[float]) -> list[int]:
    """1 for the highest value; equal values share the better rank (1, 1, 3)."""
    return [1 + sum(1 for other in values if other > value) for value in values]


def _ranked(points: list[PainPoint], config: Journeys) -> list[PainPoint]:
    weights = config.ranking.weights
    stage_order = {s.code: i for i, s in enumerate(config.stages)}
    ranked = [p for p in points if p.cases >= config.ranking.min_cases]
    volume = _competition_ranks([float(p.cases) for p in ranked])
    severity = _competition_ranks([p.severity for p in ranked])
    unhappy = _competition_ranks([p.dissatisfaction or 0.0 for p in ranked])
    total = weights.volume + weights.severity + weights.dissatisfaction
    for p, v, s, d in zip(ranked, volume, severity, unhappy, strict=True):
        p.volume_rank, p.severity_rank, p.dissatisfaction_rank = v, s, d
        p.score = (weights.volume * v + weights.severity * s + weights.dissatisfaction * d) / total

    def order(p: PainPoint) -> tuple[Any, ...]:
        return (p.score is None, p.score or 0.0, -p.cases, stage_order.get(p.stage, 0),
                p.category)
    result = sorted(points, key=order)
    for position, p in enumerate(result, 1):
        p.rank = position if p.score is not None else None
    return result
