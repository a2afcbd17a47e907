from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bankvoc.cases.enums import CaseKind, CaseStatus, Channel, Severity
from bankvoc.sla.enums import Origin


class OrgBrief(BaseModel):
    code: str
    name: str
    name_en: str | None = None


class CustomerMasked(BaseModel):
    """Identity as screens and exports show it: masked."""

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    email: str | None = None


class CaseRead(BaseModel):
    reference: str
    kind: CaseKind
    channel: Channel
    status: CaseStatus
    severity: Severity
    sentiment: float | None
    org: OrgBrief
    product: str | None
    category: str | None
    title: str
    text: str = Field(description="The customer's words with personal data masked")
    language: str
    amount: Decimal | None
    currency: str
    customer: CustomerMasked | None
    received_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    merged_count: int
    needs_review: bool
    annotations: dict[str, Any]
    origin: str = Field(description="direct, or the regulator that transferred it")
    origin_reference: str | None
    handling_org: OrgBrief | None = Field(description="Department or branch working it")
    assignee: str | None
    first_responder: str | None = Field(description="首问负责: accountable throughout")
    transfer_count: int
    escalation_level: int
    reopen_count: int
    decision_type: str | None
    decision_amount: Decimal | None
    decision_needs_approval: bool
    paused: bool
    legal_hold: bool = Field(default=False, description="Kept past its retention period "
                                                        "while true")
    version: int
    created_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class EventRead(BaseModel):
    seq: int
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]
    hash: str


class ChainRead(BaseModel):
    ok: bool
    events: int
    broken_at_seq: int | None
    reason: str | None


class CaseFilters(BaseModel):
    status: CaseStatus | None = None
    kind: CaseKind | None = None
    channel: Channel | None = None
    severity: Severity | None = None
    product: str | None = None
    category: str | None = None
    org: str | None = Field(default=None, description="Org code: that org and its subtree")
    received_from: AwareDatetime | None = Field(
        default=None, description="Received at or after this instant (with its zone)")
    received_to: AwareDatetime | None = Field(
        default=None, description="Received before this instant (with its zone)")
    q: str | None = Field(default=None, max_length=100, description="Words in title or text")
    needs_review: bool | None = Field(
        default=None, description="Only cases whose automatic decisions await review")
    assignee: Literal["me", "none"] | None = Field(
        default=None, description="me: cases assigned to you; none: cases nobody is assigned")
    handling_org: str | None = Field(
        default=None, description="Org code: the cases that org works as their queue (a case "
                                  "not routed elsewhere is worked by its own org)")
    origin: Origin | None = Field(default=None, description="direct, or one regulator")
    from_regulator: bool | None = Field(
        default=None, description="true: only cases a regulator transferred; false: only "
                                  "direct ones")
    due_from: AwareDatetime | None = Field(
        default=None, description="Decision due at or after this instant (only cases still "
                                  "awaiting their decision)")
    due_before: AwareDatetime | None = Field(
        default=None, description="Decision due before this instant (only cases still "
                                  "awaiting their decision): now gives the overdue ones")


class AttachmentRead(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class CorrectionCreate(BaseModel):
    field: str = Field(description="product or category")
    value: str = Field(min_length=1, max_length=100,
                       description="A taxonomy code or name, e.g. credit_card / 信用卡")


class LegalHoldChange(BaseModel):
    """Place or lift a legal hold: a held case is never purged, however old."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hold: bool = Field(description="true places the hold, false lifts it")
    reason: str = Field(min_length=1, max_length=1000,
                        description="Why (a lawsuit, a regulator's inquiry, …); recorded")


class LegalHoldRead(BaseModel):
    reference: str
    legal_hold: bool
    version: int
    event_seq: int = Field(description="The timeline event that records the change")
