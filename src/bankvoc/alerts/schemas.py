"""Alerts in and out of the API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class TypicalCase(BaseModel):
    reference: str
    text: str = Field(description="The masked text, at most 300 characters")


class AlertRead(BaseModel):
    id: int
    kind: str = Field(description="hot_issue, emerging_topic, mass_complaint or regulator_risk")
    dimension: str = Field(description="What was counted: category, product, org, "
                                       "org_category, topic, similar_key, wording or case")
    key: str
    org_id: int | None = Field(description="The org whose series it is; null: the whole bank")
    day: date
    observed: int
    expected: float | None
    ratio: float | None
    p_value: float | None
    score: float | None = Field(description="z of a spike, a topic's recent share, or a "
                                            "regulator-risk score (0-100)")
    label: str
    words: list[str]
    typical_cases: list[TypicalCase]
    reasons: list[str]
    status: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_note: str | None
    created_at: datetime


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(default="", max_length=2000, description="What is being done about it")


class ScanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date | None = Field(default=None, description="Local day to scan; yesterday if left out")


class ScanRead(BaseModel):
    day: date
    series_tested: int
    hot_issues: int
    emerging_topics: int
    mass_complaints: int
    regulator_risks: int
    stored: int
    notifications: int
    unreachable: int
    warnings: list[str]


class RiskRead(BaseModel):
    reference: str
    org_id: int
    status: str
    severity: str
    due_at: datetime | None
    score: int = Field(description="0-100")
    reasons: list[str]
