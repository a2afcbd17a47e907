"""A contact centre's month of calls and two outlets' complaints and visits, each field chosen
so every scorecard figure can be worked out by hand (see the tests' docstrings)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics_service
from bankvoc.branches.models import Inspection
from bankvoc.contact.models import Interaction, QaHit, QaResult
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from tests.analytics.conftest import Bank, at
from tests.conftest import World

_ids = itertools.count(1)


@dataclass
class Centre:
    bank: Bank
    calls: dict[str, Interaction] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        return self.bank.session

    def call(self, name: str, agent: str, team: str, *, org: str = "PBC",
             day: str = "2026-10-10", answered: bool = True, csat: int | None = None,
             case_days: float | None = None, qa: tuple[int, int | None] | None = None,
             hits: tuple[tuple[str, bool], ...] = ()) -> Interaction:
        """A call; `case_days`: it raised a complaint decided that many days after (due in 15);
        `qa`: (machine score, reviewer's score); `hits`: (category, dismissed)."""
        case = None
        if case_days is not None:
            case = self.bank.case(org, day, decided_after_days=case_days)
        call = Interaction(
            source_system="acd", source_id=f"c{next(_ids)}", kind="call", agent=agent,
            team=team, org_id=self.bank.org(org).id, started_at=at(day),
            routed_to_agent=True, answered=answered, abandoned=not answered,
            transferred=False, wait_s=10, talk_s=100, hold_s=0, wrap_s=10, csat=csat,
            case_id=case.id if case else None)
        self.session.add(call)
        self.session.flush()
        if qa is not None:
            result = QaResult(interaction_id=call.id, rules_version=1, machine_score=qa[0],
                              human_score=qa[1], status="done", reasons=[])
            self.session.add(result)
            self.session.flush()
            for seq, (category, dismissed) in enumerate(hits):
                self.session.add(QaHit(result_id=result.id, seq=seq, category=category,
                                       rule=f"{category}_rule", evidence="…",
                                       dismissed=dismissed))
            self.session.flush()
        self.calls[name] = call
        return call

    def visit(self, org: str, day: str, score: float) -> Inspection:
        inspector = org_service.get_user(self.session, username="hq_admin")
        visit = Inspection(org_id=self.bank.org(org).id, kind="inspection", visited_at=at(day),
                           inspector_id=inspector.id, checklist_version="1",
                           checklist_checksum="x", score=score)
        self.session.add(visit)
        self.session.flush()
        return visit


@pytest.fixture
def centre(world: World, session: Session) -> Centre:
    return build_centre(world, session)


@pytest.fixture
def outlets(world: World, session: Session) -> Centre:
    return build_outlets(world, session)


def build_centre(world: World, session: Session) -> Centre:
    """October 2026 at the phone-banking centre PBC (team lead `pbc_lead`):

    | call | agent | team | CSAT | complaint case         | QA (machine, reviewer) |
    | c1   | a1    | T1   | 5    | —                      | 80, 90                 |
    | c2   | a1    | T1   | 3    | —                      | 70, —                  |
    | c3   | a1    | T1   | —    | decided day 3 (due 15) | —                      |
    | c4   | a1    | T1   | 4    | decided day 20 (late)  | 60, —                  |
    | c5   | a2    | T1   | 5    | —                      | 100, —                 |
    | c6   | a2    | T1   | 4    | —                      | 50, 90                 |
    | c7   | a3    | T2   | —    | —                      | —                      |
    QA hits: c1 greeting; c2 greeting and closing; c6 greeting (dismissed) and silence.
    Not counted: a1's unanswered call, a1's call in November, a call at outlet BJ01.
    """
    bank = Bank(world=world, session=session)
    pbc = org_service.get_org_by_code(session, code="PBC")
    org_service.create_user(session, username="pbc_lead", display_name="pbc_lead", org=pbc,
                            roles=["team_lead"])
    bj = org_service.get_org_by_code(session, code="BJ")
    org_service.create_user(session, username="bj_manager", display_name="bj_manager", org=bj,
                            roles=["branch_manager"])
    session.flush()
    c = Centre(bank)
    c.call("c1", "a1", "T1", csat=5, qa=(80, 90), hits=(("greeting", False),))
    c.call("c2", "a1", "T1", csat=3, qa=(70, None),
           hits=(("greeting", False), ("closing", False)))
    c.call("c3", "a1", "T1", case_days=3)
    c.call("c4", "a1", "T1", csat=4, case_days=20, qa=(60, None))
    c.call("c5", "a2", "T1", csat=5, qa=(100, None))
    c.call("c6", "a2", "T1", csat=4, qa=(50, 90),
           hits=(("greeting", True), ("silence", False)))
    c.call("c7", "a3", "T2")
    c.call("x1", "a1", "T1", answered=False, csat=1, qa=(0, None))
    c.call("x2", "a1", "T1", day="2026-11-02", csat=1, qa=(0, None))
    c.call("x3", "b1", "TB", org="BJ01", csat=1, qa=(0, None))
    return c


def build_outlets(world: World, session: Session) -> Centre:
    """October 2026 at the outlets (OrgKind.outlet) BJ01 and SH01:

    BJ01: two complaints by two customers, one decided on time (day 3 of 15), one late (day
    20); a callback with CSAT 5; 200 customers (BJ: 1,000); visits scoring 80 and 90, and one
    of 10 in September (not counted).
    SH01: one visit scoring 70; nothing else.
    """
    bank = Bank(world=world, session=session)
    c = Centre(bank)
    first = bank.case("BJ01", "2026-10-05", customer=bank.customer(), decided_after_days=3)
    bank.case("BJ01", "2026-10-12", customer=bank.customer(), decided_after_days=20)
    bank.callback(first, csat=5)
    analytics_service.import_org_stats(
        session, actor=world.actor("hq_admin"), source="test",
        rows=[analytics_service.StatRow(org, "2026-10", customers, None, None)
              for org, customers in (("BJ", 1000), ("BJ01", 200))])
    c.visit("BJ01", "2026-10-08", 80)
    c.visit("BJ01", "2026-10-20", 90)
    c.visit("BJ01", "2026-09-20", 10)
    c.visit("SH01", "2026-10-09", 70)
    assert OrgKind.outlet == "outlet"
    bank.refresh()
    return c
