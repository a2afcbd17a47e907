"""Server-rendered pages: the inbox (case list), the case page with its workflow forms, the
regulator-transfer view and the callback queue. Routes only call `pages`/`workflow_pages`/
`callback_pages`; the VOC pages (dashboard, problem library, reports) are `voc_routes`'.

The forms post back here and the answers are pages again: a step taken redirects (303) to the
case page, a refused one shows the page again with the problem next to its form. Pages need a
logged-in viewer (`auth_pages`: a session cookie; or a bearer token, for integrations); a form
posted under a session carries the session's CSRF token (`rendering.posted_form` checks it).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from bankvoc.api.deps import DbSession
from bankvoc.web import (
    admin_routes,
    auth_pages,
    branch_routes,
    callback_pages,
    config_pages,
    contact_routes,
    new_case_routes,
    pages,
    people_routes,
    portal_pages,
    qa_routes,
    service_data_routes,
    voc_routes,
    workflow_pages,
)
from bankvoc.web.forms import FilterForm
from bankvoc.web.present import Problem
from bankvoc.web.rendering import (
    STATIC_DIR,
    CurrentViewer,
    Lab,
    PageError,
    PageRoute,
    PostedForm,
    error_page,
    render,
)
from bankvoc.web.security import check_page_permission
from bankvoc.web.workflow_pages import BulkOutcome

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _list_url(request: Request, query: str) -> str:
    return f"{_root(request)}/cases" + (f"?{query}" if query else "")


@router.get("/")
def home(request: Request) -> RedirectResponse:
    target = "/cases" + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=303)


def _inbox(request: Request, session: DbSession, who: CurrentViewer, lab: Lab, *,
           query: str, status: int | None = None, save_name: str = "",
           save_problem: Problem | None = None, bulk: BulkOutcome | None = None) -> Response:
    """The inbox for the list query `query`, with what a form post has to say about it."""
    form = FilterForm.from_query(dict(parse_qsl(query)))
    tools = workflow_pages.inbox_tools(session, actor=who.actor, form=form, lab=lab,
                                       root=_root(request), save_name=save_name,
                                       save_problem=save_problem, bulk=bulk)
    view = pages.case_list(session, actor=who.actor, lab=lab, path=f"{_root(request)}/cases",
                           form=form, tools=tools)
    page_url = _list_url(request, query) if request.method == "POST" else None
    return render(request, "cases.html", {"view": view, "nav": "cases"}, lab=lab, who=who,
                  status=status or view.status_code, page_url=page_url)


@router.get("/cases")
def case_list(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The inbox: filters, built-in and saved views, deadline countdowns and bulk assignment."""
    return _inbox(request, session, who, lab, query=str(request.url.query))


@router.post("/cases/assign")
def bulk_assign(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                posted: PostedForm) -> Response:
    """Assign the ticked cases, each at the version the list showed; the inbox comes back with
    what happened to each."""
    outcome = workflow_pages.bulk_assign(session, actor=who.actor, posted=posted, lab=lab)
    return _inbox(request, session, who, lab, query=posted.get("back"), bulk=outcome)


@router.post("/views")
def save_view(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
              posted: PostedForm) -> Response:
    """Save the inbox's filters under a name; then show that view."""
    query, problem, status = workflow_pages.save_view(session, actor=who.actor, posted=posted,
                                                      lab=lab)
    if problem is None:
        return RedirectResponse(_list_url(request, query), status_code=303)
    return _inbox(request, session, who, lab, query=query, status=status,
                  save_name=posted.get("name"), save_problem=problem)


@router.post("/views/{view_id}/delete")
def delete_view(request: Request, view_id: int, session: DbSession, who: CurrentViewer,
                posted: PostedForm) -> RedirectResponse:
    """Delete one of the viewer's saved views; back to the inbox as it was."""
    workflow_pages.delete_view(session, actor=who.actor, view_id=view_id)
    return RedirectResponse(_list_url(request, workflow_pages.normal_query(posted.get("back"))),
                            status_code=303)


@router.get("/regulator")
def regulator_list(request: Request, session: DbSession, who: CurrentViewer,
                   lab: Lab) -> Response:
    """Cases transferred by a regulator: their reference there and their decision deadline."""
    view = pages.case_list(session, actor=who.actor, lab=lab, path=request.url.path,
                           form=FilterForm.from_query(request.query_params), regulator=True)
    return render(request, "regulator.html", {"view": view, "nav": "regulator"}, lab=lab,
                  who=who, status=view.status_code)


