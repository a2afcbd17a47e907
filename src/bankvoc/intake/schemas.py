"""What a case looks like on the way in (API body, file row after header mapping) and out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankvoc.cases.enums import CaseKind, Channel, Severity
from bankvoc.customers import masking
from bankvoc.intake import parsing
from bankvoc.intake.vocab import CHANNEL_WORDS, KIND_WORDS, ORIGIN_WORDS, SEVERITY_WORDS
from bankvoc.sla.enums import Origin

# Hard ceiling for the schema; the configured limit (BANKVOC_TEXT_MAX_CHARS) is checked on top.
TEXT_HARD_LIMIT = 200_000

def from_words(words: dict[str, Any], enum: type, value: Any, what: str) -> Any:
    if isinstance(value, enum):
        return value
    text = parsing.clean_text(value)
    found = words.get(text) or words.get(text.lower())
    if found is not None:
        return found
    try:
        return enum(text.lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
        raise ValueError(
            f"unknown {what} {text!r}; use one of {allowed} or its Chinese name") from None


class CaseCreate(BaseModel):
    """A case to register. Field names are the canonical names file headers map to."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid",
                              coerce_numbers_to_str=True)

    text: str = Field(min_length=1, max_length=TEXT_HARD_LIMIT,
                      description="What the customer said or wrote")
    kind: CaseKind = CaseKind.complaint
    channel: Channel | None = None
    received_at: datetime | None = Field(
        default=None, description="When the bank received it; local time if no zone is given")
    title: str | None = Field(default=None, max_length=200)
    customer_name: str | None = Field(default=None, max_length=100)
    customer_phone: str | None = Field(default=None, max_length=40)
    customer_id_number: str | None = Field(default=None, max_length=40)
    customer_email: str | None = Field(default=None, max_length=254,
                                       description="The customer's e-mail address")
    amount: Decimal | None = Field(default=None, description="Amount involved, CNY")
    org: str | None = Field(default=None, max_length=200,
                            description="Code or name of the org the case belongs to")
    product: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    severity: Severity | None = None
    origin: Origin = Field(default=Origin.direct, description="direct, or the regulator that "
                           "transferred the complaint (nfra, pboc, 12378, 12345)")
    origin_reference: str | None = Field(default=None, max_length=64,
                                         description="The transferring regulator's reference")
    source_system: str | None = Field(default=None, max_length=64)
    source_id: str | None = Field(default=None, max_length=128)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return from_words(KIND_WORDS, CaseKind, value, "kind") if value not in (None, "") \
            else CaseKind.complaint

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> Any:
        return None if value in (None, "") else from_words(CHANNEL_WORDS, Channel, value,
                                                            "channel")

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return None if value in (None, "") else from_words(SEVERITY_WORDS, Severity, value,
                                                            "severity")

    @field_validator("origin", mode="before")
    @classmethod
    def _origin(cls, value: Any) -> Any:
        return Origin.direct if value in (None, "") else from_words(ORIGIN_WORDS, Origin,
                                                                     value, "origin")

    @field_validator("received_at", mode="before")
    @classmethod
    def _received_at(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            return parsing.parse_datetime(value)
        except parsing.ParseError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            return parsing.parse_amount(value)
        except parsing.ParseError as exc:
            raise ValueError(str(exc)) from None

    # Phone, ID number (with its checksum) and e-mail address: the customers feature's rule,
    # the same one that checks a complainant added to a case.
    @field_validator("customer_phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        return None if value in (None, "") else masking.clean_phone(parsing.clean_text(value))

    @field_validator("customer_id_number", mode="before")
    @classmethod
    def _id_number(cls, value: Any) -> Any:
        return None if value in (None, "") else masking.clean_id_number(
            parsing.clean_text(value))

    @field_validator("customer_email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        return None if value in (None, "") else masking.clean_email(parsing.clean_text(value))

    @field_validator("org", "source_id", mode="before")
    @classmethod
    def _identifier(cls, value: Any) -> Any:
        """Spreadsheets hold codes and ids as numbers: 1001.0 is the id "1001"."""
        if value is None:
            return None
        if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
            return parsing.clean_text(value) or None
        return value


CANONICAL_FIELDS: tuple[str, ...] = tuple(CaseCreate.model_fields)


class IntakeOutcome(BaseModel):
    """What became of one submitted record."""

    row: int
    outcome: str = Field(description="accepted | merged | updated | unchanged | rejected")
    reference: str | None = None
    field: str | None = None
    reason: str | None = None
