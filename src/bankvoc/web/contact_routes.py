"""The contact-centre dashboard page. The route only calls `contact_pages`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bankvoc.api.deps import DbSession
from bankvoc.web import contact_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/contact")
def contact_dashboard(request: Request, session: DbSession, who: CurrentViewer,
                      lab: Lab) -> Response:
    """Headline KPIs of the period against targets and the period before, the ranking by team,
    agent or queue, and the daily trend; a bad choice is named next to its field (422)."""
    view = contact_pages.dashboard(session, actor=who.actor, params=request.query_params,
                                   lab=lab, root=str(request.scope.get("root_path", "")))
    return render(request, "contact/dashboard.html", {"view": view, "nav": "contact"},
                  lab=lab, who=who, status=view.status_code)
