"""A case on its way through the intake pipeline, and what the pipeline knows while it runs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bankvoc.core.jsonutil import canonical_json
from bankvoc.customers.service import ProtectedIdentity
from bankvoc.intake.schemas import CaseCreate


@dataclass(frozen=True)
class Annotation:
    """An automatic decision: its value, how sure, why, and which stage version made it."""

    value: Any
    confidence: float
    reason: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "confidence": self.confidence, "reason": self.reason,
                "source": self.source}


class Outcome:
    NEW = "accepted"
    MERGED = "merged"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass
class Draft:
    row: int
    raw: dict[str, Any]
    content_hash: str = ""
    data: CaseCreate | None = None
    # Set by the stages, in pipeline order.
    source_system: str = ""
    source_id: str = ""
    outcome: str = Outcome.NEW
    existing_case_id: int | None = None
    # The stored row joined another case rather than creating one.
    existing_was_merged: bool = False
    kind: str = ""
    channel: str = ""
    received_at: datetime | None = None
    received_at_given: bool = False
    text: str = ""
    title: str = ""
    language: str = "zh"
    text_hash: str = ""
    text_masked: str = ""
    # The same for every copy of a templated text (see nlp.similarity.template_key).
    similar_key: str = ""
    text_enc: str = ""
    amount: Decimal | None = None
    identity: ProtectedIdentity | None = None
    customer_id: int | None = None
    customer_key: str | None = None
    merge_into_case_id: int | None = None
    merge_into_draft: Draft | None = None
    org_id: int | None = None
    # Routing: the department or queue that works the case (None: the org it belongs to).
    handling_org_id: int | None = None
    origin: str = "direct"
    origin_reference: str | None = None
    product: str | None = None
    category: str | None = None
    severity: str = "general"
    sentiment: float | None = None
    # Severity given with the record: context (repeats, mass complaints) never overrides it.
    severity_given: bool = False
    due_at: datetime | None = None
    annotations: dict[str, Annotation] = field(default_factory=dict)
    # What a stage's batch step worked out for this draft (e.g. a trained model's decision),
    # for the stage itself to use; never stored.
    prepared: dict[str, Any] = field(default_factory=dict)
    error_field: str | None = None
    error: str | None = None
    rejected: bool = False
    # Filled in at persist time.
    case_id: int | None = None
    reference: str | None = None

    @property
    def done(self) -> bool:
        """Rejected or already stored as it is: later stages leave it alone."""
        return self.rejected or self.outcome == Outcome.UNCHANGED

    def reject(self, field_name: str, reason: str) -> None:
        self.error_field, self.error, self.rejected = field_name, reason, True
        self.outcome = Outcome.REJECTED

    def annotate(self, name: str, annotation: Annotation) -> None:
        self.annotations[name] = annotation

    def shed(self) -> Draft:
        """Drop what only the database-free stages need (the raw row, the parsed input and the
        plain text), so a worker process sends back less."""
        self.raw, self.data, self.text, self.prepared = {}, None, "", {}
        return self


def new_draft(row: int, raw: dict[str, Any]) -> Draft:
    """A draft for one source record; its content hash is what makes a re-run a no-op."""
    return Draft(row=row, raw=raw, content_hash=hashlib.sha256(canonical_json(raw)).hexdigest())
