"""The outlet service-standard checklist (网点服务规范检查表): a YAML file shipped with the
package, checked with pydantic and refused with every problem's line and reason.

The steps follow a customer's visit (迎候, 分流引导, 身份核验, 业务办理, 风险提示, 送别,
环境设施); each has 3 to 5 items with Chinese and English text, a weight (its share of the
score) and, for the items the bank will not compromise on, `critical: true` (a failure flags
the visit whatever its score). Item codes are unique in the file: answers and findings name
them. A visit stores the checklist's `version` and checksum, so a later edit of the file never
changes what an old visit was scored against.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bankvoc.core.yamlfile import (
    REASONS,
    Problem,
    YamlFileError,
    parse_yaml,
    problems_found,
    read_text,
)

DEFAULT_PATH = "checklist.yaml"
CODE = r"^[a-z][a-z0-9_]*$"

_REASONS = {
    **REASONS,
    "string_pattern_mismatch": "{input!r} is not a valid code: use lower_snake_case, e.g. "
                               "greeting_words",
}


class ChecklistError(YamlFileError):
    """A checklist file refused; `problems` holds every problem found, in the file's order."""

    code = "checklist_invalid"
    default_field = "checklist"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Item(_Model):
    """One thing checked at a visit."""

    code: str = Field(pattern=CODE, max_length=40)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    weight: float = Field(gt=0, le=100)
    critical: bool = False

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Step(_Model):
    """A step of the visit and its items."""

    code: str = Field(pattern=CODE, max_length=40)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    items: tuple[Item, ...]

    @field_validator("items")
    @classmethod
    def _three_to_five(cls, value: tuple[Item, ...]) -> tuple[Item, ...]:
        if not 3 <= len(value) <= 5:
            raise ValueError(f"needs 3 to 5 items, not {len(value)}")
        return value

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Checklist(_Model):
    version: str = Field(min_length=1, max_length=40)
    steps: tuple[Step, ...] = Field(min_length=1)
    # Set by `parse_checklist` from the text (not written in the file).
    checksum: str = ""

    @model_validator(mode="after")
    def _unique_codes(self) -> Checklist:
        problems: list[Problem] = []
        steps: set[str] = set()
        items: set[str] = set()
        for i, step in enumerate(self.steps):
            if step.code in steps:
                problems.append(Problem(("steps", i, "code"),
                                        f"step {step.code!r} is given twice"))
            steps.add(step.code)
            for j, item in enumerate(step.items):
                if item.code in items:
                    problems.append(Problem(("steps", i, "items", j, "code"),
                                            f"item {item.code!r} is given twice (item codes "
                                            "are unique in the whole checklist)"))
                items.add(item.code)
        if problems:
            raise problems_found(problems)
        return self

    def items(self) -> list[tuple[Step, Item]]:
        """Every item with its step, in the file's order."""
        return [(step, item) for step in self.steps for item in step.items]

    def item(self, code: str) -> Item | None:
        return next((i for _, i in self.items() if i.code == code), None)

    def codes(self) -> list[str]:
        return [i.code for _, i in self.items()]

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "checksum": self.checksum,
                "steps": [step.model_dump() for step in self.steps]}


def checksum_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_checklist(text: str, *, source: str = DEFAULT_PATH) -> Checklist:
    """The checklist in `text`, or a ChecklistError naming the line and reason of each
    problem."""
    parsed = parse_yaml(text, Checklist, source=source, error=ChecklistError, reasons=_REASONS)
    return parsed.model_copy(update={"checksum": checksum_of(text)})


def read_checklist(path: Path) -> Checklist:
    """The checklist in a file (UTF-8 YAML), or a ChecklistError naming its problems' lines."""
    return parse_checklist(read_text(path, ChecklistError), source=str(path))


@lru_cache(maxsize=4)
def load_checklist(path: Path | None = None) -> Checklist:
    """The checklist in `path`, else the one shipped with the package; parsed once."""
    if path is None:
        text = resources.files("bankvoc.branches").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_checklist(text)
    return read_checklist(path)
