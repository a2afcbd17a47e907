"""The workflow's configuration: routing rules and authority limits (workflow.yaml).

A bad file is refused with the line and reason of each problem (see `bankvoc.core.yamlfile`); it
is a configuration error, not the input of whoever's request first needs the file.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankvoc.core import configstore
from bankvoc.core.errors import ConfigurationError
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import FileRefused, parse_yaml, read_yaml

KIND = "workflow"  # its kind of versioned configuration (bankvoc.core.configstore)
CONDITIONS = ("product", "category", "severity", "channel", "origin", "kind", "org")


class WorkflowConfigError(FileRefused, ConfigurationError):
    """A workflow file refused, with the line and reason of each problem."""

    default_field = "workflow"


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, list[str]] = Field(default_factory=dict)
    queue: str = Field(min_length=1, description="Code of the handling org")
    why: str = ""

    @field_validator("when")
    @classmethod
    def _known_conditions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(CONDITIONS))
        if unknown:
            raise ValueError(f"unknown condition(s) {', '.join(unknown)}; known: "
                             f"{', '.join(CONDITIONS)}")
        return value


class CallbackPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    always_severities: list[str] = Field(default_factory=lambda: ["major", "urgent"])
    always_regulator_transfers: bool = True
    sample_percent: int = Field(default=30, ge=0, le=100)
    within_hours: int = Field(default=48, ge=1)
    unhappy_csat_at_most: int = Field(default=2, ge=1, le=5)


class WorkflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    authority_limits: dict[str, Decimal]
    routing: list[RoutingRule] = Field(default_factory=list)
    callbacks: CallbackPolicy = Field(default_factory=CallbackPolicy)
    max_representatives: int = Field(default=5, ge=1)
    # A complaint resolved without a root cause: refused (required), or resolved and flagged
    # (on its timeline, and in problems.service.untraced) for consumer protection to follow up.
    root_cause: Literal["required", "flagged"] = "flagged"

    def limit_of(self, roles: frozenset[str]) -> Decimal:
        """The largest amount any of `roles` may grant alone."""
        return max((self.authority_limits.get(role, Decimal(0)) for role in roles),
                   default=Decimal(0))


def parse_config(text: str, *, source: str) -> WorkflowConfig:
    """The configuration in `text`, or a WorkflowConfigError naming each problem's line."""
    return parse_yaml(text, WorkflowConfig, source=source, error=WorkflowConfigError)


def load_config(path: Path | None = None, *,
                snapshot: configstore.Snapshot | None = None) -> WorkflowConfig:
    """The file in `path`, else the version activated on the admin screens (in `snapshot`,
    else in force in this process), else the bank's (BANKVOC_WORKFLOW_FILE), else the
    shipped one."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version, snapshot=snapshot)
        if active is not None:
            return active
    return _load(path or get_settings().workflow_file)


def _parse_version(text: str, source: str) -> WorkflowConfig:
    return parse_config(text, source=source)


@lru_cache(maxsize=4)
def _load(path: Path | None) -> WorkflowConfig:
    if path is None:
        text = resources.files("bankvoc.cases.workflow").joinpath("workflow.yaml").read_text(
            "utf-8")
        return parse_config(text, source="workflow.yaml")
    return read_yaml(path, WorkflowConfig, error=WorkflowConfigError)


def pick_queue(config: WorkflowConfig, facts: dict[str, str | None],
               org_paths: dict[str, str], case_org_path: str) -> RoutingRule | None:
    """The first routing rule whose conditions all hold for a case's `facts` (product,
    category, severity, channel, origin, kind); `org` conditions hold for a case of that org
    or below it (`org_paths`: code -> materialised path)."""
    for rule in config.routing:
        if all(_holds(name, values, facts, org_paths, case_org_path)
               for name, values in rule.when.items()):
            return rule
    return None


def _holds(name: str, values: list[str], facts: dict[str, str | None],
           org_paths: dict[str, str], case_org_path: str) -> bool:
    if name == "org":
        return any(case_org_path.startswith(org_paths[code])
                   for code in values if code in org_paths)
    return facts.get(name) in values