@router.get("/cases/{reference}")
def case_page(request: Request, reference: str, session: DbSession, who: CurrentViewer,
              lab: Lab) -> Response:
    page = pages.case_page(session, actor=who.actor, reference=reference, lab=lab,
                           root=_root(request), done=request.query_params.get("done"))
    return render(request, "case.html", {"page": page, "nav": "cases"}, lab=lab, who=who)


@router.post("/cases/{reference}/steps/{action}")
def take_step(request: Request, reference: str, action: str, session: DbSession,
              who: CurrentViewer, lab: Lab, posted: PostedForm) -> Response:
    """One workflow step from the case page's form for `action` (with the version the page
    showed). Taken: 303 to the case page, which says so. Refused: the case page again with the
    problem next to the form (409 or 422; 403 for a step the role may not take). A case the
    viewer may not see is a 404 page."""
    attempt = workflow_pages.take_step(session, actor=who.actor, reference=reference,
                                       action=action, posted=posted, lab=lab)
    case_url = f"{_root(request)}/cases/{quote(reference)}"
    if attempt is None:
        return RedirectResponse(f"{case_url}?{urlencode({'done': action})}#workflow",
                                status_code=303)
    page = pages.case_page(session, actor=who.actor, reference=reference, lab=lab,
                           root=_root(request), attempt=attempt)
    return render(request, "case.html", {"page": page, "nav": "cases"}, lab=lab, who=who,
                  status=attempt.problem.status, page_url=case_url)


def _callbacks_url(request: Request, query: str) -> str:
    return f"{_root(request)}/callbacks" + (f"?{query}" if query else "")


@router.get("/callbacks")
def callback_queue(request: Request, session: DbSession, who: CurrentViewer,
                   lab: Lab) -> Response:
    """The callback queue: the callbacks of the viewer's cases by due time, with a form on each
    pending one; `?recorded=<id>` says what recording that callback did to its case."""
    view = callback_pages.queue(session, actor=who.actor, params=request.query_params, lab=lab,
                                root=_root(request))
    return render(request, "callbacks.html", {"view": view, "nav": "callbacks"}, lab=lab,
                  who=who, status=view.status_code)


@router.post("/callbacks/{callback_id}/result")
def record_callback(request: Request, callback_id: str, session: DbSession,
                    who: CurrentViewer, lab: Lab, posted: PostedForm) -> Response:
    """Record what the customer said (through the surveys service, which closes the case or
    reopens and escalates it). Recorded: 303 to the queue as it was, which says what happened.
    Refused: the queue again with the problems next to the callback's form (422, or 409 when
    recorded already). A callback the viewer may not see is a 404 page."""
    ident, attempt = callback_pages.record(session, actor=who.actor, callback_id=callback_id,
                                           posted=posted, lab=lab)
    back = callback_pages.normal_query(dict(parse_qsl(posted.get("back"))))
    if attempt is None:
        query = "&".join(q for q in (back, urlencode({"recorded": ident})) if q)
        return RedirectResponse(f"{_callbacks_url(request, query)}#callback-done",
                                status_code=303)
    view = callback_pages.queue(session, actor=who.actor, params=dict(parse_qsl(back)),
                                lab=lab, root=_root(request), attempt=attempt)
    return render(request, "callbacks.html", {"view": view, "nav": "callbacks"}, lab=lab,
                  who=who, status=view.status_code, page_url=_callbacks_url(request, back))


def install(app: FastAPI) -> None:
    """Pages at /, their assets at /static (from the installed package: no CDN)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(PageError, error_page)
    app.include_router(auth_pages.router)
    # The customer's own page: public, without the staff pages' gate.
    app.include_router(portal_pages.router)
    gate = [Depends(check_page_permission)]
    # Before `router`: its /cases/{reference} would take /cases/new for a reference.
    app.include_router(new_case_routes.router, dependencies=gate)
    app.include_router(router, dependencies=gate)
    app.include_router(voc_routes.router, dependencies=gate)
    app.include_router(branch_routes.router, dependencies=gate)
    app.include_router(qa_routes.router, dependencies=gate)
    app.include_router(service_data_routes.router, dependencies=gate)
    app.include_router(people_routes.router, dependencies=gate)
    app.include_router(contact_routes.router, dependencies=gate)
    app.include_router(config_pages.router, dependencies=gate)
    app.include_router(admin_routes.router, dependencies=gate)
