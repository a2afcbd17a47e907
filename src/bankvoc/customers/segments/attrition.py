"""Attrition per segment: of the customers in each segment at the start of a period, how
many left in it, and do those who complained leave more often than the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.analytics.periods import Period, add_months, parse_period
from bankvoc.cases.enums import CaseKind
from bankvoc.cases.models import Case
from bankvoc.core.errors import Forbidden
from bankvoc.core.settings import get_settings
from bankvoc.customers.models import CustomerValue
from bankvoc.customers.segments.config import SegmentMap, load_segments
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

READ_PERMISSION = "kpi.read"
# Complaints that make a customer a complainer, and how far back before the period they count.
COMPLAINT_KINDS = (CaseKind.complaint.value, CaseKind.complaint_intent.value)
COMPLAINT_LOOKBACK_MONTHS = 12


# --- attrition per segment -----------------------------------------------------------------------

@dataclass
class AttritionRow:
    segment: str
    label: str
    customers: int = 0
    attrited: int = 0
    complainers: int = 0
    complainers_attrited: int = 0

    @property
    def others(self) -> int:
        return self.customers - self.complainers

    @property
    def others_attrited(self) -> int:
        return self.attrited - self.complainers_attrited

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 4) if whole else None

    @property
    def rate(self) -> float | None:
        return self._rate(self.attrited, self.customers)

    @property
    def complainers_rate(self) -> float | None:
        return self._rate(self.complainers_attrited, self.complainers)

    @property
    def others_rate(self) -> float | None:
        return self._rate(self.others_attrited, self.others)

    def add(self, *, attrited: bool, complainer: bool) -> None:
        self.customers += 1
        self.attrited += attrited
        self.complainers += complainer
        self.complainers_attrited += attrited and complainer

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "label": self.label, "customers": self.customers,
                "attrited": self.attrited, "rate": self.rate,
                "complainers": self.complainers,
                "complainers_attrited": self.complainers_attrited,
                "complainers_rate": self.complainers_rate, "others": self.others,
                "others_attrited": self.others_attrited, "others_rate": self.others_rate}


@dataclass
class AttritionReport:
    period: Period
    org: Org
    whole_bank: bool
    segments: list[AttritionRow]
    total: AttritionRow

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.label, "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(), "org": self.org.code,
                "whole_bank": self.whole_bank, "unit": "percent",
                "segments": [row.as_dict() for row in self.segments],
                "total": self.total.as_dict()}


def attrition(session: Session, *, actor: Actor, period: str | Period, org: str | None = None,
              lang: str = "zh", segments: SegmentMap | None = None) -> AttritionReport:
    """Attrition per segment: customers who left in the period ÷ customers in the segment at
    its start (rates in percent), for complainers and for the rest.

    - A month's file is the customers as they stood in that month (`as_of`, its first day). The
      customers of a segment at the start of the period are those whose latest month on or
      before the period's first day puts them in it, unless that month says they had already
      left (`attrited_on` before the period).
    - They attrited when any of their months gives an `attrited_on` within the period.
    - A complainer made a complaint (投诉 or 投诉意向; merged duplicates not counted) received
      in the 12 months before the period, or within the period before the day they left (for
      those who stayed: before its end). A complaint after leaving does not count.
    - Orgs: the customer file carries no org, so customers belong to orgs through their cases.
      The whole bank (the root org) counts every customer of the files; an org below it counts
      the customers with a case (any kind, any time) at an org of its subtree — for a branch,
      the customers it has served through a case, not every account holder it has. The org
      must lie within the actor's scope, and the cases that tie a customer to it too.
    """
    actor.require(READ_PERMISSION)
    segments = segments or load_segments()
    when = parse_period(period) if isinstance(period, str) else period
    root = _resolve_org(session, actor=actor, code=org)
    whole_bank = root.parent_id is None
    latest = (select(CustomerValue.customer_id, func.max(CustomerValue.as_of).label("as_of"))
              .where(CustomerValue.as_of <= when.start).group_by(CustomerValue.customer_id)
              .subquery())
    opening = (select(CustomerValue.customer_id, CustomerValue.segment,
                      CustomerValue.attrited_on)
               .join(latest, (latest.c.customer_id == CustomerValue.customer_id)
                     & (latest.c.as_of == CustomerValue.as_of)))
    if not whole_bank:
        served = (select(Case.customer_id).where(
            Case.customer_id.is_not(None),
            Case.org_id.in_(select(Org.id).where(Org.path.startswith(root.path,
                                                                     autoescape=True))),
            org_service.in_scope(actor, Case.org_id)))
        opening = opening.where(CustomerValue.customer_id.in_(served))
    population: dict[int, str] = {}
    for cid, segment, attrited_on in session.execute(opening):
        if attrited_on is None or attrited_on >= when.start:
            population[cid] = segment
    left = _attrition_days(session, when, population)
    complained = _first_complaints(session, when)
    tz = get_settings().tz
    rows: dict[str, AttritionRow] = {}
    total = AttritionRow("*", "All" if lang == "en" else "全部")
    for cid, segment in population.items():
        gone = left.get(cid)
        cutoff = min(gone + timedelta(days=1), when.end) if gone else when.end
        first = complained.get(cid)
        complainer = first is not None and first < _utc_midnight(cutoff, tz)
        row = rows.setdefault(segment, AttritionRow(segment, segments.label(segment, lang)))
        row.add(attrited=gone is not None, complainer=complainer)
        total.add(attrited=gone is not None, complainer=complainer)
    order = {s.code: i for i, s in enumerate(segments.segments)}
    ordered = sorted(rows.values(), key=lambda r: (order.get(r.segment, len(order)), r.segment))
    return AttritionReport(period=when, org=root, whole_bank=whole_bank, segments=ordered,
                           total=total)


def _resolve_org(session: Session, *, actor: Actor, code: str | None) -> Org:
    org = (org_service.get_org_by_id(session, org_id=actor.org_id) if code is None
           else org_service.get_org_by_code(session, code=code))
    if not org_service.org_visible(actor, org):
        raise Forbidden(f"org {org.code} is outside your organisation", field="org")
    return org


def _attrition_days(session: Session, when: Period, population: Mapping[int, str]
                    ) -> dict[int, date]:
    """The first day within the period each customer of the population left on."""
    left: dict[int, date] = {}
    for cid, day in session.execute(
            select(CustomerValue.customer_id, func.min(CustomerValue.attrited_on))
            .where(CustomerValue.attrited_on >= when.start, CustomerValue.attrited_on < when.end)
            .group_by(CustomerValue.customer_id)):
        if cid in population and day is not None:
            left[cid] = day
    return left


def _first_complaints(session: Session, when: Period) -> dict[int, datetime]:
    """Each customer's first complaint received from 12 months before the period to its end."""
    tz = get_settings().tz
    since = _utc_midnight(_months_back(when.start, COMPLAINT_LOOKBACK_MONTHS), tz)
    until = _utc_midnight(when.end, tz)
    statement = (select(Case.customer_id, func.min(Case.received_at))
                 .where(Case.customer_id.is_not(None), Case.kind.in_(COMPLAINT_KINDS),
                        Case.merged_into_id.is_(None), Case.received_at >= since,
                        Case.received_at < until)
                 .group_by(Case.customer_id))
    return {cid: _aware(first) for cid, first in session.execute(statement) if cid is not None}


def _months_back(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has no such day)."""
    first = add_months(day.replace(day=1), -months)
    following = add_months(first, 1)
    return min(first.replace(day=1) + timedelta(days=day.day - 1),
               following - timedelta(days=1))


def _utc_midnight(day: date, tz: Any) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
