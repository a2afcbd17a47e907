"""REST routes of the monthly VOC report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.reports import files, monthly

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/monthly", response_class=Response,
            responses={**errors(401, 403, 404, 422),
                       200: {"content": {media.split(";")[0]: {}
                                         for media in files.MEDIA_TYPES.values()},
                             "description": "The report as HTML, PDF or XLSX"}})
def monthly_report(
    session: DbSession, actor: CurrentActor,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="The month, YYYY-MM")],
    org: Annotated[str | None, Query(
        max_length=64, description="Org code (its subtree); your own org by default")] = None,
    format: Annotated[Literal["html", "pdf", "xlsx"], Query(
        description="html, pdf or xlsx")] = "html",
    lang: Annotated[Literal["zh", "en"], Query(description="zh or en")] = "zh",
    quarterly: Annotated[bool, Query(
        description="The quarterly review: the three months ending with `month`")] = False,
) -> Response:
    """The monthly Voice-of-Customer report of an org in your subtree (or its quarterly
    review), as a file; personal data masked. Another branch's report is refused (403)."""
    report = monthly.build_report(session, actor=actor, month=month, org=org,
                                  quarterly=quarterly, lang=lang)
    name = f"{files.file_stem(report)}.{format}"
    disposition = "inline" if format == "html" else "attachment"
    return Response(files.render(report, format), media_type=files.MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             "Cache-Control": "no-store"})
