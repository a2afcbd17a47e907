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


class ChangeEntity(StrEnum):
    """What a directory change (`directory_change.entity`) is about."""

    org = "org"
    user = "user"


class ChangeAction(StrEnum):
    """What a directory change did (`directory_change.action`)."""

    create = "create"
    update = "update"
    roles = "roles"  # an edit that changed the user's roles (with whatever else it changed)
    deactivate = "deactivate"
    reactivate = "reactivate"
    password_reset = "password_reset"
    unlock = "unlock"
