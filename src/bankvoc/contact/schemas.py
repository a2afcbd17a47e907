"""Interactions as the bank's speech recognition or chat platform writes them (JSON Lines).

One interaction per line: `{"id", "agent", "queue", "product", "started_at", "turns":
[{"speaker": "agent" | "customer", "start_ms", "end_ms", "text"}]}`. `id`, `agent`,
`started_at` and at least one turn are required; `queue` and `product` may be null or absent;
`follow_up` (optional) is the reference of a follow-up recorded for the call (a callback task or
a case), which keeps a promise to call back. Other keys are ignored: platforms add their own.
Turns are read in the order given, which is the order of their `start_ms` on every platform
seen; `turn` in a result is the 0-based index into `turns`.

A line that is not such an object is a `LineError`: its 1-based line number, the field (as
`turns[3].end_ms`) and the reason; the id too when it could be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bankvoc.core.yamlfile import loc_path

Speaker = Literal["agent", "customer"]


class Turn(BaseModel):
    """One speaker's stretch of talk, milliseconds from the start of the call."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    speaker: Speaker
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    text: str

    @model_validator(mode="after")
    def _ordered(self) -> Turn:
        if self.end_ms < self.start_ms:
            raise ValueError(f"end_ms ({self.end_ms}) is before start_ms ({self.start_ms})")
        return self


class Interaction(BaseModel):
    """One call or chat with its transcript."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    agent: str = Field(min_length=1, max_length=200)
    queue: str | None = None
    product: str | None = None
    started_at: datetime
    turns: tuple[Turn, ...] = Field(min_length=1)
    follow_up: str | None = None


@dataclass(frozen=True)
class LineError:
    """A line that is not an interaction: where, which field, why."""

    line: int
    field: str | None
    reason: str
    id: str | None = None

    def describe(self) -> str:
        where = f"line {self.line}" + (f" ({self.id})" if self.id else "")
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """The object a JSON Lines output holds in the line's place."""
        return {"id": self.id, "line": self.line,
                "error": {"field": self.field, "reason": self.reason}}


def parse_line(raw: bytes | str, line: int) -> Interaction | LineError:
    """The interaction on one line of a JSON Lines file, or why it is not one (its first
    problem, which is what a person fixes first)."""
    try:
        return Interaction.model_validate_json(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        if error["type"] == "json_invalid":
            return LineError(line, None, f"not valid JSON ({error['ctx']['error']})")
        if not loc and error["type"] == "model_type":
            return LineError(line, None, "not a JSON object")
        message = str(error["msg"]).removeprefix("Value error, ")
        return LineError(line, loc_path(loc) or None, message, _id_of(raw))


def _id_of(raw: bytes | str) -> str | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None
