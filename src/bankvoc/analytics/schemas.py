"""What the KPI routes take and give."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class KpiDefinition(BaseModel):
    code: str
    label: str
    formula: str
    unit: str
    better: str
    kinds: list[str]


class FigureRead(BaseModel):
    value: float | None
    numerator: float
    denominator: float | None


class GroupRead(BaseModel):
    key: str
    label: str
    value: float | None
    numerator: float
    denominator: float | None
    share: float | None = Field(description="Of the total, for counts (0–1)")


class KpiRead(BaseModel):
    kpi: str
    label: str
    formula: str
    unit: str
    better: str
    period: str
    start: date
    end: date = Field(description="The first day after the period")
    org: str
    cut: dict[str, str]
    value: float | None
    numerator: float
    denominator: float | None
    previous: FigureRead | None
    change: float | None = Field(description="Against the previous period, in the KPI's unit")
    year_before: FigureRead | None
    year_change: float | None
    target: float | None
    met: bool | None
    source: str = Field(description="rollup:month, rollup:day or cases")
    by: str | None
    groups: list[GroupRead]


class TargetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kpi: str = Field(min_length=1, max_length=40)
    org: str | None = Field(default=None, description="Org code; empty for the whole bank")
    value: float
    valid_from: date


class TargetRead(BaseModel):
    kpi: str
    org: str | None
    value: float
    valid_from: date


class OrgStatRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org: str = Field(min_length=1, max_length=32)
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    customers: int | None = Field(default=None, ge=0)
    individual_customers: int | None = Field(default=None, ge=0)
    outlets: int | None = Field(default=None, ge=0)


class OrgStatImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[OrgStatRow] = Field(min_length=1, max_length=10_000)
    source: str = Field(default="api", max_length=200)
