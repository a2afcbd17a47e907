"""Server-rendered pages: the case list and the case page. Routes only call `pages`/services."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from bankvoc.api.deps import DbSession
from bankvoc.web import pages
from bankvoc.web.forms import FilterForm
from bankvoc.web.rendering import (
    STATIC_DIR,
    CurrentViewer,
    Lab,
    PageError,
    PageRoute,
    error_page,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request) -> RedirectResponse:
    target = "/cases" + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=303)


@router.get("/cases")
def case_list(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    view = pages.case_list(session, actor=who.actor, lab=lab, path=request.url.path,
                           form=FilterForm.from_query(request.query_params))
    return render(request, "cases.html", {"view": view}, lab=lab, who=who,
                  status=view.status_code)


@router.get("/cases/{reference}")
def case_page(request: Request, reference: str, session: DbSession, who: CurrentViewer,
              lab: Lab) -> Response:
    page = pages.case_page(session, actor=who.actor, reference=reference, lab=lab)
    return render(request, "case.html", {"page": page}, lab=lab, who=who)


def install(app: FastAPI) -> None:
    """Pages at /, their assets at /static (from the installed package: no CDN)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(PageError, error_page)
    app.include_router(router)
