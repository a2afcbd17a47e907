"""Quality-inspection rule sets (质检规则): a versioned YAML file, checked and compiled once.

A rule set names its `version` and a list of rules. Each rule has an `id`, a `category` (one of
`CATEGORIES`, what reports and training needs group by), a `weight` (points it takes off the
score of 100, at most `max_hits` times per call) and a `check`, which says what it looks at:


- `required`: no agent turn in `scope` says `match` (the first agent turn, the last
  `last_turns` agent turns, or any agent turn); with `products` / `mentions` it applies only to
  calls about those.
- `required_before`: an agent turn says `trigger` (account details) before any agent turn said
  `match` (an identity check).
- `forbidden`: an agent turn says `match` (not inside an `unless` exception).
- `silence`: more than `seconds` of dead air before an agent turn (`speaker: any`: before any
  turn), unless the agent's turn before announced a hold (`hold`) and it lasted at most
  `hold_seconds`.
- `interruption`: an agent turn starts while the customer is speaking and overlaps them more
  than `seconds`.
- `speech_rate`: an agent turn of at least `min_chars` characters is spoken outside
  `min_cpm`–`max_cpm` characters a minute.
- `emotion`: the customer's mood (`contact.emotion`: the project's sentiment lexicon and the
  anger customers voice on the phone; a problem merely told counts half) over the last `window`
  customer turns is at most `end_at_most` and at least `drop` below the first `window`, which
  was at least `start_at_least` (a customer upset from the first words has not worsened).
- `promise`: an agent turn promises (`match`: 我帮您查一下, 稍后给您回电) and no later agent turn
  keeps it (`kept_by`), nor (with `record_keeps`) a follow-up record on the call.

Besides its rules, a set says which inspected calls go to a human inspector (`review`): a
score below `threshold` (60 by default), a hit in one of `categories` (risk_disclosure,
forbidden_phrase and emotion by default), or a broken `critical` rule.

Wording is given as `phrases` (said literally) and `patterns` (Python regular expressions, for
variants: `工号\\s*\\d+`, `身份证.{0,4}后[四4]位`), in one mapping per list (`match`, `unless`,
`trigger`, `kept_by`, `hold`, `mentions`). Agent turns are searched joined by a newline, so a
pattern that should stay within one turn must not match `\\n` (`[^，。？！\\n]` rather than `.`
with DOTALL, which is off). An `unless` exception cancels the phrases it contains or starts
before (不是没办法, 您不知道…的话): both are one regular expression tried left to right, the
exception first.

A bad file is refused with every problem's line and reason (`QaRulesError`), as the taxonomy is.
The parsed `RuleSet` is plain immutable data (pickled as it is to the worker processes of a
batch); `inspection` compiles each rule's expressions once per process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from bankvoc.core import configstore
from bankvoc.core.yamlfile import (
    REASONS,
    Problem,
    YamlFileError,
    parse_yaml,
    problems_found,
    read_yaml,
    reason,
)

DEFAULT_PATH = "qa_rules.yaml"
KIND = "qa_rules"  # its kind of versioned configuration (bankvoc.core.configstore)

CATEGORIES: tuple[str, ...] = (
    "greeting", "identity_check", "closing", "risk_disclosure", "forbidden_phrase", "silence",
    "interruption", "speech_rate", "emotion", "promise",
)
Category = Literal[
    "greeting", "identity_check", "closing", "risk_disclosure", "forbidden_phrase", "silence",
    "interruption", "speech_rate", "emotion", "promise",
]

_REASONS = {
    **REASONS,
    "string_pattern_mismatch": "{input!r} is not a valid id: use lower_snake_case, e.g. "
                               "greeting_first_turn",
}


class QaRulesError(YamlFileError):
    """A rule-set file refused; `problems` holds every problem found, in the file's order."""

    code = "qa_rules_invalid"
    default_field = "rules"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Lexicon(_Model):
    """Wording to look for: literal `phrases` and regular-expression `patterns`."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @field_validator("phrases")
    @classmethod
    def _no_blank_phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not p for p in value):
            raise ValueError("phrases must not be blank")
        return value

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, pattern in enumerate(value):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {i + 1} ({pattern!r}) is not a regular expression: "
                                 f"{exc}") from None
            if compiled.search("") is not None:
                raise ValueError(f"pattern {i + 1} ({pattern!r}) matches empty text, so it "
                                 "would match everywhere")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Lexicon:
        if not self.phrases and not self.patterns:
            raise ValueError("give at least one of phrases or patterns")
        return self

    def source(self) -> str:
        """One alternation of every phrase and pattern, longest phrases first."""
        phrases = sorted(self.phrases, key=len, reverse=True)
        return "|".join([*(re.escape(p) for p in phrases), *(f"(?:{p})" for p in self.patterns)])

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.source())


def guarded(match: Lexicon, unless: Lexicon | None) -> re.Pattern[str]:
    """`match`, with the exceptions tried first as the group `x` (a hit is the group `m`)."""
    if unless is None:
        return re.compile(f"(?P<m>{match.source()})")
    return re.compile(f"(?P<x>{unless.source()})|(?P<m>{match.source()})")


class _Rule(_Model):
    """What every rule has."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Category
    weight: int = Field(ge=0, le=100)
    max_hits: int = Field(default=1, ge=1, le=100)
    critical: bool = False
    title: str = ""


