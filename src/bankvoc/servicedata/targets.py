"""The targets of the operational service metrics: a versioned YAML file (`targets.yaml`,
editable on the configuration screens as kind `service_targets`), checked line by line.

A metric has a bank-wide target, optionally its own per group (a business type, channel or
process type: `by`), and an org may set its own for itself and its subtree (`orgs`); the
nearest org up the tree that sets one wins, as for the KPI targets (`analytics.target_for`).
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
KIND = "service_targets"  # its kind of versioned configuration

Unit = Literal["minutes", "ms", "hours", "percent", "count"]
Better = Literal["higher", "lower"]
Family = Literal["queue", "channel", "process", "digital"]


@dataclass(frozen=True)
class Metric:
    """One metric: what it measures, its unit, which way is better, what it is grouped by."""

    code: str
    family: Family
    zh: str
    en: str
    unit: Unit
    better: Better
    # The target of a count is its month-on-month growth in percent (app_mau), not a level.
    target_is_growth: bool = False

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


METRICS: dict[str, Metric] = {m.code: m for m in (
    Metric("queue_wait_avg", "queue", "平均等候时长", "Average wait", "minutes", "lower"),
    Metric("queue_wait_p90", "queue", "等候时长 P90", "Wait, P90", "minutes", "lower"),
    Metric("queue_wait_over_share", "queue", "等候超时占比", "Share waiting too long",
           "percent", "lower"),
    Metric("queue_handle_avg", "queue", "平均办理时长", "Average handling", "minutes", "lower"),
    Metric("queue_handle_p90", "queue", "办理时长 P90", "Handling, P90", "minutes", "lower"),
    Metric("channel_availability", "channel", "渠道可用率", "Availability", "percent",
           "higher"),
    Metric("channel_response_avg", "channel", "平均响应时间", "Average response", "ms",
           "lower"),
    Metric("channel_response_p95", "channel", "响应时间 P95", "Response, P95", "ms", "lower"),
    Metric("process_median", "process", "办理时长中位数", "Duration, median", "hours",
           "lower"),
    Metric("process_p90", "process", "办理时长 P90", "Duration, P90", "hours", "lower"),
    Metric("app_mau", "digital", "手机银行月活跃用户", "App monthly active users", "count",
           "higher", target_is_growth=True),
    Metric("self_service_share", "digital", "自助办理占比", "Self-service share", "percent",
           "higher"),
    Metric("assistant_resolution_rate", "digital", "智能助手解决率",
           "Smart-assistant resolution rate", "percent", "higher"),
)}


class TargetsError(YamlFileError):
    """A targets file refused; `problems` holds every problem found, in the file's order."""

    code = "service_targets_invalid"
    default_field = "metrics"


class MetricTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: float | None = None
    by: dict[str, float] = Field(default_factory=dict)


class TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    wait_over_minutes: float = Field(default=15, gt=0, le=24 * 60)
    metrics: dict[str, MetricTarget] = Field(default_factory=dict)
    orgs: dict[str, dict[str, MetricTarget]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_and_in_range(self) -> TargetsFile:
        problems: list[Problem] = []
        places = [(("metrics",), self.metrics)] + [
            (("orgs", code), found) for code, found in self.orgs.items()]
        for loc, found in places:
            for code, setting in found.items():
                metric = METRICS.get(code)
                if metric is None:
                    problems.append(Problem((*loc, code), f"{code!r} is not a metric (known: "
                                                          f"{', '.join(METRICS)})"))
                    continue
                values = [(("target",), setting.target)] + [
                    (("by", group), value) for group, value in setting.by.items()]
                for where, value in values:
                    why = _out_of_range(metric, value)
                    if why:
                        problems.append(Problem((*loc, code, *where), why))
        if problems:
            raise problems_found(problems)
        return self

    def target(self, metric: str, group: str, org_codes: list[str]) -> float | None:
        """The target of `metric` for `group` ("" for all) at the org whose path from the top
        is `org_codes`: the nearest org's own, else the bank-wide one; a group's own before
        the metric's."""
        for code in reversed(org_codes):
            found = _pick(self.orgs.get(code, {}).get(metric), group)
            if found is not None:
                return found
        return _pick(self.metrics.get(metric), group)


def _pick(setting: MetricTarget | None, group: str) -> float | None:
    if setting is None:
        return None
    if group and group in setting.by:
        return setting.by[group]
    return setting.target


def _out_of_range(metric: Metric, value: float | None) -> str:
    if value is None:
        return ""
    if metric.target_is_growth:
        return "" if -100 <= value <= 1000 else "a growth in percent, between -100 and 1000"
    if metric.unit == "percent" and not 0 <= value <= 100:
        return "a percentage between 0 and 100"
    if value < 0:
        return "not negative"
    return ""


def parse_targets(text: str, *, source: str = DEFAULT_PATH) -> TargetsFile:
    """The targets in `text`, or a TargetsError naming the line and reason of each problem."""
    return parse_yaml(text, TargetsFile, source=source, error=TargetsError)


def load_targets(path: Path | None = None) -> TargetsFile:
    """The targets in `path`, else the version activated on the configuration screens (this
    process's view), else the shipped file; each parsed once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version)
        if active is not None:
            return active
        return _shipped()
    return read_yaml(path, TargetsFile, error=TargetsError)


def _parse_version(text: str, source: str) -> TargetsFile:
    return parse_targets(text, source=source)


@lru_cache(maxsize=1)
def _shipped() -> TargetsFile:
    text = resources.files("bankvoc.servicedata").joinpath(DEFAULT_PATH).read_text("utf-8")
    return parse_targets(text)
