"""What the problem library takes and gives (API and CLI alike)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankvoc.core.models import RowId
from bankvoc.problems.enums import ActionStatus, CauseCategory, ProblemStatus, SuggestionStatus

Line = Annotated[str, Field(max_length=2000)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
OrgCode = Annotated[str, Field(min_length=1, max_length=32)]
TaxonomyCode = Annotated[str, Field(min_length=1, max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- root causes ----------------------------------------------------------------------------------

class RootCauseIn(_In):
    """Why the case happened (溯源): the fishbone category and the 5W1H. Say which role or
    step, never a person's name or a customer's details (they are masked anyway)."""

    category: CauseCategory
    what: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="What went wrong")
    why: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="Why it went wrong: the cause itself")
    where: Line = Field(default="", description="Where: process step, system, outlet")
    when: Line = Field(default="", description="When it happens")
    who: Line = Field(default="", description="Which role or team (not a name)")
    how: Line = Field(default="", description="How it is to be fixed")


class RootCauseRead(BaseModel):
    case: str = Field(description="Case reference")
    category: CauseCategory
    what: str
    why: str
    where: str
    when: str
    who: str
    how: str
    recorded_by: str | None
    recorded_at: datetime


# --- problems -------------------------------------------------------------------------------------

class ProblemCreate(_In):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="The library's own code, e.g. P-CC-FEE-01")
    title_zh: Title
    title_en: Title | None = None
    description: str = Field(default="", max_length=5000)
    product: TaxonomyCode | None = Field(default=None, description="Taxonomy product code")
    category: TaxonomyCode | None = Field(default=None, description="Taxonomy category code")
    cause_category: CauseCategory | None = None


class ProblemUpdate(_In):
    title_zh: Title | None = None
    title_en: Title | None = None
    description: str | None = Field(default=None, max_length=5000)
    product: TaxonomyCode | None = None
    category: TaxonomyCode | None = None
    cause_category: CauseCategory | None = None
    status: ProblemStatus | None = Field(
        default=None, description="Marking it fixed tells the customers of its cases")


class ProblemBrief(BaseModel):
    id: int
    code: str
    title_zh: str
    title_en: str | None
    status: ProblemStatus


class ProblemRead(ProblemBrief):
    description: str
    product: str | None
    category: str | None
    cause_category: CauseCategory | None
    fixed_at: datetime | None
    created_at: datetime
    cases: int = Field(description="Linked cases you may see")


class ProblemPage(BaseModel):
    items: list[ProblemRead]
    total: int


class CaseLinkIn(_In):
    case: str = Field(min_length=1, max_length=24, description="Case reference")


class CaseLinkRead(BaseModel):
    problem_id: int
    case: str
    linked_by: str | None
    linked_at: datetime


class FixedRead(BaseModel):
    """A status change, and how many customers were queued a message about the fix."""

    problem: ProblemRead
    customers_told: int


class ProblemMatchRead(BaseModel):
    """A known problem a case resembles, with why: the words they share."""

    problem: ProblemBrief
    score: float = Field(description="Cosine similarity, 0-1")
    shared_words: list[str]


class RecurringRead(BaseModel):
    problem: ProblemBrief
    reasons: list[str]
    cases_since_fixed: int
    monthly: list[tuple[date, int]] = Field(description="Linked cases by month received")


class UntracedRead(BaseModel):
    """A resolved or closed complaint without a root cause (溯源 missing)."""

    case: str
    status: str
    resolved_at: datetime | None


# --- improvement actions --------------------------------------------------------------------------

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]


class ActionCreate(_In):
    title: Title
    owner: str = Field(min_length=1, max_length=64, description="Username of the owner")
    due_date: date | None = None
    status: ActionStatus = ActionStatus.planned
    started_on: date | None = Field(default=None, description="When the change went live")
    cost: Money = Field(default=Decimal(0), description="CNY")
    notes: str = Field(default="", max_length=5000)
    pilot_orgs: list[OrgCode] = Field(default_factory=list, max_length=500,
                                      description="Codes of the orgs it was piloted in")


class ActionUpdate(_In):
    title: Title | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    due_date: date | None = None
    status: ActionStatus | None = None
    started_on: date | None = None
    cost: Money | None = None
    notes: str | None = Field(default=None, max_length=5000)
    pilot_orgs: list[OrgCode] | None = Field(default=None, max_length=500)


class ActionRead(BaseModel):
    id: int
    problem_id: int
    title: str
    owner: str
    due_date: date | None
    status: ActionStatus
    started_on: date | None
    cost: Decimal
    notes: str
    pilot_orgs: list[str]
    created_at: datetime


class OutcomeRead(BaseModel):
    """One outcome's before/after and its difference in differences."""

    name: Literal["complaint_rate", "complaints", "csat", "problem_cases"]
    unit: str
    measured: bool
    pilot_before: float | None
    pilot_after: float | None
    comparison_before: float | None
    comparison_after: float | None
    did: float | None = Field(description="Pilot change minus comparison change")
    ci_low: float | None
    ci_high: float | None
    relative: float | None = Field(description="DiD as a share of the pilots' expected level")
    p_value: float | None = Field(description="Permutation p-value over orgs")
    reliable: bool
    notes: list[str]


class BenefitRead(BaseModel):
    cost: Decimal
    complaints_avoided_per_month: float | None
    complaints_avoided_per_month_ci: tuple[float, float] | None
    complaints_avoided: float | None = Field(description="Over the months measured")
    cost_per_complaint_avoided: Decimal | None
    notes: list[str]


class EffectRead(BaseModel):
    action_id: int
    problem: str
    started_on: date
    pilot_orgs: list[str]
    comparison_orgs: list[str]
    months_before: list[date]
    months_after: list[date]
    outcomes: list[OutcomeRead]
    benefit: BenefitRead
    method: str
    notes: list[str]


# --- staff suggestions ----------------------------------------------------------------------------

class SuggestionCreate(_In):
    title: Title
    text: str = Field(min_length=1, max_length=5000)
    problems: list[RowId] = Field(default_factory=list, max_length=50,
                                description="Ids of the problems it addresses")


class SuggestionReview(_In):
    status: Literal[SuggestionStatus.under_review, SuggestionStatus.adopted,
                    SuggestionStatus.rejected]
    note: str = Field(default="", max_length=2000)
    credit_points: int | None = Field(default=None, ge=0, le=1000,
                                      description="For an adopted one; default 10")

    @model_validator(mode="after")
    def _points_only_when_adopted(self) -> SuggestionReview:
        if self.credit_points and self.status != SuggestionStatus.adopted:
            raise ValueError("credit points are given only to an adopted suggestion")
        if self.status == SuggestionStatus.rejected and not self.note:
            raise ValueError("a suggestion not adopted is told why: give a note")
        return self


class SuggestionRead(BaseModel):
    id: int
    author: str
    title: str
    text: str
    status: SuggestionStatus
    problems: list[int]
    reviewer: str | None
    review_note: str | None
    reviewed_at: datetime | None
    credit_points: int
    created_at: datetime


class CreditRead(BaseModel):
    user: str
    adopted: int
    points: int
