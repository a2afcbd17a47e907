from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
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
