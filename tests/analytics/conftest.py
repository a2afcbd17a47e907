"""Cases written straight into the tables, each field chosen, so every KPI can be worked out by
hand; the roll-up refreshed as the job would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bankvoc.analytics import rollup, service
from bankvoc.cases.models import Case
from bankvoc.customers.models import Customer
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.surveys.models import Callback, SurveyResponse
from tests.conftest import World

_numbers = itertools.count(1)


def at(day: str, hour: int = 10) -> datetime:
    """A Shanghai wall-clock time on `day` (YYYY-MM-DD), as the naive UTC the tables hold."""
    local = datetime.fromisoformat(day).replace(hour=hour)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


@dataclass
class Bank:
    world: World
    session: Session

    def org(self, code: str) -> Org:
        return org_service.get_org_by_code(self.session, code=code)

    def customer(self, segment: str | None = None) -> Customer:
        customer = Customer(segment=segment, flags=[])
        self.session.add(customer)
        self.session.flush()
        return customer

    def case(self, org: str, day: str, *, hour: int = 10, kind: str = "complaint",
             channel: str = "hotline", product: str | None = "credit_card",
             category: str | None = "fee_dispute", customer: Customer | None = None,
             decided_after_days: float | None = None, due_after_days: float | None = 15,
             text_masked: str = "年费多扣", **fields: Any) -> Case:
        received = at(day, hour)
        number = next(_numbers)
        case = Case(
            reference=f"TS{number:010d}", kind=kind, channel=channel,
            status="resolved" if decided_after_days is not None else "accepted",
            severity="general", org_id=self.org(org).id,
            customer_id=customer.id if customer else None, product=product,
            category=category, title="t", text_masked=text_masked, text_enc="x",
            text_hash=f"{number:064d}", received_at=received,
            due_at=received + timedelta(days=due_after_days) if due_after_days else None,
            resolved_at=(received + timedelta(days=decided_after_days)
                         if decided_after_days is not None else None),
            **fields)
        self.session.add(case)
        self.session.flush()
        rollup.mark_new_cases(self.session, [(received, case.org_id)])
        return case

    def callback(self, case: Case, *, csat: int | None, nps: int | None = None,
                 status: str = "done") -> Callback:
        callback = Callback(case_id=case.id, round=0, status=status, reason="policy",
                            csat=csat, nps=nps)
        self.session.add(callback)
        self.session.flush()
        return callback

    def survey(self, org: str, day: str, *, csat: int | None, nps: int | None = None,
               channel: str = "branch") -> SurveyResponse:
        answer = SurveyResponse(source_system="test", source_id=f"s{next(_numbers)}",
                                org_id=self.org(org).id, channel=channel, touchpoint="visit",
                                csat=csat, nps=nps, answered_at=at(day))
        self.session.add(answer)
        self.session.flush()
        return answer

    def refresh(self) -> None:
        self.session.flush()
        service.refresh_rollup(self.session)


@pytest.fixture
def bank(world: World, session: Session) -> Bank:
    return Bank(world=world, session=session)


@pytest.fixture
def october(bank: Bank) -> Bank:
    """Four complaints received in October 2026 (Shanghai time) and their answers:

    | case | org  | day   | customer | decided     | other                         |
    | c1   | BJ   | 10-05 | A        | 3 days      | callback CSAT 5, NPS 10       |
    | c2   | BJ01 | 10-10 | A        | 20 days (late) | reopened; callback 2 and 3 |
    | c3   | SH   | 10-20 | B        | —           | escalated; NFRA transfer      |
    | c4   | SH   | 10-31 23:00 | —  | 12 hours    | first contact                 |
    Beside them: a survey at SH (CSAT 4, NPS 9); a complaint received at 02:00 on 1 November
    (still 31 October in UTC); one in September and one in October 2025; a suggestion.
    """
    a, b = bank.customer("gold"), bank.customer("mass")
    c1 = bank.case("BJ", "2026-10-05", customer=a, decided_after_days=3)
    c2 = bank.case("BJ01", "2026-10-10", channel="branch", customer=a, decided_after_days=20,
                   reopen_count=1)
    bank.case("SH", "2026-10-20", channel="mobile_app", product="mortgage",
              category="service_attitude", customer=b, escalation_level=1, origin="nfra")
    bank.case("SH", "2026-10-31", hour=23, decided_after_days=0.5)
    bank.case("BJ", "2026-11-01", hour=2)
    bank.case("BJ", "2026-09-15")
    bank.case("BJ", "2025-10-03")
    bank.case("BJ", "2026-10-07", kind="suggestion")
    bank.callback(c1, csat=5, nps=10)
    bank.callback(c2, csat=2, nps=3)
    bank.survey("SH", "2026-10-15", csat=4, nps=9)
    service.import_org_stats(bank.session, actor=bank.world.actor("hq_admin"), source="test",
                             rows=[service.StatRow(org, "2026-10", customers, None, outlets)
                                   for org, customers, outlets in (("BJ", 1000, 2),
                                                                   ("BJ01", 500, 1),
                                                                   ("SH", 1500, 1))])
    bank.refresh()
    return bank
