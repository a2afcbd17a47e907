"""A small bank's October 2026, for the monthly report: complaints of two branches in a few
categories (and the months it is compared with), callbacks and surveys, customers' suggestions
(one of them formula-like), stored hot-issue alerts with typical cases, and a problem with an
improvement action piloted in Beijing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from bankvoc.alerts.models import Alert
from bankvoc.analytics import service as analytics
from bankvoc.cases.models import Case
from bankvoc.orgs import service as org_service
from bankvoc.problems import actions as problem_actions
from bankvoc.problems import service as problems_service
from bankvoc.problems.schemas import ActionCreate, ProblemCreate
from tests.analytics.conftest import Bank
from tests.analytics.conftest import bank as bank  # the fixture, reused

MONTH = "2026-10"
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
# Texts as intake stores them: personal data already masked.
FEE_TEXT = "信用卡年费多扣，卡号6222********1234，客户张**要求退还"
QUEUE_TEXT = "网点排队时间太长，等待超过一小时"
FORMULA_TEXT = '=HYPERLINK("http://evil.example","点我")建议增加自助机'
SUGGESTION_TEXT = "建议手机银行增加账单分期提醒功能"
# What must never appear in a report: the full card number behind the masked one.
FULL_CARD = "6222020012341234"


@dataclass
class Voc:
    bank: Bank
    fee_cases: list[Case]
    formula_case: Case

    @property
    def session(self):  # type: ignore[no-untyped-def]
        return self.bank.session


def said(case: Case, text: str) -> Case:
    """The case with `text` as its (masked) text."""
    case.text_masked = text
    return case


@pytest.fixture
def voc(bank: Bank) -> Voc:
    return build_voc(bank)


def build_voc(bank: Bank) -> Voc:
    s = bank.session
    a, b, c = bank.customer("gold"), bank.customer("mass"), bank.customer("mass")
    fee = [said(bank.case("BJ", f"2026-10-{day:02d}", customer=a if day < 10 else c,
                          decided_after_days=3), FEE_TEXT) for day in (5, 8, 12, 12)]
    fee.append(said(bank.case("BJ01", "2026-10-12", decided_after_days=20), FEE_TEXT))
    queue = [said(bank.case("BJ01", "2026-10-14", channel="branch", product="debit_card",
                            category="service_attitude"), QUEUE_TEXT),
             said(bank.case("SH", "2026-10-20", channel="mobile_app", product="mortgage",
                            category="service_attitude", customer=b, decided_after_days=2),
                  QUEUE_TEXT),
             said(bank.case("SH", "2026-10-21", channel="mobile_app", product="mortgage",
                            category="service_attitude"), QUEUE_TEXT)]
    # Compared with: September 2026 and October 2025; and twelve months of history for trends.
    for day in ("2026-09-03", "2026-09-15", "2025-10-09", "2026-03-10"):
        bank.case("BJ", day, decided_after_days=1)
    bank.case("SH", "2026-09-18", category="service_attitude")
    formula = said(bank.case("BJ", "2026-10-07", kind="suggestion", product=None,
                             category=None), FORMULA_TEXT)
    for nth in (9, 16, 23):
        said(bank.case("BJ01", f"2026-10-{nth:02d}", kind="suggestion", product=None,
                       category=None), SUGGESTION_TEXT)
    said(bank.case("SH", "2026-10-11", kind="suggestion", product=None, category=None),
         "建议上海分行延长营业时间")
    bank.callback(fee[0], csat=5, nps=10)
    bank.callback(fee[1], csat=2, nps=3)
    bank.callback(queue[1], csat=4, nps=9)
    bank.survey("SH", "2026-10-15", csat=3, nps=6)
    admin = bank.world.actor("hq_admin")
    analytics.import_org_stats(s, actor=admin, source="test", rows=[
        analytics.StatRow(org, month, customers, None, outlets)
        for month in ("2026-09", "2026-10")
        for org, customers, outlets in (("BJ", 1000, 2), ("BJ01", 500, 1), ("SH", 1500, 1))])
    analytics.set_target(s, actor=admin, kpi="csat", value=80.0, valid_from=date(2026, 1, 1))
    analytics.set_target(s, actor=admin, kpi="on_time_rate", value=50.0,
                         valid_from=date(2026, 1, 1))
    bj, sh = bank.org("BJ"), bank.org("SH")
    for flagged, observed, org in ((12, 4, bj), (13, 3, bj), (21, 2, sh)):
        s.add(Alert(kind="hot_issue", dimension="org_category", key="fee_dispute",
                    org_id=org.id, day=date(2026, 10, flagged), observed=observed, expected=0.5,
                    ratio=observed / 0.5, p_value=0.001, score=4.0,
                    case_ids=[fee[2].id, fee[4].id] if org is bj else [queue[2].id],
                    label=f"费用争议 · {org.name}", detail={},
                    dedupe_key=f"test:{org.code}:{flagged}"))
    s.add(Alert(kind="mass_complaint", dimension="wording", key="集体", org_id=bj.id,
                day=date(2026, 10, 12), observed=3, case_ids=[], label="疑似群体性投诉",
                detail={}, dedupe_key="test:mass"))
    s.flush()
    problem = problems_service.create_problem(s, actor=admin, data=ProblemCreate(
        code="P-FEE-01", title_zh="信用卡年费误扣", title_en="Annual fee charged in error",
        category="fee_dispute"), now=datetime(2026, 10, 6, 2, 0, tzinfo=UTC))
    for case in fee[:3]:
        problems_service.link_case(s, actor=admin, problem_id=problem.id,
                                   reference=case.reference, now=NOW)
    org_service.create_user(s, username="bj_manager", display_name="bj_manager", org=bj,
                            roles=["branch_manager"], email="bj.manager@bank.example")
    problem_actions.create_action(s, actor=admin, problem_id=problem.id, data=ActionCreate(
        title="年费减免规则系统校验", owner="hq_admin", status="in_progress",
        started_on=date(2026, 8, 1), cost="20000", pilot_orgs=["BJ"]))
    bank.refresh()
    return Voc(bank=bank, fee_cases=fee, formula_case=formula)
