"""The deadline policy: versioned configuration a bank can edit, never code.

Two families of clocks:

- statutory clocks, counted in days as the law counts them (see `calendar`): the decision told to
  the customer within 15 days, extensions up to 30 and 60 days and who may approve them, the
  periods that do not count (outside appraisal, testing, evaluation), restart on new facts, and
  for PBoC transfers the start when the customer's corrections are complete;
- the bank's own targets, tighter than the law, in calendar hours or working hours: first contact,
  response, solution, answers to feedback.

Each clock holds rules tried in the file's order; the first whose `match` fits the case decides
(kind, severity, channel, origin; a dimension left out matches anything). A rule that can never
apply because an earlier one matches every case it would is refused, so the more specific rules
come first. No rule matching means no such clock for the case (praise has none).

The shipped file is `policy.yaml` beside this module; `BANKVOC_SLA_POLICY_FILE` names a bank's
own. A bad file is refused with the line and reason of each problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bankvoc.cases.enums import CaseKind, Channel, Severity
from bankvoc.core import configstore
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import REASONS, Loc, Problem, parse_yaml, problems_found, read_text
from bankvoc.sla.enums import Origin
from bankvoc.sla.errors import PolicyError

DEFAULT_PATH = "policy.yaml"
KIND = "sla_policy"  # its kind of versioned configuration (bankvoc.core.configstore)
DECISION = "decision"

_POLICY_REASONS = {
    **REASONS,
    "string_pattern_mismatch": "{input!r} is not a valid name: use lower_snake_case, e.g. "
                               "head_office_senior_manager",
}


class _Model(BaseModel):
    # A misspelt field is an error, not silently ignored; the loaded policy is shared.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


def _origin_text(value: object) -> object:
    # YAML reads an unquoted 12378 as a number.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _clock_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60): refuse rather than guess.
    if not isinstance(value, str | dt.time):
        raise ValueError('write the time in quotes as "HH:MM", e.g. "17:00"')
    return value


def _fractions(value: list[float]) -> list[float]:
    if not value:
        raise ValueError("give at least one fraction, e.g. [0.5, 0.8]")
    if any(not 0 < f < 1 for f in value):
        raise ValueError("each fraction is between 0 and 1 (exclusive), e.g. 0.8")
    if any(b <= a for a, b in pairwise(value)):
        raise ValueError("fractions go up, e.g. [0.5, 0.8]")
    return value


OriginCode = Annotated[Origin, BeforeValidator(_origin_text)]
ClockTime = Annotated[dt.time, BeforeValidator(_clock_time)]


@dataclass(frozen=True)
class CaseFacts:
    """What decides a case's clocks."""

    kind: str
    origin: str = Origin.direct
    channel: str | None = None
    severity: str | None = None


class Match(_Model):
    """Which cases a rule is for; a dimension left out matches every case."""

    kinds: list[CaseKind] | None = Field(default=None, min_length=1)
    severities: list[Severity] | None = Field(default=None, min_length=1)
    channels: list[Channel] | None = Field(default=None, min_length=1)
    origins: list[OriginCode] | None = Field(default=None, min_length=1)

    def _dimensions(self) -> tuple[tuple[str, Sequence[str] | None], ...]:
        return (("kind", self.kinds), ("severity", self.severities),
                ("channel", self.channels), ("origin", self.origins))

    def matches(self, facts: CaseFacts) -> bool:
        for name, allowed in self._dimensions():
            if allowed is not None and getattr(facts, name) not in allowed:
                return False
        return True

    def covers(self, other: Match) -> bool:
        """Whether every case `other` matches is matched by this one too."""
        for (_, mine), (_, theirs) in zip(self._dimensions(), other._dimensions(), strict=True):
            if mine is not None and (theirs is None or not set(theirs) <= set(mine)):
                return False
        return True


class BusinessHours(_Model):
    """When working hours run on a working day (local time)."""

    start: ClockTime = dt.time(9, 0)
    end: ClockTime = dt.time(17, 0)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours end after they start, e.g. 09:00 to 17:00")
        return self


