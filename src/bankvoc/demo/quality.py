"""What the branch-inspection screens need beside the demo's cases: half a year of outlet
inspections and mystery-shopper visits, scored against the shipped checklist, with the
findings of the older ones put right. Idempotent: a database with visits already is left alone.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bankvoc.branches import service as branches
from bankvoc.branches.checklist import Checklist, load_checklist
from bankvoc.branches.enums import FindingStatus, Result, VisitKind
from bankvoc.branches.models import Inspection, InspectionFinding
from bankvoc.branches.schemas import AnswerIn, VisitCreate
from bankvoc.core.db import unit_of_work
from bankvoc.demo import generator
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

MONTHS = 6
# What an inspector writes when an item fails, by step.
REMARKS = {
    "greeting": "客户进门后无人迎候，员工低头忙于其他事务",
    "queue_guidance": "大堂经理未主动询问，客户自行取号等候",
    "identity": "柜员未要求客户出示有效证件即开始办理",
    "handling": "柜员未说明所需材料，客户往返两次",
    "risk_disclosure": "推介理财产品时未提示产品风险",
    "farewell": "业务办结后未提醒客户带好随身物品",
    "environment": "宣传折页过期，投诉电话公示不清晰",
}
# An item fails this often at an outlet (a critical one a sixth as often): some outlets are
# better run than others.
FAIL_RATES = (0.03, 0.06, 0.10, 0.16)
DONE_AFTER_DAYS = 21  # a finding older than this is put right in the demo


def seed_inspections(engine: Engine, *, today: date, seed: int = generator.DEFAULT_SEED) -> int:
    """Record the demo's visits (one a month per outlet, inspections and mystery shoppers in
    turn); returns how many were recorded."""
    with unit_of_work(engine) as session:
        if session.scalar(select(Inspection.id).limit(1)) is not None:
            return 0
        actor = org_service.actor_for(org_service.get_user(session, username=generator.LOADER))
        outlets = branches.outlets(session, actor=actor)
        checklist = load_checklist()
        rng = random.Random(seed)
        now = datetime.combine(today, time(18), tzinfo=UTC)
        recorded = 0
        for outlet in outlets:
            fail_rate = rng.choice(FAIL_RATES)
            for back in range(MONTHS, 0, -1):
                visited = _visit_time(rng, today - timedelta(days=30 * back - 20))
                kind = VisitKind.inspection if back % 2 else VisitKind.mystery_shopper
                branches.record_visit(session, actor=actor, now=now, checklist=checklist,
                                      data=VisitCreate(
                                          org_id=outlet.id, kind=kind, visited_at=visited,
                                          answers=_answers(rng, checklist, fail_rate)))
                recorded += 1
        _put_right_older_findings(session, actor, now)
    return recorded


def _visit_time(rng: random.Random, day: date) -> datetime:
    # Opening hours, Beijing time (UTC+8): 09:00-16:00 local is 01:00-08:00 UTC.
    return datetime.combine(day, time(rng.randint(1, 7), rng.choice((0, 15, 30, 45))),
                            tzinfo=UTC)


def _answers(rng: random.Random, checklist: Checklist, fail_rate: float) -> list[AnswerIn]:
    answers = []
    for step, item in checklist.items():
        if step.code == "environment" and rng.random() < 0.1:
            answers.append(AnswerIn(item_code=item.code, result=Result.na))
        elif rng.random() < (fail_rate / 6 if item.critical else fail_rate):
            answers.append(AnswerIn(item_code=item.code, result=Result.failed,
                                    remark=REMARKS.get(step.code, "")))
        else:
            answers.append(AnswerIn(item_code=item.code, result=Result.passed))
    return answers


def _put_right_older_findings(session: Session, actor: Actor, now: datetime) -> None:
    older = session.execute(
        select(InspectionFinding.id, Inspection.visited_at).join(
            Inspection, Inspection.id == InspectionFinding.inspection_id)
        .where(InspectionFinding.status == FindingStatus.open.value,
               Inspection.visited_at < now - timedelta(days=DONE_AFTER_DAYS))).all()
    for finding_id, visited_at in older:
        branches.close_finding(session, actor=actor, finding_id=finding_id,
                               now=visited_at + timedelta(days=DONE_AFTER_DAYS // 2))
