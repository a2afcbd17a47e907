"""What a recorded visit is made of (in) and what the trend gives (out)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bankvoc.branches.enums import Result, VisitKind


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_code: str = Field(min_length=1, max_length=40)
    result: Result
    remark: str = Field(default="", max_length=1000)


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org_id: int
    kind: VisitKind
    visited_at: AwareDatetime
    answers: list[AnswerIn]
    note: str = Field(default="", max_length=5000)


@dataclass(frozen=True)
class PhotoIn:
    """An uploaded photo: its bytes and, optionally, the item it shows."""

    data: bytes
    item_code: str | None = None


@dataclass(frozen=True)
class TrendRow:
    """One outlet in one month (local time): its visits, average score (None: no scored
    visit), the visits with a failed critical item, and the findings of those visits still
    open."""

    org_id: int
    org_code: str
    org_name: str
    org_name_en: str | None
    month: str  # YYYY-MM
    visits: int
    average_score: float | None
    critical_failed: int
    open_findings: int

    def to_dict(self) -> dict[str, object]:
        return {"org": self.org_code, "month": self.month, "visits": self.visits,
                "average_score": self.average_score, "critical_failed": self.critical_failed,
                "open_findings": self.open_findings}


@dataclass(frozen=True)
class Score:
    score: float | None
    critical_failed: bool
    failed: tuple[str, ...]


