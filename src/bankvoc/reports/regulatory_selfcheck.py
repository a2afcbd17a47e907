"""The self-check of the dispute-resolution element (投诉处理/纠纷化解) of the regulator's
consumer-protection evaluation (消费者权益保护监管评价, NFRA 2025: seven elements, dispute
resolution weighing at least 25 %; ../shared/reference/regulation.md).

Each item is a figure of the year for an org subtree — volumes and their trend, the regulator's
ratios, on-time decisions, satisfaction, regulator transfers and their on-time handling, repeat
complaints, causes traced at closure and problems fixed (溯源整改, NFRA 2020 No. 3 art. 9) — with
the bank's own line from `selfcheck.yaml` (the regulator's indicator formulas are not
published) and whether it passes or needs attention. KPI items come from the KPI service (one
definition each); the others are counted here over the same population of complaints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bankvoc.analytics import measures
from bankvoc.analytics import service as analytics
from bankvoc.analytics.periods import Period
from bankvoc.analytics.rollup import utc_bounds
from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.cases.models import Case
from bankvoc.core.errors import ConfigurationError
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import FileRefused, Problem, parse_yaml, problems_found, read_yaml
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.problems import service as problems_service
from bankvoc.problems.enums import ProblemStatus
from bankvoc.problems.models import CaseProblem, RootCause
from bankvoc.problems.models import Problem as KnownProblem
from bankvoc.reports.regulatory import PERMISSION, OrgColumn, year_period

DEFAULT_PATH = "selfcheck.yaml"
Status = Literal["pass", "attention", "info", "no_data"]

# The items in the order of the report: code → (Chinese, English, unit), or a KPI's code (its
# names and unit are the registry's).
_OWN_ITEMS: dict[str, tuple[str, str, str]] = {
    "complaints_growth": ("投诉量同比变化", "Complaints, change on the year before", "percent"),
    "regulator_on_time_rate": ("监管转办投诉按时办结率", "Regulator transfers decided on time",
                               "percent"),
    "traced_rate": ("投诉溯源率", "Decided complaints with a traced root cause", "percent"),
    "fixed_rate": ("问题整改率", "Known problems behind the complaints fixed", "percent"),
}
ITEMS = ("complaints", "complaints_growth", "complaints_per_1k_outlets",
         "complaints_per_10m_individuals", "on_time_rate", "resolution_rate", "csat",
         "regulator_transfers", "regulator_on_time_rate", "repeat_rate", "traced_rate",
         "fixed_rate")


class SelfCheckConfigError(FileRefused, ConfigurationError):
    """The self-check lines refused, with the line and reason of each problem."""

    default_field = "selfcheck"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(_Model):
    """The bank's line for an item: at least `min`, or at most `max`, or none (information)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Line:
        if self.min is not None and self.max is not None:
            raise ValueError("give min or max, not both")
        return self

    def passes(self, value: float) -> bool | None:
        if self.min is not None:
            return value >= self.min
        if self.max is not None:
            return value <= self.max
        return None

    @property
    def threshold(self) -> float | None:
        return self.min if self.min is not None else self.max

    @property
    def comparison(self) -> str | None:
        return "min" if self.min is not None else "max" if self.max is not None else None


class SelfCheckConfig(_Model):
    version: str
    items: dict[str, Line] = {}

    @model_validator(mode="after")
    def _known(self) -> SelfCheckConfig:
        unknown = [Problem(("items", code), f"is not a self-check item (known: "
                                            f"{', '.join(ITEMS)})")
                   for code in self.items if code not in ITEMS]
        if unknown:
            raise problems_found(unknown)
        return self

    def line(self, code: str) -> Line:
        return self.items.get(code, Line())


def parse_config(text: str, *, source: str = DEFAULT_PATH) -> SelfCheckConfig:
    return parse_yaml(text, SelfCheckConfig, source=source, error=SelfCheckConfigError)


def load_config(path: Path | None = None) -> SelfCheckConfig:
    """The lines in `path`, else the bank's own file (BANKVOC_SELFCHECK_FILE), else the
    shipped `selfcheck.yaml`; each read once per process."""
    return _load(path or get_settings().selfcheck_file)


@lru_cache(maxsize=4)
def _load(path: Path | None) -> SelfCheckConfig:
    if path is None:
        text = resources.files("bankvoc.reports").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_config(text)
    return read_yaml(path, SelfCheckConfig, error=SelfCheckConfigError)


# --- the items -------------------------------------------------------------------------------

@dataclass
class CheckItem:
    code: str
    zh: str
    en: str
    unit: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    threshold: float | None = None
    comparison: str | None = None  # min | max
    status: Status = "info"
    detail: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "unit": self.unit,
                "value": None if self.value is None else round(self.value, 4),
                "numerator": self.numerator, "denominator": self.denominator,
                "threshold": self.threshold, "comparison": self.comparison,
                "status": self.status, "detail": self.detail}


@dataclass
class SelfCheck:
    year: int
    org: OrgColumn
    config_version: str
    items: list[CheckItem]

    def item(self, code: str) -> CheckItem:
        return next(i for i in self.items if i.code == code)

    @property
    def attention(self) -> list[str]:
        return [i.code for i in self.items if i.status == "attention"]

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "org": self.org.as_dict(),
                "config_version": self.config_version,
                "passed": sum(i.status == "pass" for i in self.items),
                "attention": self.attention, "items": [i.as_dict() for i in self.items]}


