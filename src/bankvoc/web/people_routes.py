"""The scorecard and training pages. Routes only call `people_pages`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bankvoc.api.deps import DbSession
from bankvoc.web import people_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/people/scorecards")
def scorecards(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The month's ranking of agents, teams, outlets or branches in the viewer's subtree, with
    one card opened (`key`); a bad parameter is named (422)."""
    view = people_pages.scorecards(session, actor=who.actor, params=request.query_params,
                                   lab=lab, root=str(request.scope.get("root_path", "")))
    return render(request, "people/scorecards.html", {"view": view, "nav": "people"},
                  lab=lab, who=who, status=view.status_code)


@router.get("/people/training")
def training(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The month's training sessions in the viewer's subtree and their pass rate against the
    target; a bad parameter is named (422)."""
    view = people_pages.training_page(session, actor=who.actor, params=request.query_params,
                                      lab=lab)
    return render(request, "people/training.html", {"view": view, "nav": "people"},
                  lab=lab, who=who, status=view.status_code)
