"""Answer suggestions over HTTP: the FAQ entries most likely to answer a customer's text."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.nlp import faq_service

router = APIRouter(prefix="/text", tags=["text"])


class SuggestionRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2_000)
    k: int = Field(default=5, ge=1, le=faq_service.MAX_K, description="How many suggestions")


class SuggestionRead(BaseModel):
    question: str = Field(description="The standard question")
    answer: str
    category: str | None
    score: float = Field(description="Cosine similarity in (0, 1]; higher is closer")


@router.post("/suggestions", response_model=list[SuggestionRead],
             responses=errors(401, 403, 422))
def suggestions(session: DbSession, actor: CurrentActor,
                body: SuggestionRequest) -> list[SuggestionRead]:
    """The FAQ standard questions, with answers, most likely to answer a text; best first.

    An empty list: nothing in the knowledge base resembles the text.
    """
    found = faq_service.suggest(session, actor=actor, text=body.text, k=body.k)
    return [SuggestionRead(question=s.question, answer=s.answer, category=s.category or None,
                           score=s.score) for s in found]
