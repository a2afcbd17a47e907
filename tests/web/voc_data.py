"""Data the VOC page tests share: a problem with an improvement action piloted in some
sub-branches, and a panel of complaints around its start that the effect is measured on."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.orm import Session

from bankvoc.analytics.models import OrgMonthStat
from bankvoc.analytics.periods import add_months
from bankvoc.cases.models import Case
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.problems import actions
from bankvoc.problems import service as problems_service
from bankvoc.problems.models import CaseProblem
from bankvoc.problems.schemas import ActionCreate, ProblemCreate

_numbers = itertools.count(1)
MONTHS_BEFORE, MONTHS_AFTER = 8, 4


@dataclass(frozen=True)
class Planted:
    problem_id: int
    action_id: int
    started_on: date


def _plant(org: Org, received_at: datetime) -> Case:
    number = next(_numbers)
    text = "信用卡年费被重复扣收"
    return Case(reference=f"TW{number:014d}", kind="complaint", channel="branch",
                status="closed", severity="general", org_id=org.id, title=text,
                text_masked=text, text_enc="x", category="fee_dispute", product="credit_card",
                text_hash=hashlib.sha256(f"web{number}".encode()).hexdigest(),
                received_at=received_at, created_at=received_at, updated_at=received_at)


def plant_effect(session: Session, *, curator: Actor, owner: str, parent_code: str,
                 pilots: int, comparisons: int, today: date, change: float = -0.4,
                 seed: int = 7, customers: bool = True) -> Planted:
    """`pilots` + `comparisons` sub-branches under `parent_code`, complaints per month around
    each one's level (customers imported), the pilots' level changed by `change` from the
    action's start (MONTHS_AFTER complete months ago); a few cases a month linked to the
    problem. Without `customers` no customer numbers are imported."""
    parent = org_service.get_org_by_code(session, code=parent_code)
    orgs = [org_service.create_org(session, code=f"{parent_code}W{i:02d}",
                                   name=f"试点支行{i}", kind=OrgKind.sub_branch, parent=parent)
            for i in range(pilots + comparisons)]
    problem = problems_service.create_problem(session, actor=curator,
                                              data=ProblemCreate.model_validate({
        "code": "P-CC-FEE-01", "title_zh": "信用卡年费重复扣收",
        "title_en": "Card fee charged twice", "description": "首年免年费的信用卡仍被扣收年费",
        "product": "credit_card", "category": "fee_dispute"}))
    started = add_months(today.replace(day=1), -MONTHS_AFTER)
    action = actions.create_action(session, actor=curator, problem_id=problem.id,
                                   data=ActionCreate.model_validate({
                                       "title": "年费减免标记自动校验", "owner": owner,
                                       "status": "done", "started_on": started,
                                       "cost": "30000", "due_date": started,
                                       "pilot_orgs": [o.code for o in orgs[:pilots]]}))
    rng = np.random.default_rng(seed)
    first = add_months(started, -MONTHS_BEFORE)
    for index, org in enumerate(orgs):
        level = rng.uniform(6, 12)
        for m in range(MONTHS_BEFORE + MONTHS_AFTER):
            month = add_months(first, m)
            pilot_after = index < pilots and month >= started
            expected = level * (1 + change if pilot_after else 1)
            if customers:
                session.add(OrgMonthStat(org_id=org.id, month=month, customers=20_000))
            for n in range(int(rng.poisson(expected))):
                case = _plant(org, datetime(month.year, month.month, 5 + n % 20, 2,
                                            tzinfo=UTC))
                session.add(case)
                if n < 2:
                    session.flush()
                    session.add(CaseProblem(case_id=case.id, problem_id=problem.id,
                                            linked_by=curator.user_id))
    session.flush()
    return Planted(problem.id, action.id, started)
