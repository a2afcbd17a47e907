from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp import service

router = APIRouter(prefix="/text", tags=["text"])


class AnalyzeRequest(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    amount: Decimal | None = Field(default=None, ge=0, description="Amount involved, CNY")


class PiiRead(BaseModel):
    type: str
    start: int
    end: int


class AnalysisRead(BaseModel):
    product: str
    category: str
    product_confidence: float
    category_confidence: float
    explanation: dict[str, list[str]] = Field(description="Per field, the words that drove it")
    severity: str
    severity_reasons: list[str]
    sentiment: float = Field(description="Polarity in [-1, 1]")
    sentiment_intensity: float
    pii: list[PiiRead] = Field(description="Character offsets, end exclusive")
    masked_text: str
    language: str
    sources: dict[str, str]


@router.post("/analyze", response_model=AnalysisRead, responses=errors(401, 422))
def analyze(session: DbSession, actor: CurrentActor, body: AnalyzeRequest) -> AnalysisRead:
    """The whole text pipeline (classify, grade, sentiment, PII) for one text; nothing stored."""
    result = service.analyzer(session, actor=actor).analyze(body.text, amount=body.amount)
    return AnalysisRead.model_validate(result.as_dict())


class TopicRead(BaseModel):
    words: list[str] = Field(description="The words that set the topic apart")
    size: int
    references: list[str] = Field(description="Typical cases")


@router.get("/topics", response_model=list[TopicRead], responses=errors(401, 403, 422))
def hot_topics(session: DbSession, actor: CurrentActor,
               days: Annotated[int, Query(ge=1, le=90)] = 7) -> list[TopicRead]:
    """Hot topics: clusters of the cases received in the last `days` days, in your scope."""
    topics = service.hot_topics(session, actor=actor, since=utcnow() - timedelta(days=days))
    return [TopicRead(words=t.words, size=t.size, references=t.references) for t in topics]


class ClusterRead(BaseModel):
    size: int = Field(description="Cases in the cluster")
    references: list[str] = Field(description="The first cases received")


@router.get("/clusters", response_model=list[ClusterRead], responses=errors(401, 403, 422))
def similar_clusters(
    session: DbSession, actor: CurrentActor,
    day: Annotated[date | None, Query(description="Local day of receipt (default today)")]
    = None,
    min_size: Annotated[int, Query(ge=2, le=10_000)] = 2,
) -> list[ClusterRead]:
    """Clusters of similar cases on one day, in your scope: the copies of one templated text
    from different customers (possible mass complaints, 群体性投诉), biggest first."""
    tz = get_settings().tz
    local = day or utcnow().astimezone(tz).date()
    since = datetime.combine(local, time.min, tzinfo=tz)
    clusters = service.similar_clusters(session, actor=actor, since=since,
                                        until=since + timedelta(days=1), min_size=min_size)
    return [ClusterRead(size=c.size, references=c.references) for c in clusters]