class RequiredRule(_Rule):
    check: Literal["required"]
    match: Lexicon
    scope: Literal["first_agent_turn", "last_agent_turns", "agent"] = "agent"
    last_turns: int = Field(default=2, ge=1)
    products: tuple[str, ...] = ()
    mentions: Lexicon | None = None


class RequiredBeforeRule(_Rule):
    check: Literal["required_before"]
    match: Lexicon
    trigger: Lexicon

    def regex(self) -> re.Pattern[str]:
        """One expression: a turn may say both, and which comes first in it counts."""
        return re.compile(f"(?P<m>{self.match.source()})|(?P<t>{self.trigger.source()})")


class ForbiddenRule(_Rule):
    check: Literal["forbidden"]
    match: Lexicon
    unless: Lexicon | None = None
    speaker: Literal["agent"] = "agent"


class SilenceRule(_Rule):
    check: Literal["silence"]
    seconds: float = Field(default=10.0, gt=0)
    speaker: Literal["agent", "any"] = "agent"
    hold: Lexicon | None = None
    hold_seconds: float = Field(default=60.0, gt=0)


class InterruptionRule(_Rule):
    check: Literal["interruption"]
    seconds: float = Field(default=1.0, gt=0)


class SpeechRateRule(_Rule):
    check: Literal["speech_rate"]
    min_cpm: float = Field(default=120.0, ge=0)
    max_cpm: float = Field(default=320.0, gt=0)
    min_chars: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _band(self) -> SpeechRateRule:
        if self.min_cpm >= self.max_cpm:
            raise ValueError(f"min_cpm ({self.min_cpm:g}) must be below max_cpm "
                             f"({self.max_cpm:g})")
        return self


class EmotionRule(_Rule):
    check: Literal["emotion"]
    window: int = Field(default=2, ge=1)
    drop: float = Field(default=0.4, gt=0, le=2)
    end_at_most: float = Field(default=-0.3, ge=-1, le=1)
    start_at_least: float = Field(default=-1.0, ge=-1, le=1)
    min_turns: int = Field(default=3, ge=2)


class PromiseRule(_Rule):
    check: Literal["promise"]
    match: Lexicon
    kept_by: Lexicon
    unless: Lexicon | None = None
    record_keeps: bool = False


Rule = Annotated[
    RequiredRule | RequiredBeforeRule | ForbiddenRule | SilenceRule | InterruptionRule
    | SpeechRateRule | EmotionRule | PromiseRule,
    Field(discriminator="check"),
]
CHECKS: dict[str, type[_Rule]] = {
    "required": RequiredRule, "required_before": RequiredBeforeRule, "forbidden": ForbiddenRule,
    "silence": SilenceRule, "interruption": InterruptionRule, "speech_rate": SpeechRateRule,
    "emotion": EmotionRule, "promise": PromiseRule,
}


