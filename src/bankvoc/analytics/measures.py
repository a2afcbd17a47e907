"""The measures every KPI is made of, as SQL over the case table, written once and used both to
build the roll-up and to answer from the cases when the roll-up cannot.

A case counts in the period it was received (a cohort): its decision, callback and answers
count there too, so a month's on-time rate is that of the complaints received that month, and
it settles as they are decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, exists, func, literal, literal_column, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from bankvoc.cases.enums import CaseKind
from bankvoc.cases.models import Case
from bankvoc.customers.models import Customer
from bankvoc.sla.enums import Origin
from bankvoc.surveys.models import Callback, SurveyResponse

# A repeat complaint: the same customer complained within this many days before.
REPEAT_WINDOW_DAYS = 30
# First-contact resolution from cases: decided within a day, never transferred or reopened.
FIRST_CONTACT_HOURS = 24
REGULATOR_ORIGINS = (Origin.nfra.value, Origin.pboc.value, Origin.hotline_12378.value)
COMPLAINT_KINDS = (CaseKind.complaint.value, CaseKind.complaint_intent.value)
SATISFIED_CSAT = 4  # 4 and 5 of 1-5
PROMOTER_NPS, DETRACTOR_NPS = 9, 6

# The cuts a roll-up row can carry, by the expression of their value over a case (and its
# customer, joined when the segment is asked for).
DIMENSIONS = ("channel", "product", "category", "segment")
UNSET = ""  # a case with no product (yet), a customer with no segment


def dimension_value(dim: str) -> ColumnElement[str]:
    if dim == "all":
        return literal(UNSET)
    if dim == "segment":
        return func.coalesce(Customer.segment, UNSET)
    if dim not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dim!r}")
    column: ColumnElement[str] = getattr(Case, dim)
    return func.coalesce(column, literal(UNSET))


def _days_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return cast(func.julianday(later) - func.julianday(earlier), Float)


def _before(dialect: str, moment: ColumnElement[Any], days: int) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return moment - func.make_interval(0, 0, 0, days)
    return func.datetime(moment, f"-{days} days")


def callback_done(dialect: str) -> ColumnElement[bool]:
    """`callback.status = 'done'`, marked as true of most callbacks on SQLite: without table
    statistics its planner takes the status index for a selective one and scans every done
    callback once per case (minutes on 50,000 cases) instead of looking each case's up."""
    done = Callback.status == "done"
    return func.likelihood(done, literal_column("0.9")) if dialect == "sqlite" else done


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(_flag(condition)), 0)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def case_facts(dialect: str) -> dict[str, ColumnElement[Any]]:
    """Per-case values whose sums are the case measures: 0/1 flags, and the days to decision
    (0 when undecided). The one definition of what each measure counts."""
    decided = Case.resolved_at.is_not(None)
    earlier = aliased(Case)
    repeat = and_(
        Case.customer_id.is_not(None),
        exists().where(earlier.customer_id == Case.customer_id, earlier.id != Case.id,
                       earlier.kind.in_(COMPLAINT_KINDS),
                       earlier.received_at <= Case.received_at,
                       earlier.received_at >= _before(dialect, Case.received_at.expression,
                                                      REPEAT_WINDOW_DAYS)))
    called_back = exists().where(Callback.case_id == Case.id, callback_done(dialect))
    days = _days_between(dialect, Case.resolved_at, Case.received_at)
    first_contact = and_(decided, Case.transfer_count == 0, Case.reopen_count == 0,
                         days <= FIRST_CONTACT_HOURS / 24)
    return {
        "decided": _flag(decided),
        "decision_days": case((decided, days), else_=0.0),
        "on_time": _flag(and_(decided, Case.due_at.is_not(None),
                              Case.resolved_at <= Case.due_at)),
        "reopened": _flag(Case.reopen_count > 0),
        "repeats": _flag(repeat),
        "escalated": _flag(Case.escalation_level > 0),
        "regulator": _flag(or_(Case.origin.in_(REGULATOR_ORIGINS), Case.channel == "regulator")),
        "first_contact": _flag(first_contact),
        "called_back": _flag(called_back),
    }


def sum_facts(columns: Mapping[str, Any], customer: Any) -> dict[str, ColumnElement[Any]]:
    """The case measures as aggregates over per-case fact columns (see `case_facts`)."""
    return {"cases": func.count(), "complainants": func.count(func.distinct(customer)),
            **{name: func.coalesce(func.sum(column), 0) for name, column in columns.items()}}


def case_measures(dialect: str) -> dict[str, ColumnElement[Any]]:
    """Aggregate expressions over `Case` rows (GROUP BY whatever the caller cuts by)."""
    return sum_facts(case_facts(dialect), Case.customer_id)


def answer_measures(csat: Any, nps: Any) -> dict[str, ColumnElement[Any]]:
    return {
        "csat_answers": func.count(csat),
        "csat_sum": func.coalesce(func.sum(csat), 0),
        "csat_satisfied": _count_if(csat >= SATISFIED_CSAT),
        "nps_answers": func.count(nps),
        "promoters": _count_if(nps >= PROMOTER_NPS),
        "detractors": _count_if(nps <= DETRACTOR_NPS),
    }


def callback_measures() -> dict[str, ColumnElement[Any]]:
    """Aggregate expressions over done `Callback` rows joined to their case."""
    return answer_measures(Callback.csat, Callback.nps)


def survey_measures() -> dict[str, ColumnElement[Any]]:
    """Aggregate expressions over stand-alone `SurveyResponse` rows (roll-up kind `survey`)."""
    return {"cases": func.count(), **answer_measures(SurveyResponse.csat, SurveyResponse.nps)}


CASE_MEASURES = ("cases", "complainants", "decided", "decision_days", "on_time", "reopened",
                 "repeats", "escalated", "regulator", "first_contact", "called_back")
ANSWER_MEASURES = ("csat_answers", "csat_sum", "csat_satisfied", "nps_answers", "promoters",
                   "detractors")
ALL_MEASURES = CASE_MEASURES + ANSWER_MEASURES


def local_period(column: Any, by: str, tz: ZoneInfo, dialect: str) -> Any:
    """The local day (or month) of a UTC timestamp, in SQL. SQLite has no time zones: there it
    shifts by the zone's offset now, right for the banks' zone (Asia/Shanghai keeps no summer
    time); a zone with summer time would group the hour around each change in the wrong day."""
    if dialect == "postgresql":
        local = func.timezone(str(tz), column)  # timestamptz → the wall time there
        return func.date_trunc(by, local)
    offset = datetime.now(tz).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    day = func.date(column, f"{hours:+d} hours")
    return day if by == "day" else func.date(day, "start of month")
