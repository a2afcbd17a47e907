"""The workflow as a table: which action may be taken in which status, by which permission,
and the status it leads to. Nothing else decides whether a step is legal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bankvoc.cases.enums import CaseStatus as S
from bankvoc.core.i18n import register


class Action(StrEnum):
    accept = "accept"  # 受理
    refuse = "refuse"  # 不予受理 (with reason)
    assign = "assign"  # 分派
    investigate = "investigate"  # 开始调查
    note = "note"  # investigation note, dispute focus, finding, basis
    propose = "propose"  # 提出处理方案 (decision and its type)
    approve = "approve"  # approval of a decision above the proposer's authority
    resolve = "resolve"  # decision told to the customer
    tell = "tell"  # any other communication with the customer
    customer_answer = "customer_answer"  # the customer's verdict on the decision
    close = "close"  # 办结
    archive = "archive"  # 归档
    reopen = "reopen"  # appeal or unhappy customer: back to investigation
    transfer = "transfer"  # to another department or branch
    add_cohandler = "add_cohandler"  # 协办
    add_complainant = "add_complainant"  # group complaints
    escalate = "escalate"  # 升级
    extend = "extend"  # 延期
    pause = "pause"  # appraisal, testing or evaluation: the clock stops
    resume = "resume"
    merge = "merge"  # into another case of the same matter
    withdraw = "withdraw"  # 撤诉: the clock stops the day it arrives
    answer_regulator = "answer_regulator"  # 回复监管: the answer back on a transferred case


@dataclass(frozen=True)
class Rule:
    permission: str
    to: S | None = None  # None: the status does not change


OPEN_WORK = (S.received, S.accepted, S.assigned, S.investigating, S.solution_proposed)
BEFORE_DECISION = (S.received, S.accepted, S.assigned, S.investigating)
UNDER_CLOCK = (S.accepted, S.assigned, S.investigating, S.solution_proposed)

TRANSITIONS: dict[tuple[S, Action], Rule] = {}


def _allow(statuses: Iterable[S], action: Action, permission: str, to: S | None = None) -> None:
    for status in statuses:
        TRANSITIONS[(status, action)] = Rule(permission, to)


_allow([S.received], Action.accept, "case.work", S.accepted)
_allow([S.received], Action.refuse, "case.decide", S.not_accepted)
_allow([S.accepted, S.assigned], Action.assign, "case.assign", S.assigned)
_allow([S.assigned, S.solution_proposed], Action.investigate, "case.work", S.investigating)
_allow([S.investigating, S.solution_proposed], Action.propose, "case.decide",
       S.solution_proposed)
_allow([S.solution_proposed], Action.approve, "case.approve")
_allow([S.solution_proposed], Action.resolve, "case.decide", S.resolved)
_allow([S.resolved], Action.close, "case.work", S.closed)
_allow([S.closed], Action.archive, "case.manage", S.archived)
_allow([S.resolved, S.closed], Action.reopen, "case.work", S.investigating)
_allow([S.not_accepted], Action.reopen, "case.decide", S.received)
_allow(BEFORE_DECISION, Action.transfer, "case.work", S.accepted)
_allow(BEFORE_DECISION, Action.merge, "case.manage", S.merged)
_allow(OPEN_WORK, Action.withdraw, "case.work", S.withdrawn)
_allow((*OPEN_WORK, S.resolved), Action.note, "case.work")
_allow((*OPEN_WORK, S.resolved, S.closed, S.not_accepted), Action.tell, "case.work")
_allow([S.resolved, S.closed], Action.customer_answer, "case.work")
_allow(UNDER_CLOCK, Action.add_cohandler, "case.assign")
_allow(OPEN_WORK, Action.add_complainant, "case.work")
_allow(OPEN_WORK, Action.escalate, "case.work")
_allow(UNDER_CLOCK, Action.extend, "case.decide")
_allow(UNDER_CLOCK, Action.pause, "case.decide")
_allow(UNDER_CLOCK, Action.resume, "case.decide")
_allow([S.resolved, S.closed], Action.answer_regulator, "case.decide")


def rule_for(status: str, action: Action) -> Rule | None:
    return TRANSITIONS.get((S(status), action))


def actions_in(status: str) -> list[Action]:
    """The actions the table allows in `status`, in the table's order."""
    return [action for (state, action) in TRANSITIONS if state == status]


register("action", {
    "accept": ("受理", "Accept"), "refuse": ("不予受理", "Refuse"),
    "assign": ("分派", "Assign"), "investigate": ("开始调查", "Investigate"),
    "note": ("调查记录", "Note"), "propose": ("提出方案", "Propose decision"),
    "approve": ("审批", "Approve"), "resolve": ("告知处理决定", "Resolve"),
    "tell": ("与客户沟通", "Contact customer"),
    "customer_answer": ("客户反馈", "Customer's answer"), "close": ("办结", "Close"),
    "archive": ("归档", "Archive"), "reopen": ("重新处理", "Reopen"),
    "transfer": ("转办", "Transfer"), "add_cohandler": ("协办", "Add co-handler"),
    "add_complainant": ("群体投诉人", "Add complainant"), "escalate": ("升级", "Escalate"),
    "extend": ("延期", "Extend"), "pause": ("中止计时", "Pause clock"),
    "resume": ("恢复计时", "Resume clock"), "merge": ("合并", "Merge"),
    "withdraw": ("撤回", "Withdraw"), "answer_regulator": ("回复监管", "Answer the regulator"),
})