class ReviewPolicy(_Model):
    """Which inspected calls go to a human inspector (质检复核): a score below `threshold`, a
    hit in one of the `categories`, or a broken rule marked `critical`."""

    threshold: int = Field(default=60, ge=0, le=101)
    categories: tuple[Category, ...] = ("risk_disclosure", "forbidden_phrase", "emotion")


class RuleSet(_Model):
    """A versioned set of rules; `version` goes with every result scored by it. `review` says
    which results are queued for a person."""

    version: int = Field(ge=1)
    name: str = Field(default="default", min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    review: ReviewPolicy = ReviewPolicy()

    PASS: ClassVar[int] = 100

    @model_validator(mode="wrap")
    @classmethod
    def _by_check(cls, data: Any, handler: ModelWrapValidatorHandler[RuleSet]) -> RuleSet:
        """Each rule validated as its `check` says, its problems located inside the rule, and
        reported with the file's other problems.

        (pydantic's discriminated union would put the check's name in every location, which
        then no longer leads to the line of the field.)"""
        problems: list[Problem] = []
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            rules, problems = _rules(data["rules"])
            data = {**data, "rules": rules}
        try:
            parsed = handler(data)
        except ValidationError as exc:
            problems += [Problem(tuple(e["loc"]), reason(e, _REASONS)) for e in exc.errors()
                         if not (problems and tuple(e["loc"]) == ("rules",))]
        if problems:
            raise problems_found(problems)
        return parsed

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        first: dict[str, int] = {}
        problems = []
        for i, rule in enumerate(self.rules):
            if rule.id in first:
                problems.append(Problem(("rules", i, "id"), f"duplicate rule id {rule.id!r} "
                                                            f"(first at rules[{first[rule.id]}])"))
            first.setdefault(rule.id, i)
        if problems:
            raise problems_found(problems)
        return self

    def rule(self, rule_id: str) -> Rule:
        found = next((r for r in self.rules if r.id == rule_id), None)
        if found is None:
            raise KeyError(rule_id)
        return found

    def categories(self) -> Iterator[str]:
        """The categories this set checks, in `CATEGORIES` order."""
        present = {r.category for r in self.rules}
        return (c for c in CATEGORIES if c in present)


def _rules(raw: list[Any]) -> tuple[list[Any], list[Problem]]:
    """The rules that are valid (anything not a mapping left for pydantic to refuse), and the
    problems of the others."""
    problems: list[Problem] = []
    rules: list[Any] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            rules.append(item)
            continue
        check = item.get("check")
        model = CHECKS.get(check) if isinstance(check, str) else None
        if model is None:
            why = ("is required but missing" if check is None else
                   f"{check!r} is not a check (known: {', '.join(CHECKS)})")
            problems.append(Problem(("rules", i, "check"), why))
            continue
        try:
            rules.append(model.model_validate(item))
        except ValidationError as exc:
            problems += [Problem(("rules", i, *e["loc"]), reason(e, _REASONS))
                         for e in exc.errors()]
    return rules, problems


# --- reading a file ------------------------------------------------------------------------------

def parse_ruleset(text: str, *, source: str = DEFAULT_PATH) -> RuleSet:
    """The rule set in `text`, or a QaRulesError naming the line and reason of each problem."""
    return parse_yaml(text, RuleSet, source=source, error=QaRulesError, reasons=_REASONS)


def read_ruleset(path: Path) -> RuleSet:
    """The rule set in a file (UTF-8 YAML), or a QaRulesError naming its problems' lines."""
    return read_yaml(path, RuleSet, error=QaRulesError, reasons=_REASONS)


def load_ruleset(path: Path | None = None) -> RuleSet:
    """The rule set in `path`, else the version activated on the admin screens (in this
    process's view, `configstore`), else the shipped default; each parsed once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version)
        if active is not None:
            return active
    return _load(path)


def _parse_version(text: str, source: str) -> RuleSet:
    return parse_ruleset(text, source=source)


@lru_cache(maxsize=8)
def _load(path: Path | None) -> RuleSet:
    if path is None:
        text = resources.files("bankvoc.contact").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_ruleset(text)
    return read_ruleset(path)
