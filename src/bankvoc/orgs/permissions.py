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
    # The VOC numbers: everyone reads their subtree's; denominators and targets are set by
    # consumer protection and analysts.
    "kpi.read": ALL_ROLES,
    "kpi.manage": frozenset({Role.admin, Role.cpo, Role.analyst}),
    # The problem library (投诉问题库): everyone reads it, case workers link their cases to it,
    # consumer protection and analysts curate it and its improvement actions; any employee
    # proposes an improvement (建言献策), the improvement committee (消保) reviews it.
    "problem.read": ALL_ROLES,
    "problem.link": CASE_WORKERS,
    "problem.manage": frozenset({Role.admin, Role.cpo, Role.analyst}),
    "suggestion.create": ALL_ROLES,
    "suggestion.review": frozenset({Role.admin, Role.cpo}),
    # Early warning: everyone reads the alerts of their subtree (the dashboard and the monthly
    # report show them); consumer protection, team leads and managers take them in hand; the
    # scan is run by hand only by consumer protection and administrators.
    "alert.read": ALL_ROLES,
    "alert.acknowledge": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.branch_manager}),
    "alert.scan": frozenset({Role.admin, Role.cpo}),
    # Importing the customer-value file sets the customers' segments, and with them the KPIs'
    # segment cut: the people who set the KPIs' denominators and targets do it.
    "customer.value_import": frozenset({Role.admin, Role.cpo, Role.analyst}),
    # Versioned configuration (taxonomy, deadline policy and calendar, notification templates,
    # routing and authority limits, grading and alert rules): consumer protection and
    # administrators edit and activate it; analysts and auditors read it and its history.
    "config.read": frozenset({Role.admin, Role.cpo, Role.analyst, Role.auditor}),
    "config.manage": frozenset({Role.admin, Role.cpo}),
    # Outlet inspections and mystery shopping: every staff role but the contact centre's agents
    # reads the visits and findings of its subtree; inspectors, branch managers and consumer
    # protection record visits and close findings.
    "inspection.read": ALL_ROLES - {Role.agent},
    "inspection.record": frozenset({Role.admin, Role.cpo, Role.qa_inspector,
                                    Role.branch_manager}),
    # Quality inspection of calls (智能质检): the contact centre's inspectors and team leads,
    # consumer protection, analysts and auditors read the results of their subtree; inspectors,
    # team leads and consumer protection review the queued calls (confirm or override).
    "qa.read": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.qa_inspector,
                          Role.analyst, Role.auditor}),
    "qa.review": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.qa_inspector}),
    # Operational service data (queue tickets, channel figures, process durations, digital
    # usage): everyone reads their subtree's figures as KPIs (kpi.read); the people who set the
    # KPIs' denominators and targets import the systems' exports.
    "servicedata.import": frozenset({Role.admin, Role.cpo, Role.analyst}),
    # The contact-centre dashboard ranks named agents and teams: management information for
    # the centre's team leads and quality inspectors, consumer protection, analysts, auditors and
    # branch managers (a branch that runs its own hotline sees its subtree); agents and case
    # handlers read the case KPIs (`kpi.read`) but not their colleagues' ranking.
    "contact.read": frozenset({Role.admin, Role.cpo, Role.analyst, Role.auditor,
                               Role.team_lead, Role.qa_inspector, Role.branch_manager}),
    # Scorecards and training records (people): they rank named staff, so management
    # information like the contact dashboard; those who run training import its records.
    "people.read": frozenset({Role.admin, Role.cpo, Role.analyst, Role.auditor,
                              Role.team_lead, Role.qa_inspector, Role.branch_manager}),
    "training.import": frozenset({Role.admin, Role.cpo, Role.team_lead, Role.qa_inspector}),
    "org.read": ALL_ROLES,
    "org.manage": frozenset({Role.admin}),
    "user.manage": frozenset({Role.admin}),
}


def allowed(roles: frozenset[str], permission: str) -> bool:
    return bool(roles & PERMISSIONS[permission])
