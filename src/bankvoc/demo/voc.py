"""What the VOC screens need beside the demo's cases: customers and outlets per org and month
(the regulator's denominators), the bank's KPI targets, a few entries of the problem library
with an improvement action piloted at two branches, the roll-up, and the early warning's scan
of the last week. Each step is idempotent, so loading the demo again changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bankvoc.alerts import service as alerts_service
from bankvoc.analytics import service as analytics_service
from bankvoc.analytics.models import KpiTarget, OrgMonthStat
from bankvoc.analytics.periods import add_months
from bankvoc.cases.models import Case
from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import BankvocError
from bankvoc.demo import generator
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.problems import actions as problem_actions
from bankvoc.problems import service as problems_service
from bankvoc.problems.enums import ActionStatus, CauseCategory
from bankvoc.problems.models import Problem
from bankvoc.problems.schemas import ActionCreate, ProblemCreate

log = logging.getLogger(__name__)

# Customers a demo org serves, by kind (a branch's own counter business; outlets below it).
CUSTOMERS = {OrgKind.head_office: 0, OrgKind.branch: 400_000, OrgKind.sub_branch: 120_000,
             OrgKind.outlet: 60_000, OrgKind.department: 0, OrgKind.centre: 0}
TARGETS = (("csat", 80.0), ("callback_rate", 30.0), ("on_time_rate", 95.0),
           ("complaints_per_10k_customers", 1.5), ("repeat_rate", 10.0))
PROBLEMS = (  # code, zh, en, product, category, cause
    ("P-CC-FEE", "信用卡年费减免规则告知不清", "Card annual-fee waiver rules unclear",
     "credit_card", "fee_dispute", "policy"),
    ("P-APP-TRANSFER", "手机银行转账失败仍扣款", "App transfers failing but debited",
     "digital_banking", "system_failure", "system"),
    ("P-BRANCH-QUEUE", "网点排队等候时间长", "Long queues at outlets",
     "debit_card", "process_waiting", "process"),
)
ACTION_MONTHS_AGO = 5


@dataclass
class VocReport:
    stats: int = 0
    targets: int = 0
    problems: int = 0
    links: int = 0
    rollup_rows: int = 0
    alerts: int = 0
    notes: list[str] = field(default_factory=list)


def seed_voc(engine: Engine, *, today: date) -> VocReport:
    report = VocReport()
    with unit_of_work(engine) as session:
        actor = _actor(session)
        report.stats = _stats(session, actor, today)
        report.targets = _targets(session, actor, today)
    with unit_of_work(engine) as session:
        report.problems, report.links = _problems(session, _actor(session), today, report)
    with unit_of_work(engine) as session:
        report.rollup_rows = analytics_service.refresh_rollup(session).rows
    now = datetime.combine(today, time(12), tzinfo=UTC)
    for back in range(7, 0, -1):
        with unit_of_work(engine) as session:
            found = alerts_service.scan(session, day=today - timedelta(days=back), now=now)
            report.alerts += found.stored
    return report


def _actor(session: Session) -> Actor:
    return org_service.actor_for(org_service.get_user(session, username=generator.LOADER))


def _stats(session: Session, actor: Actor, today: date) -> int:
    if session.scalar(select(OrgMonthStat.org_id).where(OrgMonthStat.source == "demo")
                      .limit(1)) is not None:
        return 0  # seeded by an earlier load
    orgs = list(session.scalars(select(Org)))
    first = add_months(today.replace(day=1), -12)
    rows = []
    for org in orgs:
        customers = CUSTOMERS.get(OrgKind(org.kind), 0)
        outlets = 1 if org.kind in (OrgKind.outlet, OrgKind.sub_branch) else 0
        for month in range(13):
            start = add_months(first, month)
            grown = int(customers * (1 + 0.004 * month))  # a bank that keeps growing
            rows.append(analytics_service.StatRow(
                org.code, start.strftime("%Y-%m"), grown or None,
                int(grown * 0.96) or None, outlets if customers else None))
    return analytics_service.import_org_stats(session, actor=actor, rows=rows, source="demo")


def _targets(session: Session, actor: Actor, today: date) -> int:
    if session.scalar(select(KpiTarget.id).limit(1)) is not None:
        return 0  # the bank's (or an earlier load's) targets stand
    start = add_months(today.replace(day=1), -12)
    for kpi, value in TARGETS:
        analytics_service.set_target(session, actor=actor, kpi=kpi, value=value,
                                     valid_from=start)
    return len(TARGETS)


def _problems(session: Session, actor: Actor, today: date, report: VocReport
              ) -> tuple[int, int]:
    """The library's entries, each linked to up to 40 recent cases of its product and
    category, and an action against the first, piloted at two branches five months ago."""
    known = set(session.scalars(select(Problem.code)))
    created = links = 0
    for code, zh, en, product, category, cause in PROBLEMS:
        if code in known:
            continue
        try:
            problem = problems_service.create_problem(session, actor=actor, data=ProblemCreate(
                code=code, title_zh=zh, title_en=en, product=product, category=category,
                cause_category=CauseCategory(cause), description=f"{zh}（演示数据）"))
        except BankvocError as exc:  # a bank's own taxonomy may not have these codes
            report.notes.append(f"{code}: {exc.message}")
            continue
        created += 1
        since = datetime.combine(today - timedelta(days=120), time(), tzinfo=UTC)
        references = session.scalars(
            select(Case.reference).where(Case.product == product, Case.category == category,
                                         Case.kind == "complaint", Case.received_at >= since)
            .order_by(Case.received_at.desc()).limit(40)).all()
        for reference in references:
            problems_service.link_case(session, actor=actor, problem_id=problem.id,
                                       reference=reference)
            links += 1
        if code == PROBLEMS[0][0]:
            _action(session, actor, problem.id, today)
    return created, links


def _action(session: Session, actor: Actor, problem_id: int, today: date) -> None:
    branches = session.scalars(select(Org.code).where(Org.kind == OrgKind.branch)
                               .order_by(Org.code).limit(2)).all()
    started = add_months(today.replace(day=1), -ACTION_MONTHS_AGO)
    problem_actions.create_action(session, actor=actor, problem_id=problem_id,
                                  data=ActionCreate(
        title="年费减免规则在开卡时短信告知并在 App 首页展示", owner=generator.LOADER,
        due_date=started + timedelta(days=60), status=ActionStatus.in_progress,
        started_on=started,
        cost=Decimal("180000"), pilot_orgs=list(branches),
        notes="试点分行先行，其余分行对照（演示数据）"))

