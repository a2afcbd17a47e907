"""Pages of the VOC numbers: the dashboard and its drill-down (with CSV/XLSX export), the
problem library with its improvement actions, and the reports page. Routes only call
`dashboard_pages`, `problem_pages` and `report_pages`; they take the same viewer as the
other pages (logged in, or a bearer token), and their forms the session's CSRF token.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from bankvoc.api.deps import DbSession
from bankvoc.core import tables
from bankvoc.core.settings import get_settings
from bankvoc.web import dashboard_pages, problem_pages, report_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(content=data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"; "
                                                    f"filename*=UTF-8''{quote(name)}",
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


# --- the dashboard -----------------------------------------------------------------------------

@router.get("/dashboard")
def dashboard(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """Headline KPIs against targets, category and trend charts with drill-down, open
    hot-issue alerts and the cases at risk of breaching, for a period and org."""
    view = dashboard_pages.dashboard(session, actor=who.actor, params=request.query_params,
                                     lab=lab, root=_root(request))
    return render(request, "dashboard.html", {"view": view, "nav": "dashboard"}, lab=lab,
                  who=who, status=view.status_code)


@router.get("/dashboard/cases")
def drill(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The cases behind a figure (masked), a page at a time, with their export."""
    view = dashboard_pages.drill_page(session, actor=who.actor, params=request.query_params,
                                      lab=lab, root=_root(request))
    return render(request, "dashboard_cases.html", {"view": view, "nav": "dashboard"},
                  lab=lab, who=who, status=view.status_code)


@router.get("/dashboard/cases.{fmt}")
def drill_export(request: Request, fmt: Literal["csv", "xlsx"], session: DbSession,
                 who: CurrentViewer, lab: Lab) -> Response:
    """Every case behind a figure as CSV or XLSX, one row per case, personal data masked."""
    data, name = dashboard_pages.export_cases(session, actor=who.actor,
                                              params=request.query_params, fmt=fmt,
                                              lang=lab.lang, tz=get_settings().tz)
    return _attachment(data, tables.MEDIA_TYPES[fmt], name)


@router.post("/dashboard/alerts/{alert_id}/acknowledge")
def acknowledge_alert(request: Request, alert_id: int, session: DbSession, who: CurrentViewer,
                      posted: PostedForm) -> RedirectResponse:
    """Acknowledge an alert (with a note); back to the dashboard as it was, which says so.
    Another org's alert is a 404 page, an acknowledged one a 409 page."""
    dashboard_pages.acknowledge(session, actor=who.actor, alert_id=alert_id,
                                note=posted.get("note"))
    query = dashboard_pages.back_query(posted.get("back"))
    query = "&".join(q for q in (query, f"acknowledged={alert_id}") if q)
    return RedirectResponse(f"{_root(request)}/dashboard?{query}#ack-done", status_code=303)


# --- the problem library -----------------------------------------------------------------------

@router.get("/problems")
def problems(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    view = problem_pages.problem_list(session, actor=who.actor, params=request.query_params,
                                      lab=lab, root=_root(request))
    return render(request, "problems.html", {"view": view, "nav": "problems"}, lab=lab,
                  who=who)


@router.post("/problems")
def create_problem(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                   posted: PostedForm) -> Response:
    """Create a problem: 303 to its page, or the list again with the problem by its field."""
    created, form = problem_pages.create_problem(session, actor=who.actor, posted=posted,
                                                 lab=lab)
    if created is not None:
        return RedirectResponse(f"{_root(request)}/problems/{created}?created=1",
                                status_code=303)
    view = problem_pages.problem_list(session, actor=who.actor, params={}, lab=lab,
                                      root=_root(request), create=form)
    return render(request, "problems.html", {"view": view, "nav": "problems"}, lab=lab,
                  who=who, status=view.status_code, page_url=f"{_root(request)}/problems")


@router.get("/problems/{problem_id}")
def problem(request: Request, problem_id: int, session: DbSession, who: CurrentViewer,
            lab: Lab) -> Response:
    page = problem_pages.problem_page(session, actor=who.actor, problem_id=problem_id,
                                      lab=lab, params=request.query_params)
    return render(request, "problem.html", {"page": page, "nav": "problems"}, lab=lab,
                  who=who)


@router.post("/problems/{problem_id}/cases")
def link_case(request: Request, problem_id: int, session: DbSession, who: CurrentViewer,
              lab: Lab, posted: PostedForm) -> Response:
    """Link a case (by reference) to the problem: 303 to the problem, which says so; or the
    problem again with what is wrong next to the field."""
    reference, refused, status = problem_pages.link_case(session, actor=who.actor,
                                                         problem_id=problem_id, posted=posted,
                                                         lab=lab)
    url = f"{_root(request)}/problems/{problem_id}"
    if refused is None:
        return RedirectResponse(f"{url}?linked={quote(reference)}#link-done", status_code=303)
    page = problem_pages.problem_page(session, actor=who.actor, problem_id=problem_id,
                                      lab=lab, link_value=reference, link_problem=refused,
                                      link_status=status)
    return render(request, "problem.html", {"page": page, "nav": "problems"}, lab=lab,
                  who=who, status=page.status_code, page_url=url)


# --- reports -----------------------------------------------------------------------------------

@router.get("/reports")
def reports(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    view = report_pages.reports_page(session, actor=who.actor, params=request.query_params,
                                     lab=lab)
    return render(request, "reports.html", {"view": view, "nav": "reports"}, lab=lab, who=who,
                  status=view.status_code)


@router.get("/reports/monthly")
def monthly_report(request: Request, session: DbSession, who: CurrentViewer,
                   lab: Lab) -> Response:
    """The monthly VOC report as a file; a bad choice is the form again, with the problem."""
    made = report_pages.monthly(session, actor=who.actor, params=request.query_params, lab=lab)
    if isinstance(made, report_pages.ReportsView):
        return render(request, "reports.html", {"view": made, "nav": "reports"}, lab=lab,
                      who=who, status=made.status_code)
    return _attachment(made.data, made.media_type, made.filename)
