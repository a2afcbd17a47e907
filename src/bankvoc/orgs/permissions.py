"""Who may do what: one table, checked by `require`. Data scope (which orgs) is `scope.py`'s job."""

from __future__ import annotations

from bankvoc.orgs.enums import Role

ALL_ROLES = frozenset(Role)
CASE_WORKERS = frozenset({Role.admin, Role.cpo, Role.handler, Role.team_lead, Role.agent,
                          Role.branch_manager})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "case.read": ALL_ROLES,
    "case.create": CASE_WORKERS,
    "case.import": frozenset({Role.admin, Role.cpo, Role.handler, Role.team_lead}),
    "case.attach": CASE_WORKERS,
    "case.correct": frozenset({Role.admin, Role.cpo, Role.handler, Role.team_lead}),
    # The workflow (cases/workflow/table.py says which action needs which).
    "case.work": CASE_WORKERS,
    "case.assign": frozenset({Role.admin, Role.cpo, Role.handler, Role.team_lead,
                              Role.branch_manager}),
    "case.decide": frozenset({Role.admin, Role.cpo, Role.handler, Role.team_lead,
                              Role.branch_manager}),
    "case.approve": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.branch_manager}),
    "case.manage": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.branch_manager}),
    "pii.read": frozenset({Role.admin, Role.cpo, Role.handler}),
    "model.manage": frozenset({Role.admin, Role.cpo, Role.analyst}),
    "org.read": ALL_ROLES,
    "org.manage": frozenset({Role.admin}),
    "user.manage": frozenset({Role.admin}),
}


def allowed(roles: frozenset[str], permission: str) -> bool:
    return bool(roles & PERMISSIONS[permission])
