"""The words of the problem library: cause categories and the statuses of its records."""

from __future__ import annotations

from enum import StrEnum

from bankvoc.core.i18n import register


class CauseCategory(StrEnum):
    """The fishbone (人机料法环 as banks adapt it): where a complaint's cause lies."""

    people = "people"  # 人员: skill, attitude, conduct
    process = "process"  # 流程: steps, hand-offs, waiting
    system = "system"  # 系统: IT systems, devices
    product = "product"  # 产品: terms, features, pricing
    policy = "policy"  # 制度: internal rules, authority, regulation as applied
    environment = "environment"  # 环境: premises, third parties, outside events


class ProblemStatus(StrEnum):
    open = "open"  # known, nothing done yet
    fixing = "fixing"  # improvement actions under way
    fixed = "fixed"  # the cause is removed (customers who complained are told)
    closed = "closed"  # no longer followed (merged, obsolete)


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class SuggestionStatus(StrEnum):
    submitted = "submitted"
    under_review = "under_review"
    adopted = "adopted"
    rejected = "rejected"


register("cause", {
    "people": ("人员", "People"), "process": ("流程", "Process"), "system": ("系统", "System"),
    "product": ("产品", "Product"), "policy": ("制度", "Policy"),
    "environment": ("环境", "Environment"),
})
register("problem_status", {
    "open": ("待整改", "Open"), "fixing": ("整改中", "Being fixed"),
    "fixed": ("已整改", "Fixed"), "closed": ("已关闭", "Closed"),
})
register("action_status", {
    "planned": ("计划中", "Planned"), "in_progress": ("实施中", "In progress"),
    "done": ("已完成", "Done"), "cancelled": ("已取消", "Cancelled"),
})
register("suggestion_status", {
    "submitted": ("已提交", "Submitted"), "under_review": ("评审中", "Under review"),
    "adopted": ("已采纳", "Adopted"), "rejected": ("未采纳", "Not adopted"),
})
