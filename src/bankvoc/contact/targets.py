"""The contact centre's targets: a versioned YAML file (`targets.yaml`, editable on the
configuration screens as kind `contact_targets`), checked line by line.

The banking association's contact-centre standard gives the KPIs' formulas and leaves the
thresholds to the bank (DESIGN.md, "Rules of the trade"; issue 8: "service level ... X and the
target set by the bank; 20 s by default"). The file holds:

- `service_level_seconds`: X of the service level "Y% answered within X seconds";
- `kpis`: each KPI's bank-wide target and direction (`better: higher` is met at ≥ the target,
  `lower` at ≤), rates written in percent (80 = 80%), times in seconds, the mean rating 1-5;
- `queues`: a queue's own targets (a row of the dashboard cut by queue);
- `orgs`: an org's own window and targets, for it and its subtree; the nearest org up the tree
  that sets one wins, as for the service-data targets (`servicedata.targets`).

A KPI's target for a queue at an org: the queue's own, else the nearest org's, else the
bank-wide one; its direction is the one written with that target, else the bank-wide one, else
the KPI's natural one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankvoc.core import configstore
from bankvoc.core.yamlfile import Problem, YamlFileError, parse_yaml, problems_found, read_yaml

DEFAULT_PATH = "targets.yaml"
KIND = "contact_targets"  # its kind of versioned configuration
SERVICE_LEVEL_S = 20  # the standard's default X of "Y% answered within X seconds"
MAX_WINDOW_S = 3600

Better = Literal["higher", "lower"]
Unit = Literal["percent", "seconds", "score"]

# The KPIs a target may be set for (`contact.kpis.KpiRow`), their unit in the file and which
# way is naturally better.
KPIS: dict[str, tuple[Unit, Better]] = {
    "service_level": ("percent", "higher"),
    "connect_rate": ("percent", "higher"),
    "abandonment_rate": ("percent", "lower"),
    "asa_s": ("seconds", "lower"),
    "aht_s": ("seconds", "lower"),
    "talk_s": ("seconds", "lower"),
    "transfer_rate": ("percent", "lower"),
    "fcr": ("percent", "higher"),
    "satisfied_rate": ("percent", "higher"),
    "csat": ("score", "higher"),
}


@dataclass(frozen=True)
class Target:
    """The bank's threshold of a KPI: met when the value is at least (higher is better) or at
    most (lower is better) `value`. Rates are fractions 0-1 (as `KpiRow` has them), times are
    seconds."""

    kpi: str
    value: float
    better: Better

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.value if self.better == "higher" else value <= self.value


class ContactTargetsError(YamlFileError):
    """A targets file refused; `problems` holds every problem found, in the file's order."""

    code = "contact_targets_invalid"
    default_field = "kpis"


class KpiTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: float
    better: Better | None = None


class OrgTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_level_seconds: int | None = Field(default=None, ge=1, le=MAX_WINDOW_S)
    kpis: dict[str, KpiTarget] = Field(default_factory=dict)


class ContactTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    service_level_seconds: int = Field(default=SERVICE_LEVEL_S, ge=1, le=MAX_WINDOW_S)
    kpis: dict[str, KpiTarget] = Field(default_factory=dict)
    queues: dict[str, dict[str, KpiTarget]] = Field(default_factory=dict)
    orgs: dict[str, OrgTargets] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_and_in_range(self) -> ContactTargets:
        places: list[tuple[tuple[str, ...], dict[str, KpiTarget]]] = [(("kpis",), self.kpis)]
        places += [(("queues", q), found) for q, found in self.queues.items()]
        places += [(("orgs", o, "kpis"), found.kpis) for o, found in self.orgs.items()]
        problems: list[Problem] = []
        for loc, found in places:
            for kpi, setting in found.items():
                if kpi not in KPIS:
                    problems.append(Problem((*loc, kpi), f"{kpi!r} is not a KPI (known: "
                                                         f"{', '.join(KPIS)})"))
                    continue
                why = _out_of_range(kpi, setting.target)
                if why:
                    problems.append(Problem((*loc, kpi, "target"), why))
        if problems:
            raise problems_found(problems)
        return self

    def window(self, org_codes: list[str]) -> int:
        """X of the service level at the org whose path from the top is `org_codes`: the
        nearest org's own, else the bank-wide one."""
        for code in reversed(org_codes):
            found = self.orgs.get(code)
            if found is not None and found.service_level_seconds is not None:
                return found.service_level_seconds
        return self.service_level_seconds

    def target(self, kpi: str, org_codes: list[str], queue: str | None = None
               ) -> Target | None:
        """The target of `kpi` for `queue` (None: the whole scope) at the org whose path from
        the top is `org_codes`; None when nothing sets one."""
        setting = self.queues.get(queue, {}).get(kpi) if queue is not None else None
        if setting is None:
            setting = next((found for code in reversed(org_codes)
                            if (found := self._org_kpi(code, kpi)) is not None), None)
        if setting is None:
            setting = self.kpis.get(kpi)
        if setting is None or kpi not in KPIS:
            return None
        unit, natural = KPIS[kpi]
        bank = self.kpis.get(kpi)
        better = setting.better or (bank.better if bank is not None else None) or natural
        value = setting.target / 100 if unit == "percent" else setting.target
        return Target(kpi, value, better)

    def targets(self, org_codes: list[str], queue: str | None = None) -> dict[str, Target]:
        """Every KPI's target for `queue` (None: the scope) at the org of `org_codes`."""
        found = {kpi: self.target(kpi, org_codes, queue) for kpi in KPIS}
        return {kpi: target for kpi, target in found.items() if target is not None}

    def _org_kpi(self, code: str, kpi: str) -> KpiTarget | None:
        found = self.orgs.get(code)
        return found.kpis.get(kpi) if found is not None else None


def _out_of_range(kpi: str, value: float) -> str:
    unit = KPIS[kpi][0]
    if unit == "percent" and not 0 <= value <= 100:
        return "a percentage between 0 and 100"
    if unit == "score" and not 1 <= value <= 5:
        return "a rating between 1 and 5"
    if value < 0:
        return "not negative"
    return ""


def parse_targets(text: str, *, source: str = DEFAULT_PATH) -> ContactTargets:
    """The targets in `text`, or a ContactTargetsError naming each problem's line and reason."""
    return parse_yaml(text, ContactTargets, source=source, error=ContactTargetsError)


def load_targets(path: Path | None = None) -> ContactTargets:
    """The targets in `path`, else the version activated on the configuration screens (this
    process's view), else the shipped file; each parsed once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version)
        if active is not None:
            return active
        return _shipped()
    return read_yaml(path, ContactTargets, error=ContactTargetsError)


def version_in_force() -> int:
    """The version of the targets in force in this process (0: the shipped file)."""
    active = configstore.current().get(KIND)
    return active.version if active is not None else 0


def _parse_version(text: str, source: str) -> ContactTargets:
    return parse_targets(text, source=source)


@lru_cache(maxsize=1)
def _shipped() -> ContactTargets:
    text = resources.files("bankvoc.contact").joinpath(DEFAULT_PATH).read_text("utf-8")
    return parse_targets(text)
