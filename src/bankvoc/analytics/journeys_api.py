"""REST routes of customer journeys: the stages, and the pain points ranked."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bankvoc.analytics import journeys
from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors

router = APIRouter(tags=["Journeys"])


class StageRead(BaseModel):
    stage: str
    label: str
    cases: int


class PainPointRead(BaseModel):
    rank: int | None = Field(description="Combined rank; none below the minimum of cases")
    stage: str
    stage_label: str
    category: str
    category_label: str
    cases: int
    severe: int = Field(description="Graded important, urgent or major")
    severity: float = Field(description="severe ÷ cases (0–1)")
    callbacks: int = Field(description="Answered callbacks with a CSAT")
    dissatisfied_callbacks: int
    low_csat_share: float | None
    negative: int = Field(description="Cases with negative sentiment")
    negative_share: float | None
    dissatisfaction: float | None
    volume_rank: int | None
    severity_rank: int | None
    dissatisfaction_rank: int | None
    score: float | None = Field(description="Weighted mean of the three ranks; lower is worse")


class PainPointsRead(BaseModel):
    period: str
    start: date
    end: date
    org: str
    journeys_version: str
    stages: list[StageRead]
    pain_points: list[PainPointRead]


@router.get("/journeys/pain-points", response_model=PainPointsRead,
            responses=errors(401, 403, 404, 422))
def pain_points(session: DbSession, actor: CurrentActor,
                period: Annotated[str, Query(description="2026-10, 2026-Q3, 2026 or "
                                                         "2026-10-01..2026-10-15",
                                             max_length=40)],
                org: Annotated[str | None, Query(description="Org code (default: your own "
                                                             "org)", max_length=32)] = None,
                lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> PainPointsRead:
    """Complaints by journey stage, and the pain points (stage × category) ranked by volume,
    severity and dissatisfaction."""
    report = journeys.pain_points(session, actor=actor, period=period, org=org, lang=lang)
    return PainPointsRead.model_validate(report.as_dict())
