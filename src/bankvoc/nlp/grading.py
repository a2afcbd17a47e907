"""Severity (一般/重要/紧急/重大) from explainable rules; every grade carries its reasons.

What raises a case, and how far, is configuration (`grading.yaml`, versioned): the amount
involved, threats to go to the regulator, media, court or police, vulnerable customers (age from
the ID number or stated, disability, the elderly), a repeat complaint within 30 days, many similar
complaints in a day (a possible mass complaint, 群体性投诉) and strong negative emotion. Each rule
that applies adds a short English phrase with its evidence, e.g. "threatens to escalate outside
the bank (12378)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bankvoc.core import configstore
from bankvoc.core.errors import Invalid

VERSION = 2

SEVERITIES = ("general", "important", "urgent", "major")
Severity = Literal["general", "important", "urgent", "major"]


class GradingRulesError(Invalid):
    code = "grading_rules_invalid"


# --- the file ------------------------------------------------------------------------------------

class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    reason: str = Field(min_length=1)


class AmountTier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at_least: Decimal = Field(gt=0)
    severity: Severity


class AmountRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1)
    tiers: list[AmountTier] = Field(min_length=1)


class SignalRule(_Rule):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    words: list[str] = []
    english: list[str] = []
    numbers: list[str] = []

    @field_validator("words", "english", "numbers")
    @classmethod
    def _no_blanks(cls, value: list[Any]) -> list[str]:
        cleaned = [str(v).strip() for v in value]
        if any(not v for v in cleaned):
            raise ValueError("must not hold blank entries")
        return cleaned

    @field_validator("words")
    @classmethod
    def _latin_words_are_english(cls, value: list[str]) -> list[str]:
        latin = [w for w in value if re.search(r"[A-Za-z]", w)]
        if latin:
            raise ValueError(f"{', '.join(latin)}: words with Latin letters belong under "
                             "'english' (matched as whole words only)")
        return value

    @field_validator("numbers")
    @classmethod
    def _numbers_are_digits(cls, value: list[str]) -> list[str]:
        if not all(v.isdigit() for v in value):
            raise ValueError("numbers must be digits only")
        return value


class AgeRule(_Rule):
    at_least: int = Field(gt=0, lt=150)


class RepeatRule(_Rule):
    within_days: int = Field(gt=0)


class SimilarRule(_Rule):
    at_least: int = Field(gt=1)


class SentimentRule(_Rule):
    at_most: float = Field(ge=-1, le=1)


class GradingConfig(BaseModel):
    """The contents of a grading file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    amount: AmountRule
    signals: list[SignalRule] = []
    age: AgeRule
    repeat: RepeatRule
    similar_today: SimilarRule
    sentiment: SentimentRule

    @field_validator("signals")
    @classmethod
    def _unique_names_and_words(cls, value: list[SignalRule]) -> list[SignalRule]:
        for what, items in (("signal name", [s.name for s in value]),
                            ("word", [w.lower() for s in value
                                      for w in (*s.words, *s.english, *s.numbers)])):
            dupes = sorted({n for n in items if items.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}(s) listed twice: {', '.join(dupes)}")
        return value


DEFAULT_PATH = "grading.yaml"
KIND = "grading"  # its kind of versioned configuration (bankvoc.core.configstore)


def parse_grading_config(text: str, *, source: str = DEFAULT_PATH) -> GradingConfig:
    """The rules in `text`, or GradingRulesError naming the line and the reason."""
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise GradingRulesError(f"{source}{where}: not valid YAML ({exc})",
                                field="grading") from None
    duplicate = _duplicate_key(tree)
    if duplicate is not None:
        raise GradingRulesError(f"{source} line {duplicate[1]}: {duplicate[0]!r} is given twice",
                                field="grading")
    try:
        return GradingConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "the file"
        line = _line_of(tree, first["loc"])
        where = f" line {line}" if line is not None else ""
        raise GradingRulesError(f"{source}{where}: {path}: {first['msg']}",
                                field="grading") from None


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest part of `loc` that the file has (a key's own line; for a missing
    key, its parent's)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            node, line = pair[1], pair[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_key(node: yaml.Node | None) -> tuple[str, int] | None:
    """A key given twice in one mapping (YAML would silently keep the last), with its line."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, _ in node.value:
            if key.value in seen:
                return str(key.value), key.start_mark.line + 1
            seen.add(key.value)
        children: list[yaml.Node] = [v for _, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        return None
    return next((d for d in map(_duplicate_key, children) if d is not None), None)


# --- the rules in force --------------------------------------------------------------------------

# A stated age: 78岁, 78周岁; 70-year-old, 70 years old, aged 70.
_ZH_AGE = re.compile(r"([0-9]{2,3})\s*周?岁")
_EN_AGE = re.compile(r"([0-9][0-9]{1,2})[- ]years?[- ]old\b")
_EN_AGED = re.compile(r"aged\s+([0-9]{2,3})\b")


class GradingRules:
    """The grading rules in force, compiled for speed.

    `GradingRules()` gives the shipped rules (`grading.yaml` in this package);
    `load_grading_rules(path)` a bank's own file.

    A text is read with a few C-speed scans rather than one big case-insensitive regular
    expression, which tries every alternative at every position (360 µs on a 1,000-character
    CFPB narrative; these scans take about a sixth of that): one alternation of the plain words
    (Chinese), one of the numbers (then checked to be whole), and the set of the text's Latin
    words that begin as a listed one does; each hit is looked up in a table of which signal owns
    it.
    """

    def __init__(self, config: GradingConfig | None = None) -> None:
        self.config = config if config is not None else load_grading_config()
        self.version = self.config.version
        self.tiers = sorted(self.config.amount.tiers, key=lambda t: t.at_least, reverse=True)
        self.signals = {s.name: s for s in self.config.signals}
        self.word_owner = {w: s.name for s in self.config.signals for w in s.words}
        self.number_owner = {n: s.name for s in self.config.signals for n in s.numbers}
        # (first word, whole phrase as a pattern or None for a single word, as listed, owner)
        self.english = [(w.lower().split()[0], _phrase(w), w, s.name)
                        for s in self.config.signals for w in s.english]
        self.latin_words = frozenset(first for first, *_ in self.english)
        self.latin_runs = _latin_runs(self.latin_words)
        self.words_pattern = _literals(self.word_owner)
        # An ASCII text (most English ones) can only hold the ASCII words: usually none.
        self.ascii_words_pattern = _literals(w for w in self.word_owner if w.isascii())
        self.numbers_pattern = _literals(self.number_owner)

    def signal_hits(self, text: str) -> dict[str, str]:
        """Each signal found in `text`, with its evidence: the first of its words in the text
        (English: the first listed word the text has)."""
        hits: dict[str, str] = {}
        words_pattern = self.ascii_words_pattern if text.isascii() else self.words_pattern
        if words_pattern is not None:
            for match in words_pattern.finditer(text):
                hits.setdefault(self.word_owner[match.group()], match.group())
        if self.numbers_pattern is not None:
            for match in self.numbers_pattern.finditer(text):
                if _whole_number(text, *match.span()):
                    hits.setdefault(self.number_owner[match.group()], match.group())
        if self.english:
            lower = text.lower()
            tokens = (self.latin_words.intersection(self.latin_runs.findall(lower))
                      if self.latin_runs is not None else frozenset())
            for first, phrase, listed, owner in self.english:
                if owner not in hits and first in tokens \
                        and (phrase is None or phrase.search(lower) is not None):
                    hits[owner] = listed
        return hits


def _literals(words: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation of plain words, longest first (投诉到银保监 before 银保监).

    Plain literals let the regex engine skip at C speed to where a word may begin; the checks
    that cannot be literals (a whole number, a whole word) are made on the few matches.
    """
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def _latin_runs(words: Iterable[str]) -> re.Pattern[str] | None:
    """The text's words (runs of a-z) that begin with a letter some of `words` begins with.

    They are all the listed words can be found among (a word with other characters is never a
    run), and finding them skips at C speed over the rest: a third of the cost of finding every
    word of a narrative.
    """
    firsts = sorted({w[0] for w in words if "a" <= w[0] <= "z"})
    # The look-behind, after the first letter, makes sure the run begins there.
    return re.compile(f"[{''.join(firsts)}](?<![a-z][a-z])[a-z]*") if firsts else None


def _whole_number(text: str, start: int, end: int) -> bool:
    """Not part of a longer number: 12345 inside 13812345678 is no threat."""
    before = start > 0 and text[start - 1].isdigit()
    return not before and not (end < len(text) and text[end].isdigit())


def _phrase(word: str) -> re.Pattern[str] | None:
    """A several-word English entry as a whole-words pattern over lower-case text."""
    parts = word.lower().split()
    if len(parts) == 1:
        return None
    return re.compile(r"\b" + r"\s+".join(map(re.escape, parts)) + r"\b")


def stated_age(text: str) -> int | None:
    """The highest age the text states (我今年78岁, a 70-year-old, aged 70), if any."""
    ages = []
    if "岁" in text:  # a plain test first: this pattern cannot skip ahead at C speed
        ages += [int(m.group(1)) for m in _ZH_AGE.finditer(text)
                 if _whole_number(text, *m.span(1))]
    if "old" in text or "aged" in text or "OLD" in text or "AGED" in text:
        lower = text.lower()
        if "year" in lower:  # "old" is in hold, told and sold: most narratives have it
            ages += [int(m.group(1)) for m in _EN_AGE.finditer(lower)
                     if _whole_number(lower, *m.span(1))]
        ages += [int(age) for age in _EN_AGED.findall(lower)]
    return max(ages) if ages else None


def load_grading_config(path: Path | None = None) -> GradingConfig:
    """The validated contents of a grading file: by default the version activated on the
    admin screens, else the shipped one (read once)."""
    if path is None:
        return load_grading_rules().config
    return parse_grading_config(path.read_text("utf-8"), source=str(path))


@lru_cache(maxsize=1)
def _shipped_config() -> GradingConfig:
    return parse_grading_config(
        resources.files("bankvoc.nlp").joinpath(DEFAULT_PATH).read_text("utf-8"))


def load_grading_rules(path: Path | None = None) -> GradingRules:
    """The compiled rules of a grading file; the version activated on the admin screens, else
    the shipped ones, are compiled once per process, a bank's own file is read afresh on every
    call (so an edit takes effect)."""
    if path is not None:
        return GradingRules(load_grading_config(path))
    active = configstore.parsed(KIND, _compile_version)
    return active if active is not None else _shipped_rules()


def _compile_version(text: str, source: str) -> GradingRules:
    return GradingRules(parse_grading_config(text, source=source))


@lru_cache(maxsize=1)
def _shipped_rules() -> GradingRules:
    return GradingRules(_shipped_config())


# --- grading -------------------------------------------------------------------------------------

@dataclass
class Grade:
    severity: str = "general"
    reasons: list[str] = field(default_factory=list)
    rules_version: str | None = None

    def raise_to(self, severity: str, reason: str) -> None:
        self.reasons.append(reason)
        if SEVERITIES.index(severity) > SEVERITIES.index(self.severity):
            self.severity = severity


def grade(text: str, *, amount: Decimal | None, rules: GradingRules | None = None,
          birth_year: int | None = None, on: date | None = None,
          repeat_within_30_days: bool = False, similar_today: int = 0,
          sentiment: float | None = None) -> Grade:
    """The severity of a complaint and every reason for it.

    `birth_year` (from the ID number) and `on` (the day of the complaint, default today) give the
    customer's age; `repeat_within_30_days` is whether the same customer complained within the
    rules' repeat window; `similar_today` how many similar complaints arrived that day;
    `sentiment` the polarity of the text (-1 … 1).
    """
    rules = rules if rules is not None else load_grading_rules()
    result = Grade(rules_version=rules.version)
    _grade_amount(result, rules, amount)
    _grade_text(result, rules, text)
    _grade_age(result, rules.config.age, _age(birth_year, on), stated_age(text))
    _grade_context(result, rules.config, repeat_within_30_days, similar_today, sentiment)
    return result


def _grade_amount(result: Grade, rules: GradingRules, amount: Decimal | None) -> None:
    if amount is None:
        return
    for tier in rules.tiers:  # highest first
        if amount >= tier.at_least:
            result.raise_to(tier.severity,
                            f"{rules.config.amount.reason} ({amount} ≥ {tier.at_least})")
            return


def _grade_text(result: Grade, rules: GradingRules, text: str) -> None:
    """Raise for each signal found, in the file's order, with the first of its words found."""
    hits = rules.signal_hits(text)
    for name, signal in rules.signals.items():
        if name in hits:
            result.raise_to(signal.severity, f"{signal.reason} ({hits[name]})")


def _grade_age(result: Grade, rule: AgeRule, *ages: int | None) -> None:
    """The oldest age known (from the ID number's birth year or stated in the text)."""
    age = max((a for a in ages if a is not None), default=None)
    if age is not None and age >= rule.at_least:
        result.raise_to(rule.severity, f"{rule.reason} (aged {age})")


def _age(birth_year: int | None, on: date | None) -> int | None:
    """Age in the year of `on` (a year high before the birthday: errs towards protecting)."""
    if birth_year is None:
        return None
    age = (on or date.today()).year - birth_year
    return age if 0 <= age < 130 else None


def _grade_context(result: Grade, config: GradingConfig, repeat: bool, similar_today: int,
                   sentiment: float | None) -> None:
    """What the text alone does not say: the customer's history, the day's volume, emotion."""
    if repeat:
        result.raise_to(config.repeat.severity,
                        f"{config.repeat.reason} within {config.repeat.within_days} days")
    if similar_today >= config.similar_today.at_least:
        result.raise_to(config.similar_today.severity,
                        f"{config.similar_today.reason} ({similar_today} similar today)")
    if sentiment is not None and sentiment <= config.sentiment.at_most:
        result.raise_to(config.sentiment.severity,
                        f"{config.sentiment.reason} (sentiment {sentiment:.2f})")
