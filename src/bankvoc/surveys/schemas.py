from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bankvoc.cases.enums import Channel
from bankvoc.intake.schemas import from_words
from bankvoc.intake.vocab import CHANNEL_WORDS


class CallbackResult(BaseModel):
    """What the customer said when called back."""

    model_config = ConfigDict(extra="forbid")

    reached: bool = Field(default=True, description="False: the customer could not be reached")
    csat: int | None = Field(default=None, ge=1, le=5, description="Satisfaction, 1-5")
    nps: int | None = Field(default=None, ge=0, le=10, description="Likelihood to recommend")
    solved: bool | None = Field(default=None, description="Is the problem solved?")
    comment: str = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _answered(self) -> CallbackResult:
        if self.reached and (self.csat is None or self.solved is None):
            raise ValueError("a callback that reached the customer records csat and solved")
        return self


class CallbackRead(BaseModel):
    id: int
    case: str = Field(description="Case reference")
    round: int
    status: str
    reason: str
    due_at: datetime | None
    csat: int | None
    nps: int | None
    solved: bool | None
    comment: str | None
    sentiment: float | None
    completed_at: datetime | None


class SurveyCreate(BaseModel):
    """One satisfaction answer from a touchpoint (branch visit, call, app transaction, …)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_system: str = Field(default="survey", min_length=1, max_length=64)
    source_id: str = Field(min_length=1, max_length=128, description="Makes a resend harmless")
    org: str = Field(min_length=1, max_length=32, description="Code of the org served")
    channel: Channel
    touchpoint: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    answered_at: datetime
    csat: int | None = Field(default=None, ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    solved: bool | None = None
    comment: str = Field(default="", max_length=5000)
    case: str | None = Field(default=None, max_length=24, description="Related case reference")

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> Any:
        return from_words(CHANNEL_WORDS, Channel, value, "channel")

    @model_validator(mode="after")
    def _some_answer(self) -> SurveyCreate:
        if self.csat is None and self.nps is None and self.solved is None:
            raise ValueError("a survey answer gives at least one of csat, nps or solved")
        return self


class SurveyRead(BaseModel):
    id: int
    stored: bool = Field(description="False: this source id was stored before")
