"""REST routes of the VOC numbers: KPIs, the cases behind them, targets, denominators."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from bankvoc.analytics import export, service
from bankvoc.analytics.kpis import REGISTRY
from bankvoc.analytics.query import BREAKDOWNS
from bankvoc.analytics.schemas import (
    KpiDefinition,
    KpiRead,
    OrgStatImport,
    TargetRead,
    TargetSet,
)
from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.cases import service as cases_service
from bankvoc.cases.schemas import CaseRead
from bankvoc.core import tables
from bankvoc.core.settings import get_settings

router = APIRouter(tags=["KPIs"])

Period = Annotated[str, Query(description="2026-10, 2026-Q3, 2026 or 2026-10-01..2026-10-15",
                              max_length=40)]
OrgCode = Annotated[str | None, Query(description="Org code (default: your own org)",
                                      max_length=32)]
Dim = Annotated[str | None, Query(max_length=40)]
Lang = Annotated[Literal["zh", "en"], Query()]
By = Annotated[str | None, Query(description=f"Break down by one of {', '.join(BREAKDOWNS)}",
                                 max_length=12)]


def _cut(channel: str | None, product: str | None, category: str | None,
         segment: str | None) -> dict[str, str | None]:
    return {"channel": channel, "product": product, "category": category, "segment": segment}


@router.get("/kpis", response_model=list[KpiDefinition], responses=errors(401))
def kpi_definitions(actor: CurrentActor, lang: Lang = "zh") -> list[KpiDefinition]:
    """Every KPI with its formula: one definition, used by screens and reports alike."""
    return [KpiDefinition(code=k.code, label=k.label(lang), formula=k.formula(lang),
                          unit=k.unit, better=k.better, kinds=list(k.kinds))
            for k in REGISTRY.values()]


@router.get("/kpis/headline", response_model=list[KpiRead], responses=errors(401, 403, 404, 422))
def headline(session: DbSession, actor: CurrentActor, period: Period, org: OrgCode = None,
             lang: Lang = "zh") -> list[KpiRead]:
    """The headline KPIs of an org subtree for a period, with change and target."""
    return [KpiRead.model_validate(figures) for figures in service.headline_figures(
        session, actor=actor, period=period, org=org, lang=lang)]


@router.get("/kpis/{kpi}", response_model=KpiRead, responses=errors(401, 403, 404, 422))
def kpi(session: DbSession, actor: CurrentActor, kpi: str, period: Period, org: OrgCode = None,
        channel: Dim = None, product: Dim = None, category: Dim = None, segment: Dim = None,
        by: By = None, lang: Lang = "zh") -> KpiRead:
    """One KPI, cut and broken down, against the previous period, the year before and its
    target."""
    report = service.kpi_report(session, actor=actor, kpi=kpi, period=period, org=org,
                                cut=_cut(channel, product, category, segment), by=by, lang=lang)
    return KpiRead.model_validate(report.as_dict(lang))


@router.get("/kpis/{kpi}/cases", response_model=list[CaseRead],
            responses=errors(401, 403, 404, 422))
def kpi_cases(session: DbSession, actor: CurrentActor, kpi: str, period: Period,
              org: OrgCode = None, channel: Dim = None, product: Dim = None,
              category: Dim = None, segment: Dim = None,
              after_id: Annotated[int | None, Query(ge=0)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CaseRead]:
    """The cases behind a figure, a page at a time (personal data masked)."""
    cases = service.drill(session, actor=actor, kpi=kpi, period=period, org=org,
                          cut=_cut(channel, product, category, segment), after_id=after_id,
                          limit=limit)
    return [cases_service.to_read(case) for case in cases]


@router.get("/kpis/{kpi}/cases.{fmt}", response_class=Response,
            responses={200: {"content": {t: {} for t in tables.MEDIA_TYPES.values()}},
                       **errors(401, 403, 404, 422)})
def kpi_cases_export(session: DbSession, actor: CurrentActor, kpi: str,
                     fmt: Literal["csv", "xlsx"], period: Period, org: OrgCode = None,
                     channel: Dim = None, product: Dim = None, category: Dim = None,
                     segment: Dim = None, lang: Lang = "zh") -> Response:
    """Every case behind a figure as CSV or XLSX: one row per case, personal data masked."""
    cases = service.drill_all(session, actor=actor, kpi=kpi, period=period, org=org,
                              cut=_cut(channel, product, category, segment))
    data = export.export(cases, fmt=fmt, lang=lang, tz=get_settings().tz, title=kpi)
    name = f"{kpi}-{period.replace('..', '_')}.{fmt}"
    return Response(content=data, media_type=tables.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.put("/kpi-targets", response_model=TargetRead, responses=errors(401, 403, 404, 422))
def set_target(session: DbSession, actor: CurrentActor, body: TargetSet) -> TargetRead:
    """Set a KPI's target for the bank or an org subtree, from a date on."""
    target = service.set_target(session, actor=actor, kpi=body.kpi, value=body.value,
                                valid_from=body.valid_from, org=body.org)
    return TargetRead(kpi=target.kpi, org=body.org, value=target.value,
                      valid_from=target.valid_from)


@router.post("/org-stats", response_model=dict[str, int], responses=errors(401, 403, 422))
def import_org_stats(session: DbSession, actor: CurrentActor,
                     body: OrgStatImport) -> dict[str, int]:
    """Customers, individual customers and outlets per org and month: the denominators."""
    stored = service.import_org_stats(
        session, actor=actor, source=body.source,
        rows=[service.StatRow(r.org, r.month, r.customers, r.individual_customers, r.outlets)
              for r in body.rows])
    return {"stored": stored}
