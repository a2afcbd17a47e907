"""The early-warning rules file (`alerts/rules.yaml`): thresholds and word lists, checked on load.

Wording lives in the file, not in code, so the consumer-protection office can add the words its
customers use (a new regulator hotline, a new social platform) without a release.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bankvoc.core import configstore
from bankvoc.core.errors import ConfigurationError
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import FileRefused, parse_yaml, read_yaml

KIND = "alert_rules"  # its kind of versioned configuration (bankvoc.core.configstore)


class AlertRulesError(FileRefused, ConfigurationError):
    """The rules file refused, with the line and reason of each problem."""

    default_field = "alerts.rules"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wording(_Model):
    """Words matched anywhere, numbers only whole, English words only whole (any case)."""

    words: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    english: list[str] = Field(default_factory=list)

    def pattern(self) -> re.Pattern[str] | None:
        parts = [re.escape(w) for w in self.words if w]
        parts += [rf"(?<!\d){re.escape(n)}(?!\d)" for n in self.numbers if n]
        parts += [rf"(?<![A-Za-z]){re.escape(e)}(?![A-Za-z])" for e in self.english if e]
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class SpikeRules(_Model):
    history_days: int = Field(default=56, ge=14, le=366)
    min_history_days: int = Field(default=21, ge=7)
    alpha: float = Field(default=1e-3, gt=0, lt=0.5)
    min_count: int = Field(default=5, ge=1)
    min_excess: float = Field(default=3, ge=0)
    min_ratio: float = Field(default=1.5, ge=1)
    typical_cases: int = Field(default=3, ge=1, le=20)
    org_category: bool = True


class EmergingRules(_Model):
    recent_days: int = Field(default=7, ge=1, le=31)
    reference_days: int = Field(default=21, ge=7, le=180)
    max_texts: int = Field(default=4000, ge=10)
    min_recent: int = Field(default=6, ge=2)
    min_recent_share: float = Field(default=0.7, gt=0, le=1)
    alpha: float = Field(default=1e-3, gt=0, lt=0.5)
    suppress_days: int = Field(default=7, ge=0)


class MassRules(_Model):
    window_days: int = Field(default=3, ge=1, le=31)
    min_similar: int = Field(default=5, ge=2)
    group_words: list[str] = Field(default_factory=list)
    group_english: list[str] = Field(default_factory=list)

    def wording(self) -> Wording:
        return Wording(words=self.group_words, english=self.group_english)


class Threshold(_Model):
    at_most: float
    points: int = Field(ge=0)


class Soon(_Model):
    within_hours: int = Field(ge=1)
    points: int = Field(ge=0)


class WordFactor(Wording):
    points: int = Field(ge=0)


class RiskFactors(_Model):
    regulator: WordFactor
    media: WordFactor
    litigation: WordFactor
    transferred: int = Field(ge=0)
    per_reopen: int = Field(ge=0)
    max_reopen: int = Field(ge=0)
    per_escalation: int = Field(ge=0)
    max_escalation: int = Field(ge=0)
    severity: dict[str, int] = Field(default_factory=dict)
    negative_sentiment: Threshold
    per_repeat: int = Field(ge=0)
    max_repeat: int = Field(ge=0)
    overdue: int = Field(ge=0)
    due_soon: Soon


class RiskRules(_Model):
    alert_at: int = Field(default=60, ge=1, le=100)
    top: int = Field(default=20, ge=1, le=500)
    repeat_within_days: int = Field(default=90, ge=1)
    factors: RiskFactors


class AlertRules(_Model):
    version: str = Field(min_length=1, max_length=20)
    spikes: SpikeRules = SpikeRules()
    emerging_topics: EmergingRules = EmergingRules()
    mass_complaints: MassRules = MassRules()
    regulator_risk: RiskRules


def parse_rules(text: str, *, source: str = "rules.yaml") -> AlertRules:
    return parse_yaml(text, AlertRules, source=source, error=AlertRulesError)


def load_rules(path: Path | None = None) -> AlertRules:
    """The rules in `path`, else the version activated on the admin screens, else the bank's
    own file (BANKVOC_ALERTS_RULES_FILE), else the shipped one; each read once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version)
        if active is not None:
            return active
    return _load(path or get_settings().alerts_rules_file)


def _parse_version(text: str, source: str) -> AlertRules:
    return parse_rules(text, source=source)


@lru_cache(maxsize=4)
def _load(path: Path | None) -> AlertRules:
    if path is None:
        text = resources.files("bankvoc.alerts").joinpath("rules.yaml").read_text("utf-8")
        return parse_rules(text)
    return read_yaml(path, AlertRules, error=AlertRulesError)