def _judged(item: CheckItem, line: Line) -> CheckItem:
    item.threshold, item.comparison = line.threshold, line.comparison
    if item.value is None:
        item.status = "no_data"
        return item
    verdict = line.passes(item.value)
    item.status = "info" if verdict is None else "pass" if verdict else "attention"
    return item


def _kpi_item(report: analytics.KpiReport, code: str | None = None) -> CheckItem:
    kpi = report.kpi
    return CheckItem(code=code or kpi.code, zh=kpi.zh, en=kpi.en, unit=kpi.unit,
                     value=report.figure.value, numerator=report.figure.numerator,
                     denominator=report.figure.denominator,
                     detail={"year_before": (report.year_before.value
                                             if report.year_before else None),
                             "year_change": report.year_change})


def _own(code: str, value: float | None, numerator: float | None = None,
         denominator: float | None = None, **detail: Any) -> CheckItem:
    zh, en, unit = _OWN_ITEMS[code]
    return CheckItem(code=code, zh=zh, en=en, unit=unit, value=value, numerator=numerator,
                     denominator=denominator, detail=detail)


def _rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _complaints_of(actor: Actor, root: Org, when: Period) -> list[ColumnElement[bool]]:
    """The population of the `complaints` KPI: complaints received in the period in the
    subtree and the actor's scope, merged duplicates left out."""
    since, until = utc_bounds(when.start, when.end, get_settings().tz)
    return [Case.kind == CaseKind.complaint.value, Case.merged_into_id.is_(None),
            Case.received_at >= since, Case.received_at < until,
            Case.org_id.in_(select(Org.id).where(Org.path.startswith(root.path,
                                                                      autoescape=True))),
            org_service.in_scope(actor, Case.org_id)]


def _regulator_on_time(session: Session, where: list[ColumnElement[bool]]) -> CheckItem:
    """Transfers (NFRA, PBoC, 12378, or the regulator channel: the `regulator` measure) decided
    by their due date ÷ transfers decided (the `on_time` and `decided` measures)."""
    found = measures.case_measures(session.get_bind().dialect.name)
    transferred = or_(Case.origin.in_(measures.REGULATOR_ORIGINS),
                      Case.channel == Channel.regulator.value)
    row = session.execute(select(found["decided"].label("decided"),
                                 found["on_time"].label("on_time"))
                          .where(*where, transferred)).one()
    decided, on_time = int(row.decided or 0), int(row.on_time or 0)
    return _own("regulator_on_time_rate", _rate(on_time, decided), on_time, decided)


def _traced(session: Session, where: list[ColumnElement[bool]]) -> CheckItem:
    """Complaints whose handling is over (the statuses the problem library asks a root cause
    of) with a root cause recorded ÷ those complaints."""
    row = session.execute(
        select(func.count().label("finished"), func.count(RootCause.id).label("traced"))
        .select_from(Case).outerjoin(RootCause, RootCause.case_id == Case.id)
        .where(*where, Case.status.in_(problems_service.FINISHED))).one()
    finished, traced = int(row.finished or 0), int(row.traced or 0)
    return _own("traced_rate", _rate(traced, finished), traced, finished)


def _fixed(session: Session, where: list[ColumnElement[bool]]) -> CheckItem:
    """Known problems linked to the year's complaints that are fixed ÷ those problems still
    followed (a closed problem — merged or obsolete — is left out)."""
    statuses = {str(status): int(n) for status, n in session.execute(
        select(KnownProblem.status, func.count(func.distinct(KnownProblem.id)))
        .select_from(KnownProblem)
        .join(CaseProblem, CaseProblem.problem_id == KnownProblem.id)
        .join(Case, Case.id == CaseProblem.case_id)
        .where(*where).group_by(KnownProblem.status)).all()}
    followed = sum(n for s, n in statuses.items() if s != ProblemStatus.closed.value)
    fixed = statuses.get(ProblemStatus.fixed.value, 0)
    return _own("fixed_rate", _rate(fixed, followed), fixed, followed,
                problems={s.value: statuses.get(s.value, 0) for s in ProblemStatus})


def self_check(session: Session, *, actor: Actor, year: int | str, org: str | None = None,
               config: SelfCheckConfig | None = None) -> SelfCheck:
    """The year's dispute-resolution self-check of an org subtree, item by item against the
    bank's lines."""
    actor.require(PERMISSION)
    when = year_period(year)
    root = analytics.resolve_org(session, actor=actor, code=org)
    lines = config or load_config()

    def kpi(code: str, period: Period | str = when) -> analytics.KpiReport:
        return analytics.kpi_report(session, actor=actor, kpi=code, period=period,
                                    org=root.code)

    complaints = kpi("complaints")
    volume = _kpi_item(complaints)
    volume.detail["quarters"] = {
        f"{when.start.year}-Q{q}": int(kpi("complaints", f"{when.start.year}-Q{q}")
                                       .figure.numerator) for q in range(1, 5)}
    before = complaints.year_before.numerator if complaints.year_before else None
    growth = _own("complaints_growth",
                  None if not before else 100.0 * (complaints.figure.numerator - before) / before,
                  complaints.figure.numerator, before)
    where = _complaints_of(actor, root, when)
    found = {"complaints": volume, "complaints_growth": growth,
             "regulator_on_time_rate": _regulator_on_time(session, where),
             "traced_rate": _traced(session, where), "fixed_rate": _fixed(session, where)}
    items = []
    for code in ITEMS:
        item = found.get(code) or _kpi_item(kpi(code))
        items.append(_judged(item, lines.line(code)))
    return SelfCheck(year=when.start.year, org=OrgColumn.of(root),
                     config_version=lines.version, items=items)
