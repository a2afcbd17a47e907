"""The operational service-data page. Routes only call `service_data_pages`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bankvoc.api.deps import DbSession
from bankvoc.web import service_data_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/service-data")
def service_data(request: Request, session: DbSession, who: CurrentViewer,
                 lab: Lab) -> Response:
    """The metrics of the viewer's subtree (or an org of it) for a range of months: each
    against its target, its month-on-month change, and trend charts; a bad parameter is
    named (422)."""
    view = service_data_pages.service_data(session, actor=who.actor,
                                           params=request.query_params, lab=lab,
                                           root=str(request.scope.get("root_path", "")))
    return render(request, "service_data.html", {"view": view, "nav": "service_data"},
                  lab=lab, who=who, status=view.status_code)
