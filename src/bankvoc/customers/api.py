"""REST routes of customer segments: attrition per segment, and customer values sent as JSON."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.customers import segments

router = APIRouter(tags=["Customers"])


class AttritionRowRead(BaseModel):
    segment: str
    label: str
    customers: int = Field(description="In the segment at the start of the period")
    attrited: int = Field(description="Of them, left within the period")
    rate: float | None = Field(description="attrited ÷ customers, percent")
    complainers: int = Field(description="Complained in the 12 months before leaving / "
                                         "before the period ended")
    complainers_attrited: int
    complainers_rate: float | None
    others: int
    others_attrited: int
    others_rate: float | None


class AttritionRead(BaseModel):
    period: str
    start: date
    end: date
    org: str
    whole_bank: bool = Field(description="Every customer of the files (the root org); below "
                                         "it, the customers with a case in the org's subtree")
    unit: str
    segments: list[AttritionRowRead]
    total: AttritionRowRead


class CustomerValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40)
    id_number: str | None = Field(default=None, max_length=40)
    recency_days: int | str = Field(description="Days since the last transaction")
    frequency: int | str
    monetary: Decimal | str
    attrited_on: date | None = None


class CustomerValueImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str = Field(description="YYYY-MM", max_length=10)
    rows: list[CustomerValueIn] = Field(min_length=1, max_length=10_000)


class RejectRead(BaseModel):
    row: int = Field(description="1-based position in `rows`")
    field: str
    reason: str


class MonthRead(BaseModel):
    month: str
    stored: int
    updated: int
    unchanged: int
    rescored: int
    segments_changed: int
    by_segment: dict[str, int]


class CustomerValueImportRead(BaseModel):
    rows: int
    stored: int
    updated: int
    unchanged: int
    rescored: int
    segments_changed: int
    rejected: int
    created_customers: int
    months: list[MonthRead]
    rejects: list[RejectRead]


@router.get("/customers/segments/attrition", response_model=AttritionRead,
            responses=errors(401, 403, 404, 422))
def attrition(session: DbSession, actor: CurrentActor,
              period: Annotated[str, Query(description="2026-10, 2026-Q3, 2026 or "
                                                       "2026-10-01..2026-10-15", max_length=40)],
              org: Annotated[str | None, Query(description="Org code (default: your own org)",
                                               max_length=32)] = None,
              lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> AttritionRead:
    """Attrition per RFM segment: customers who left in the period ÷ customers in the segment
    at its start, for those who complained and for the rest."""
    report = segments.attrition(session, actor=actor, period=period, org=org, lang=lang)
    return AttritionRead.model_validate(report.as_dict())


@router.post("/customers/value-import", response_model=CustomerValueImportRead,
             responses=errors(401, 403, 422))
def value_import(session: DbSession, actor: CurrentActor,
                 body: CustomerValueImport) -> CustomerValueImportRead:
    """Customer values of one month (as the file import takes them): rows that cannot be used
    come back with their position, field and reason; the others are stored, and sending the
    same rows again changes nothing."""
    month = segments.parse_month(body.month)
    report = segments.import_rows(
        session, actor=actor, month=month,
        rows=((i, row.model_dump(exclude_none=True)) for i, row in enumerate(body.rows, 1)))
    return CustomerValueImportRead.model_validate({
        **report.as_dict(),
        "rejects": [{"row": r, "field": f, "reason": why} for r, f, why in report.rejects]})
