"""Pages of the QA review queue: the queue with its filters, one inspected call with its
transcript and evidence, and the inspector's decision on it. Routes only call `qa_pages`; the
form carries the session's CSRF token (`rendering.posted_form` checks it before anything is
stored).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from bankvoc.api.deps import DbSession
from bankvoc.web import qa_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/qa/reviews")
def review_queue(request: Request, session: DbSession, who: CurrentViewer,
                 lab: Lab) -> Response:
    """The inspected calls of the viewer's subtree, those waiting for an inspector first
    (filtered by status, agent, team and queue), lowest score first."""
    view = qa_pages.queue(session, actor=who.actor, params=request.query_params, lab=lab)
    return render(request, "qa/reviews.html", {"view": view, "nav": "qa"}, lab=lab, who=who,
                  status=view.status_code)


@router.get("/qa/reviews/{result_id}")
def review(request: Request, result_id: int, session: DbSession, who: CurrentViewer,
           lab: Lab) -> Response:
    """One call: its transcript with the flagged turns highlighted, the review form, the
    trail. `?reveal=1` shows the transcript unmasked to a role that may read personal data."""
    page = qa_pages.review_page(session, actor=who.actor, result_id=result_id, lab=lab,
                                params=request.query_params)
    return render(request, "qa/review.html", {"page": page, "nav": "qa"}, lab=lab, who=who)


@router.post("/qa/reviews/{result_id}")
def decide(request: Request, result_id: int, session: DbSession, who: CurrentViewer,
           lab: Lab, posted: PostedForm) -> Response:
    """Confirm or override the call's score: 303 to the call, which says so; or the page
    again, as typed, with the problem next to its field (422)."""
    page = qa_pages.decide(session, actor=who.actor, result_id=result_id, posted=posted,
                           lab=lab)
    if page is None:
        return RedirectResponse(f"{_root(request)}/qa/reviews/{result_id}?reviewed=1#trail",
                                status_code=303)
    return render(request, "qa/review.html", {"page": page, "nav": "qa"}, lab=lab, who=who,
                  status=page.status_code, page_url=f"{_root(request)}/qa/reviews/{result_id}")