class Extension(_Model):
    """One step of extension: up to `up_to` days in all, approved by one of `approvers`.

    An empty `approvers` needs no approval beyond the handling office's own decision.
    """

    up_to: int = Field(gt=0)
    approvers: list[Name] = []
    tell_customer: bool = True


class StatutoryRule(_Model):
    id: Name
    basis: str | None = None  # the rule's legal source, shown to people
    match: Match = Match()
    days: int = Field(gt=0)
    # `corrections_complete`: when the customer must complete the complaint, the period starts
    # once they have (PBoC 2020 No. 5 art. 43); otherwise at receipt.
    starts: Literal["received", "corrections_complete"] = "received"
    extensions: list[Extension] = []
    paused_by: list[Name] = []  # pause reasons whose time is not counted
    tell_customer_of_pause: bool = True
    restart_on_new_facts: bool = False
    warn_at: list[float] | None = None

    @field_validator("warn_at")
    @classmethod
    def _check_warn_at(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else _fractions(value)

    @property
    def max_days(self) -> int:
        return self.extensions[-1].up_to if self.extensions else self.days

    def extension_step(self, total_days: int) -> Extension | None:
        """The step that allows a period of `total_days` in all (None: beyond the maximum)."""
        return next((e for e in self.extensions if total_days <= e.up_to), None)


class TargetRule(_Model):
    id: Name
    note: str | None = None
    match: Match = Match()
    minutes: int | None = Field(default=None, gt=0)
    hours: float | None = Field(default=None, gt=0)
    unit: Literal["calendar", "working"] = "calendar"
    warn_at: list[float] | None = None

    @field_validator("warn_at")
    @classmethod
    def _check_warn_at(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else _fractions(value)

    @model_validator(mode="after")
    def _one_duration(self) -> TargetRule:
        if (self.minutes is None) == (self.hours is None):
            raise ValueError("give exactly one of minutes or hours")
        return self

    @property
    def allowance(self) -> dt.timedelta:
        if self.minutes is not None:
            return dt.timedelta(minutes=self.minutes)
        assert self.hours is not None
        return dt.timedelta(hours=self.hours)


class StatutoryClock(_Model):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    rules: list[StatutoryRule] = Field(min_length=1)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class TargetClock(_Model):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    rules: list[TargetRule] = Field(min_length=1)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


EscalationTarget = Literal["handler", "team_lead", "branch_manager",
                           "head_office_consumer_protection"]


class EscalationStep(_Model):
    """One level of the escalation chain: who is told, how long after the breach."""

    to: EscalationTarget
    after_hours: float = Field(ge=0)


DEFAULT_ESCALATION = [
    EscalationStep(to="handler", after_hours=0),
    EscalationStep(to="team_lead", after_hours=24),
    EscalationStep(to="branch_manager", after_hours=72),
    EscalationStep(to="head_office_consumer_protection", after_hours=120),
]


class Policy(_Model):
    version: str = Field(min_length=1)
    effective_from: dt.date | None = None
    warn_at: list[float] = [0.5, 0.8]
    business_hours: BusinessHours = BusinessHours()
    pause_reasons: list[Name] = []
    statutory: dict[Name, StatutoryClock] = {}
    targets: dict[Name, TargetClock] = {}
    # On breach (level 1, at the due instant) and every step after it, in order.
    escalation: list[EscalationStep] = Field(default=DEFAULT_ESCALATION, min_length=1)

    @field_validator("warn_at")
    @classmethod
    def _check_warn_at(cls, value: list[float]) -> list[float]:
        return _fractions(value)

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems = list(self._problems())
        if problems:
            raise problems_found(problems)
        return self

    def _problems(self) -> Iterator[Problem]:
        for i, (before, later) in enumerate(pairwise(self.escalation), start=1):
            if later.after_hours < before.after_hours:
                yield Problem(("escalation", i, "after_hours"),
                              f"{later.after_hours} hours comes before level {i}'s "
                              f"{before.after_hours}: the chain goes up in time")
        for name in self.targets:
            if name in self.statutory:
                yield Problem(("targets", name), f"clock {name!r} is already a statutory clock; "
                                                 "give the target another name")
        clocks: list[tuple[str, str, Sequence[StatutoryRule | TargetRule]]] = [
            *(("statutory", n, c.rules) for n, c in self.statutory.items()),
            *(("targets", n, c.rules) for n, c in self.targets.items())]
        for family, name, rules in clocks:
            first: dict[str, int] = {}
            for i, rule in enumerate(rules):
                loc: Loc = (family, name, "rules", i)
                if rule.id in first:
                    yield Problem((*loc, "id"), f"duplicate rule id {rule.id!r} (first in "
                                                f"rules[{first[rule.id]}])")
                first.setdefault(rule.id, i)
                shadow = next((r for r in rules[:i] if r.match.covers(rule.match)), None)
                if shadow is not None:
                    yield Problem((*loc, "match"),
                                  f"never applies: rule {shadow.id!r} above matches every case "
                                  "this one does (put the more specific rule first)")
        known = set(self.pause_reasons)
        for name, clock in self.statutory.items():
            for i, rule in enumerate(clock.rules):
                loc = ("statutory", name, "rules", i)
                floor = rule.days
                for j, step in enumerate(rule.extensions):
                    if step.up_to <= floor:
                        yield Problem((*loc, "extensions", j, "up_to"),
                                      f"{step.up_to} days does not extend the period of "
                                      f"{floor} days before it")
                    floor = max(floor, step.up_to)
                for j, reason in enumerate(rule.paused_by):
                    if reason not in known:
                        yield Problem((*loc, "paused_by", j),
                                      f"{reason!r} is not one of pause_reasons "
                                      f"({', '.join(self.pause_reasons) or 'none given'})")

    # --- lookups ---------------------------------------------------------------------------------

    def statutory_rule(self, clock: str, facts: CaseFacts) -> StatutoryRule | None:
        found = self.statutory.get(clock)
        return None if found is None else next(
            (r for r in found.rules if r.match.matches(facts)), None)

    def target_rule(self, clock: str, facts: CaseFacts) -> TargetRule | None:
        found = self.targets.get(clock)
        return None if found is None else next(
            (r for r in found.rules if r.match.matches(facts)), None)

    def label(self, clock: str, lang: str = "zh") -> str:
        found = self.statutory.get(clock) or self.targets.get(clock)
        return clock if found is None else found.label(lang)

    def fractions(self, rule: StatutoryRule | TargetRule) -> list[float]:
        """When a rule's clock warns: its own fractions, else the policy's."""
        return rule.warn_at if rule.warn_at is not None else self.warn_at


# --- reading a file ------------------------------------------------------------------------------

def parse_policy(text: str, *, source: str = DEFAULT_PATH) -> Policy:
    """The policy in `text`, or a PolicyError naming the line and reason of each problem."""
    return parse_yaml(text, Policy, source=source, error=PolicyError, reasons=_POLICY_REASONS)


def read_policy(path: Path) -> Policy:
    """The policy in a file (UTF-8 YAML), or a PolicyError naming its problems' lines."""
    return parse_policy(read_text(path, PolicyError), source=str(path))


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, else the version activated on the admin screens, else the bank's
    own (BANKVOC_SLA_POLICY_FILE), else the shipped one; each parsed once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version)
        if active is not None:
            return active
    return _load(path or get_settings().sla_policy_file)


def _parse_version(text: str, source: str) -> Policy:
    return parse_policy(text, source=source)


@lru_cache(maxsize=8)
def _load(path: Path | None) -> Policy:
    if path is None:
        text = resources.files("bankvoc.sla").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_policy(text)
    return read_policy(path)


def clear_cache() -> None:
    """Forget loaded policies (tests, or after a bank edits its file)."""
    _load.cache_clear()

