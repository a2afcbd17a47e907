"""What each workflow action takes: one small model per action, told apart by `action`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from bankvoc.cases.enums import DecisionType
from bankvoc.problems.schemas import RootCauseIn

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Username = Annotated[str, Field(min_length=1, max_length=64)]
OrgCode = Annotated[str, Field(min_length=1, max_length=32)]
Reference = Annotated[str, Field(min_length=1, max_length=24)]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The case version you are looking at; a case "
                                           "changed since then is refused with 409")


class Accept(_Step):
    action: Literal["accept"]
    subject_user: Username | None = Field(default=None, description="Employee complained about")
    subject_org: OrgCode | None = Field(default=None, description="Outlet complained about")


class Refuse(_Step):
    action: Literal["refuse"]
    reason: Reason


class Assign(_Step):
    action: Literal["assign"]
    user: Username | None = Field(default=None, description="Omit to assign by load within "
                                                            "the handling org")


class Investigate(_Step):
    action: Literal["investigate"]


class Note(_Step):
    action: Literal["note"]
    kind: Literal["investigation", "dispute_focus", "finding", "basis", "evidence"] = (
        "investigation")
    text: Text


class Propose(_Step):
    action: Literal["propose"]
    decision: DecisionType
    basis: Text = Field(description="The rules, contract terms or facts the decision rests on")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    reason: Reason | None = Field(default=None, description="Required when refused")

    @model_validator(mode="after")
    def _complete(self) -> Propose:
        if self.decision in (DecisionType.refund, DecisionType.compensation) and (
                self.amount is None or self.amount <= 0):
            raise ValueError("a refund or compensation needs its amount")
        if self.decision == DecisionType.refused and not self.reason:
            raise ValueError("a refused decision needs its reason")
        return self


class Approve(_Step):
    action: Literal["approve"]
    comment: str = Field(default="", max_length=1000)


Via = Literal["phone", "sms", "letter", "email", "in_person", "wechat", "app"]


# 溯源整改: the handler traces the complaint's cause as the case is concluded; one recorded
# earlier (problems API) counts, and a new one replaces it.
ROOT_CAUSE = Field(default=None, description="The root cause (category and 5W1H); workflow.yaml "
                                             "says whether a complaint may be resolved without")


class Resolve(_Step):
    action: Literal["resolve"]
    told_via: Via
    told_at: datetime | None = Field(default=None, description="Default: now")
    summary: Text
    root_cause: RootCauseIn | None = ROOT_CAUSE


class Tell(_Step):
    action: Literal["tell"]
    via: Via
    summary: Text


class CustomerAnswer(_Step):
    action: Literal["customer_answer"]
    satisfied: bool
    comment: str = Field(default="", max_length=2000)


class Close(_Step):
    action: Literal["close"]
    root_cause: RootCauseIn | None = ROOT_CAUSE


class Archive(_Step):
    action: Literal["archive"]


class Reopen(_Step):
    action: Literal["reopen"]
    reason: Reason


class Transfer(_Step):
    action: Literal["transfer"]
    to_org: OrgCode
    reason: Reason


class AddCohandler(_Step):
    action: Literal["add_cohandler"]
    org: OrgCode
    user: Username | None = None
    due_at: datetime | None = None


class AddComplainant(_Step):
    action: Literal["add_complainant"]
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    id_number: str | None = Field(default=None, max_length=18)
    representative: bool = False

    @model_validator(mode="after")
    def _identified(self) -> AddComplainant:
        if not (self.phone or self.id_number):
            raise ValueError("a complainant needs a phone or an ID number")
        return self


class Escalate(_Step):
    action: Literal["escalate"]
    reason: Reason


class Extend(_Step):
    action: Literal["extend"]
    reason: Reason = Field(description="Why the case is complex; the customer is told")
    approved_by: Username | None = Field(
        default=None, description="Who approved a second extension (superior office or a "
                                  "head-office senior manager)")


class Pause(_Step):
    action: Literal["pause"]
    reason: Literal["appraisal", "testing", "evaluation"]
    note: str = Field(default="", max_length=1000)


class Resume(_Step):
    action: Literal["resume"]


class Merge(_Step):
    action: Literal["merge"]
    into: Reference


class Withdraw(_Step):
    action: Literal["withdraw"]
    arrived_on: date | None = Field(default=None, description="The day the withdrawal "
                                                              "arrived; default today")
    reason: str = Field(default="", max_length=1000)


class AnswerRegulator(_Step):
    """The bank's answer back to the regulator that transferred the case (NFRA, PBoC, 12378,
    12345), once the customer has been told the decision."""

    action: Literal["answer_regulator"]
    via: Literal["platform", "letter", "email", "fax", "phone"] = Field(
        description="How it was sent: the regulator's case platform, a letter, ...")
    summary: Text = Field(description="What the bank answered")
    reference: str | None = Field(default=None, max_length=64,
                                  description="The answer's reference, if the regulator gave one")


Step = Annotated[
    Accept | Refuse | Assign | Investigate | Note | Propose | Approve | Resolve | Tell
    | CustomerAnswer | Close | Archive | Reopen | Transfer | AddCohandler | AddComplainant
    | Escalate | Extend | Pause | Resume | Merge | Withdraw | AnswerRegulator,
    Field(discriminator="action"),
]

# One parser for a step given as plain data (forms, the demo, tests). mypy's view of an
# Annotated union passed as a value differs between runs with and without its cache.
STEP_ADAPTER: TypeAdapter[Step] = TypeAdapter(Step)  # type: ignore[arg-type,unused-ignore]
