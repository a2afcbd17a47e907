"""Pages of outlet inspections: the visits and the per-outlet trend, the visit form (with
photos, so posted as multipart), one visit with its findings, closing a finding, and a visit's
photos. Routes only call `branch_pages`; the forms carry the session's CSRF token
(`rendering.posted_form` checks it before anything is stored).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from bankvoc.api.deps import DbSession
from bankvoc.branches import photos as photo_store
from bankvoc.branches import service as branch_service
from bankvoc.web import branch_pages
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PHOTO_FIELD = "photos"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


async def photo_uploads(request: Request) -> list[bytes]:
    """The photos posted with the form (at most one byte over the limit is read of each, so
    an oversized photo is refused by the service without being read whole)."""
    form = await request.form()
    found = []
    for name, value in form.multi_items():
        if name == PHOTO_FIELD and isinstance(value, UploadFile) and value.filename:
            data = await value.read(photo_store.MAX_BYTES + 1)
            if data:
                found.append(data)
    return found


Photos = Annotated[list[bytes], Depends(photo_uploads)]


@router.get("/branches/inspections")
def inspections(request: Request, session: DbSession, who: CurrentViewer,
                lab: Lab) -> Response:
    """The visits in the viewer's scope (filtered by org subtree, kind and months) and the
    per-outlet monthly trend of the same selection."""
    view = branch_pages.visit_list(session, actor=who.actor, params=request.query_params,
                                   lab=lab)
    return render(request, "branches/inspections.html", {"view": view, "nav": "branches"},
                  lab=lab, who=who, status=view.status_code)


@router.get("/branches/inspections/new")
def new_inspection(request: Request, session: DbSession, who: CurrentViewer,
                   lab: Lab) -> Response:
    form = branch_pages.visit_form(session, actor=who.actor, lab=lab)
    return render(request, "branches/new.html", {"form": form, "nav": "branches"}, lab=lab,
                  who=who)


@router.post("/branches/inspections/new")
def record_inspection(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                      posted: PostedForm, photos: Photos) -> Response:
    """Record the visit: 303 to its page; or the form again, as typed, with the problem next to
    its field (422, or the service's status)."""
    created, form = branch_pages.record(session, actor=who.actor, posted=posted,
                                        photos=photos, lab=lab)
    if created is not None:
        return RedirectResponse(f"{_root(request)}/branches/inspections/{created}?recorded=1",
                                status_code=303)
    return render(request, "branches/new.html", {"form": form, "nav": "branches"}, lab=lab,
                  who=who, status=form.status,
                  page_url=f"{_root(request)}/branches/inspections/new")


@router.get("/branches/inspections/{inspection_id}")
def inspection(request: Request, inspection_id: int, session: DbSession, who: CurrentViewer,
               lab: Lab) -> Response:
    page = branch_pages.visit_page(session, actor=who.actor, inspection_id=inspection_id,
                                   lab=lab, params=request.query_params)
    return render(request, "branches/inspection.html", {"page": page, "nav": "branches"},
                  lab=lab, who=who)


@router.post("/branches/inspections/{inspection_id}/findings/{finding_id}/close")
def close_finding(request: Request, inspection_id: int, finding_id: int, session: DbSession,
                  who: CurrentViewer, posted: PostedForm) -> RedirectResponse:
    """Close a finding: 303 to the visit, which says so. A finding closed already is the 409
    page, another subtree's the 404 page."""
    branch_pages.close_finding(session, actor=who.actor, inspection_id=inspection_id,
                               finding_id=finding_id)
    return RedirectResponse(f"{_root(request)}/branches/inspections/{inspection_id}"
                            f"?closed={finding_id}#findings", status_code=303)


@router.get("/branches/photos/{photo_id}")
def photo(photo_id: int, session: DbSession, who: CurrentViewer) -> Response:
    """A photo of a visit in the viewer's scope, as the image type its bytes were found to
    be."""
    found, data = branch_service.get_photo(session, actor=who.actor, photo_id=photo_id)
    return Response(content=data, media_type=found.content_type,
                    headers={"X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})
