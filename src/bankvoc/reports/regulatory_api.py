"""REST routes of the regulatory statistics: the JR/T 0169-2018 statistics, the annual
disclosure and the dispute-resolution self-check, in the caller's org scope."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.reports import regulatory
from bankvoc.reports.regulatory_html import disclosure_html
from bankvoc.reports.regulatory_selfcheck import self_check
from bankvoc.reports.regulatory_xlsx import MEDIA_TYPE, disclosure_workbook, jrt_workbook

router = APIRouter(prefix="/reports/regulatory", tags=["regulatory statistics"])

OrgQuery = Annotated[str | None, Query(max_length=32,
                                       description="Org code (default: your own org)")]
YearQuery = Annotated[int, Query(ge=regulatory.MIN_YEAR, le=regulatory.MAX_YEAR,
                                 description="Calendar year, e.g. 2026")]


def _attachment(data: bytes, filename: str) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename)  # a header is Latin-1, no quotes
    return Response(content=data, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/jrt", responses={**errors(401, 403, 404, 422),
                               200: {"content": {MEDIA_TYPE: {}}}})
def jrt(
    session: DbSession, actor: CurrentActor,
    period: Annotated[str, Query(min_length=1, max_length=40,
                                 description="Quarter (2026-Q3), month, year or day range")],
    org: OrgQuery = None,
    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json",
) -> Any:
    """Complaints by JR/T 0169-2018 channel, business type and cause and by the regulator's
    bulletin category, per child org, with complaints per 1,000 outlets and per 10 million
    individual customers where those are imported."""
    stats = regulatory.jrt_statistics(session, actor=actor, period=period, org=org)
    if format == "xlsx":
        return _attachment(jrt_workbook(stats), f"jrt-{stats.org.code}-{stats.period.label}.xlsx")
    return stats.as_dict()


@router.get("/disclosure", responses={**errors(401, 403, 404, 422),
                                      200: {"content": {MEDIA_TYPE: {}, "text/html": {}}}})
def disclosure(
    session: DbSession, actor: CurrentActor, year: YearQuery, org: OrgQuery = None,
    format: Annotated[str, Query(pattern="^(json|html|xlsx)$")] = "json",
) -> Any:
    """The annual consumer-complaint disclosure (年度消费投诉情况)."""
    found = regulatory.annual_disclosure(session, actor=actor, year=year, org=org)
    if format == "html":
        return HTMLResponse(disclosure_html(found))
    if format == "xlsx":
        return _attachment(disclosure_workbook(found),
                           f"complaint-disclosure-{found.org.code}-{found.year}.xlsx")
    return found.as_dict()


@router.get("/self-check", responses=errors(401, 403, 404, 422))
def self_check_route(session: DbSession, actor: CurrentActor, year: YearQuery,
                     org: OrgQuery = None) -> dict[str, Any]:
    """The dispute-resolution self-check (投诉处理/纠纷化解) against the bank's lines."""
    return self_check(session, actor=actor, year=year, org=org).as_dict()
