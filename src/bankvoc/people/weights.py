"""The scorecard weights: a versioned YAML file (`weights.yaml`, editable on the configuration
screens as kind `scorecard_weights`), checked line by line."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankvoc.core import configstore
from bankvoc.core.yamlfile import Problem, YamlFileError, parse_yaml, problems_found

DEFAULT_PATH = "weights.yaml"
KIND = "scorecard_weights"  # its kind of versioned configuration

Level = Literal["agent", "team", "outlet", "branch"]
LEVELS: tuple[Level, ...] = ("agent", "team", "outlet", "branch")
COMPONENTS = ("satisfaction", "complaint_rate", "on_time", "qa", "inspection")


class WeightsError(YamlFileError):
    """A weights file refused; `problems` holds every problem found, in the file's order."""

    code = "scorecard_weights_invalid"
    default_field = "levels"


class WeightsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    complaint_rate_worst: float = Field(default=10, gt=0, le=100)
    levels: dict[str, dict[str, float]]

    @model_validator(mode="after")
    def _known_and_positive(self) -> WeightsFile:
        problems: list[Problem] = []
        for level, weights in self.levels.items():
            if level not in LEVELS:
                problems.append(Problem(("levels", level),
                                        f"{level!r} is not a level (levels: {', '.join(LEVELS)})"))
                continue
            for component, weight in weights.items():
                if component not in COMPONENTS:
                    problems.append(Problem(("levels", level, component),
                                            f"{component!r} is not a component (components: "
                                            f"{', '.join(COMPONENTS)})"))
                elif weight < 0:
                    problems.append(Problem(("levels", level, component), "not negative"))
            if sum(weights.values()) <= 0:
                problems.append(Problem(("levels", level), "the weights add up to more than 0"))
        for level in LEVELS:
            if level not in self.levels:
                problems.append(Problem(("levels",), f"level {level!r} has no weights"))
        if problems:
            raise problems_found(problems)
        return self


def parse_weights(text: str, *, source: str = DEFAULT_PATH) -> WeightsFile:
    """The weights in `text`, or a WeightsError naming the line and reason of each problem."""
    return parse_yaml(text, WeightsFile, source=source, error=WeightsError)


def load_weights() -> WeightsFile:
    """The version activated on the configuration screens (this process's view), else the
    shipped file."""
    active = configstore.parsed(KIND, _parse_version)
    return active if active is not None else _shipped()


def _parse_version(text: str, source: str) -> WeightsFile:
    return parse_weights(text, source=source)


@lru_cache(maxsize=1)
def _shipped() -> WeightsFile:
    return parse_weights(resources.files("bankvoc.people").joinpath(DEFAULT_PATH)
                         .read_text("utf-8"))
