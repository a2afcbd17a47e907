"""Which permission each route needs, API and pages: one table, checked before the route runs.

The permissions themselves (which roles hold each) are `orgs.permissions.PERMISSIONS`. This
table is the outer gate: a caller whose roles lack the route's permission gets 403 before any
look-up, so the answer does not depend on whether the case exists. Services keep their own
finer checks (e.g. each workflow action's permission, `pii.read` for unmasked data) and the
org-subtree scope. The API's gate is `check_route_permission`, the pages' is
`web.security.check_page_permission` (a page refuses with a page, and sends the anonymous to
log in). The app refuses to start while a route has no entry here, and
`tests/api/test_access.py` calls every route as every role against this table.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from bankvoc.api.deps import DbSession, authenticated_actor
from bankvoc.core.errors import ConfigurationError

PUBLIC = "public"  # no caller needed (log-in, health)
AUTHENTICATED = "authenticated"  # any signed-in caller, whatever the role
SIGNED = "signed"  # no user: the request is signed with the channel's shared secret

ROUTE_PERMISSIONS: dict[tuple[str, str], str] = {
    # Intake and cases
    ("POST", "/api/v1/cases"): "case.create",
    ("POST", "/api/v1/cases/bulk"): "case.create",
    ("GET", "/api/v1/cases"): "case.read",
    ("GET", "/api/v1/cases/{reference}"): "case.read",
    ("GET", "/api/v1/cases/{reference}/events"): "case.read",
    ("GET", "/api/v1/cases/{reference}/chain"): "case.read",
    ("POST", "/api/v1/cases/{reference}/attachments"): "case.attach",
    ("GET", "/api/v1/cases/{reference}/attachments"): "case.read",
    ("GET", "/api/v1/cases/{reference}/attachments/{attachment_id}"): "case.read",
    ("POST", "/api/v1/cases/{reference}/corrections"): "case.correct",
    ("GET", "/api/v1/cases/{reference}/dossier"): "case.read",
    ("GET", "/api/v1/cases/{reference}/dossier.pdf"): "case.read",
    ("POST", "/api/v1/cases/{reference}/legal-hold"): "case.manage",
    ("POST", "/api/v1/cases/{reference}/steps"): "case.work",
    ("GET", "/api/v1/cases/{reference}/steps"): "case.read",
    # Orgs and the caller
    ("GET", "/api/v1/orgs"): "org.read",
    ("GET", "/api/v1/me"): AUTHENTICATED,
    # Text understanding
    ("POST", "/api/v1/text/analyze"): "case.read",
    ("GET", "/api/v1/text/topics"): "case.read",
    ("GET", "/api/v1/text/clusters"): "case.read",
    ("POST", "/api/v1/text/suggestions"): "case.read",
    # Callbacks and surveys
    ("GET", "/api/v1/callbacks"): "case.read",
    ("POST", "/api/v1/callbacks/{callback_id}/result"): "case.work",
    ("POST", "/api/v1/surveys"): "case.create",
    # Channels
    ("POST", "/api/v1/channels/{channel}/messages"): SIGNED,
    ("GET", "/api/v1/channels/mentions"): "case.read",
    # KPIs, journeys, segments
    ("GET", "/api/v1/kpis"): "kpi.read",
    ("GET", "/api/v1/kpis/headline"): "kpi.read",
    ("GET", "/api/v1/kpis/{kpi}"): "kpi.read",
    ("GET", "/api/v1/kpis/{kpi}/cases"): "kpi.read",
    ("GET", "/api/v1/kpis/{kpi}/cases.{fmt}"): "kpi.read",
    ("PUT", "/api/v1/kpi-targets"): "kpi.manage",
    ("POST", "/api/v1/org-stats"): "kpi.manage",
    ("GET", "/api/v1/journeys/pain-points"): "kpi.read",
    ("GET", "/api/v1/customers/segments/attrition"): "kpi.read",
    ("POST", "/api/v1/customers/value-import"): "customer.value_import",
    # Early warning
    ("GET", "/api/v1/alerts"): "alert.read",
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): "alert.acknowledge",
    ("GET", "/api/v1/alerts/regulator-risk"): "alert.read",
    ("POST", "/api/v1/alerts/scan"): "alert.scan",
    # Problem library, root causes, improvement actions, suggestions
    ("GET", "/api/v1/problems"): "problem.read",
    ("POST", "/api/v1/problems"): "problem.manage",
    ("GET", "/api/v1/problems/recurring"): "problem.read",
    ("GET", "/api/v1/problems/{problem_id}"): "problem.read",
    ("PATCH", "/api/v1/problems/{problem_id}"): "problem.manage",
    ("GET", "/api/v1/problems/{problem_id}/cases"): "problem.read",
    ("POST", "/api/v1/problems/{problem_id}/cases"): "problem.link",
    ("DELETE", "/api/v1/problems/{problem_id}/cases/{reference}"): "problem.link",
    ("GET", "/api/v1/cases/{reference}/problem-suggestions"): "problem.read",
    ("PUT", "/api/v1/cases/{reference}/root-cause"): "case.work",
    ("GET", "/api/v1/cases/{reference}/root-cause"): "case.read",
    ("GET", "/api/v1/root-causes/untraced"): "case.read",
    ("GET", "/api/v1/problems/{problem_id}/actions"): "problem.read",
    ("POST", "/api/v1/problems/{problem_id}/actions"): "problem.manage",
    ("GET", "/api/v1/actions/{action_id}"): "problem.read",
    ("PATCH", "/api/v1/actions/{action_id}"): "problem.manage",
    ("GET", "/api/v1/actions/{action_id}/effect"): "problem.read",
    ("GET", "/api/v1/suggestions"): "suggestion.create",
    ("POST", "/api/v1/suggestions"): "suggestion.create",
    ("GET", "/api/v1/suggestions/credits"): "suggestion.create",
    ("POST", "/api/v1/suggestions/{suggestion_id}/review"): "suggestion.review",
    # Reports
    ("GET", "/api/v1/reports/monthly"): "kpi.read",
    ("GET", "/api/v1/reports/regulatory/jrt"): "kpi.read",
    ("GET", "/api/v1/reports/regulatory/disclosure"): "kpi.read",
    ("GET", "/api/v1/reports/regulatory/self-check"): "kpi.read",
    # --- pages ---
    # Probes: liveness and readiness for the orchestrator; metrics check their own bearer
    # token (BANKVOC_METRICS_TOKEN) or, while it is unset, a loopback client (ops/api.py).
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): AUTHENTICATED,
    ("GET", "/password"): AUTHENTICATED,
    ("POST", "/password"): AUTHENTICATED,
    # --- the customer's page ---
    ("GET", "/portal"): PUBLIC,
    ("GET", "/portal/complaints/new"): PUBLIC,
    ("POST", "/portal/complaints/new"): PUBLIC,
    ("GET", "/portal/complaints/{reference}"): PUBLIC,
    ("GET", "/portal/track"): PUBLIC,
    ("POST", "/portal/track"): PUBLIC,
    ("GET", "/portal/track/code"): PUBLIC,
    ("POST", "/portal/track/code"): PUBLIC,
    ("GET", "/portal/case"): PUBLIC,
    ("POST", "/portal/case/supplement"): PUBLIC,
    ("POST", "/portal/case/leave"): PUBLIC,
    # --- accounts ---
    ("POST", "/login/code"): PUBLIC,
    ("GET", "/account/totp"): AUTHENTICATED,
    ("POST", "/account/totp"): AUTHENTICATED,
    ("GET", "/"): AUTHENTICATED,
    ("GET", "/cases"): "case.read",
    ("POST", "/cases/assign"): "case.assign",
    ("POST", "/views"): "case.read",
    ("POST", "/views/{view_id}/delete"): "case.read",
    ("GET", "/regulator"): "case.read",
    ("GET", "/cases/{reference}"): "case.read",
    ("POST", "/cases/{reference}/steps/{action}"): "case.work",
    ("GET", "/callbacks"): "case.read",
    ("POST", "/callbacks/{callback_id}/result"): "case.work",
    ("GET", "/dashboard"): "kpi.read",
    ("GET", "/dashboard/cases"): "kpi.read",
    ("GET", "/dashboard/cases.{fmt}"): "kpi.read",
    ("POST", "/dashboard/alerts/{alert_id}/acknowledge"): "alert.acknowledge",
    ("GET", "/problems"): "problem.read",
    ("POST", "/problems"): "problem.manage",
    ("GET", "/problems/{problem_id}"): "problem.read",
    ("POST", "/problems/{problem_id}/cases"): "problem.link",
    ("GET", "/branches/inspections"): "inspection.read",
    ("GET", "/branches/inspections/new"): "inspection.record",
    ("POST", "/branches/inspections/new"): "inspection.record",
    ("GET", "/branches/inspections/{inspection_id}"): "inspection.read",
    ("POST", "/branches/inspections/{inspection_id}/findings/{finding_id}/close"):
        "inspection.record",
    ("GET", "/branches/photos/{photo_id}"): "inspection.read",
    ("GET", "/qa/reviews"): "qa.read",
    ("GET", "/qa/reviews/{result_id}"): "qa.read",
    ("POST", "/qa/reviews/{result_id}"): "qa.review",
    # Operational figures, read like the dashboard's KPIs (no personal data; scoped by org)
    ("GET", "/service-data"): "kpi.read",
    ("GET", "/contact"): "contact.read",
    # Scorecards rank named staff: management information, like the contact dashboard
    ("GET", "/people/scorecards"): "people.read",
    ("GET", "/people/training"): "people.read",
    ("GET", "/reports"): "kpi.read",
    ("GET", "/reports/monthly"): "kpi.read",
    # --- admin: orgs, users, roles ---
    # (the admin home lists only the areas the viewer's roles may open)
    ("GET", "/admin"): AUTHENTICATED,
    ("GET", "/admin/orgs"): "org.manage",
    ("POST", "/admin/orgs"): "org.manage",
    ("GET", "/admin/orgs/{org_id}"): "org.manage",
    ("POST", "/admin/orgs/{org_id}"): "org.manage",
    ("POST", "/admin/orgs/{org_id}/deactivate"): "org.manage",
    ("POST", "/admin/orgs/{org_id}/reactivate"): "org.manage",
    ("GET", "/admin/users"): "user.manage",
    ("GET", "/admin/users/new"): "user.manage",
    ("POST", "/admin/users"): "user.manage",
    ("GET", "/admin/users/{user_id}"): "user.manage",
    ("POST", "/admin/users/{user_id}"): "user.manage",
    ("POST", "/admin/users/{user_id}/deactivate"): "user.manage",
    ("POST", "/admin/users/{user_id}/reactivate"): "user.manage",
    ("POST", "/admin/users/{user_id}/password"): "user.manage",
    ("POST", "/admin/users/{user_id}/unlock"): "user.manage",
    ("GET", "/admin/roles"): "user.manage",
    ("GET", "/admin/audit"): "user.manage",
    # --- admin: configuration ---
    ("GET", "/admin/config"): "config.read",
    ("GET", "/admin/config/{kind}"): "config.read",
    ("GET", "/admin/config/{kind}/edit"): "config.manage",
    ("POST", "/admin/config/{kind}/versions"): "config.manage",
    ("GET", "/admin/config/{kind}/versions/{version}"): "config.read",
    ("POST", "/admin/config/{kind}/versions/{version}/activate"): "config.manage",
    ("POST", "/admin/config/{kind}/rollback"): "config.manage",
    ("GET", "/admin/kpi-targets"): "kpi.read",
    ("POST", "/admin/kpi-targets"): "kpi.manage",
    # --- workbench ---
    ("GET", "/cases/new"): "case.create",
    ("POST", "/cases/new"): "case.create",
    ("POST", "/cases/new/lookup"): "case.create",
}


def app_routes(app: FastAPI, prefix: str = "/") -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every API route and page under `prefix`."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and (context.path or "").startswith(prefix):
            found += [(method, context.path or "", route) for method in sorted(route.methods or ())]
    return found


def install(app: FastAPI, routes: list[tuple[str, str, APIRoute]]) -> None:
    """Map each route's endpoint (of `routes`, the app's `app_routes`, walked once by the
    caller: FastAPI works each route's context out again on every walk, a sixth of building
    the app) to its permission; refuse to start while one has none."""
    by_endpoint: dict[tuple[str, object], str] = {}
    undeclared = []
    for method, path, route in routes:
        permission = ROUTE_PERMISSIONS.get((method, path))
        if permission is None:
            undeclared.append(f"{method} {path}")
        else:
            by_endpoint[(method, route.endpoint)] = permission
    if undeclared:
        raise ConfigurationError("routes without an entry in api/access.py "
                                 f"ROUTE_PERMISSIONS: {', '.join(undeclared)}")
    app.state.route_permissions = by_endpoint


def permission_of(request: Request) -> str:
    permission: str = request.app.state.route_permissions[(request.method,
                                                           request.scope["endpoint"])]
    return permission


def check_route_permission(request: Request, session: DbSession) -> None:
    """The gate every API route passes (a dependency of the API router)."""
    permission = permission_of(request)
    if permission == SIGNED:
        return  # the route verifies the channel's signature itself
    actor = authenticated_actor(session, request)
    if permission != AUTHENTICATED:
        actor.require(permission)
