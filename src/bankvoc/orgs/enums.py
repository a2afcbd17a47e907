from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    head_office = "head_office"
    branch = "branch"  # 分行
    sub_branch = "sub_branch"  # 支行
    outlet = "outlet"  # 网点
    centre = "centre"  # e.g. phone banking / contact centre
    department = "department"  # a head-office or branch department, e.g. 消保部


class Role(StrEnum):
    admin = "admin"
    cpo = "cpo"  # consumer protection office (消保)
    handler = "handler"
    team_lead = "team_lead"
    agent = "agent"
    qa_inspector = "qa_inspector"
    branch_manager = "branch_manager"
    analyst = "analyst"
    auditor = "auditor"
