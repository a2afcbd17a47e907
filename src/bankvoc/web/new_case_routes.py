"""The new-case page's routes (登记投诉): the form, the customer look-up and registering. They
only call `new_case_pages`, and must be installed before `routes.router`, whose
`/cases/{reference}` would otherwise take `/cases/new` for a case reference."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from bankvoc.api.deps import DbSession
from bankvoc.web import new_case_pages
from bankvoc.web.new_case_pages import NewCaseView
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, Viewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _page_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/cases/new"


def _form(request: Request, view: NewCaseView, lab: Lab, who: Viewer) -> Response:
    return render(request, "new_case.html", {"view": view, "nav": "new_case"}, lab=lab,
                  who=who, status=view.status_code, page_url=_page_url(request))


@router.get("/cases/new")
def new_case(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The empty form: look a customer up, then describe the case."""
    return _form(request, new_case_pages.blank(session, actor=who.actor, lab=lab), lab, who)


@router.post("/cases/new/lookup")
def lookup_customer(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                    posted: PostedForm) -> Response:
    """The form with the customer found by mobile phone or ID number (masked, with their
    cases in the viewer's scope), or what to fix in the number (422)."""
    view = new_case_pages.lookup(session, actor=who.actor, posted=posted, lab=lab)
    return _form(request, view, lab, who)


@router.post("/cases/new")
def register_case(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                  posted: PostedForm) -> Response:
    """Registered: 303 to the case page (classified and graded). Refused: the form again,
    what to fix next to each field (422)."""
    outcome = new_case_pages.create(session, actor=who.actor, posted=posted, lab=lab)
    if isinstance(outcome, str):
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/cases/{quote(outcome)}", status_code=303)
    return _form(request, outcome, lab, who)
