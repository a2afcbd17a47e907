"""The segment map (`customers/segments.yaml`, bank-editable): which R, F, M scores name which
segment, and the segments' names."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import Problem, YamlFileError, problems_found, read_yaml
from bankvoc.core.yamlfile import parse_yaml as _parse_yaml

DEFAULT_PATH = "segments.yaml"
SCORES = (1, 2, 3, 4, 5)
NO_SEGMENT = ""


# --- the segment map (segments.yaml) -------------------------------------------------------------

class SegmentsError(YamlFileError):
    """A segments file refused; `problems` holds every problem found, in the file's order."""

    code = "segments_invalid"
    default_field = "segments"


Condition = Literal["high", "low", "any"] | list[int]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Segment(_Model):
    """A segment: its code (stored on the customer), its names, and the R, F, M scores it
    takes (`high`, `low`, `any` or a list of scores)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    r: Condition = "any"
    f: Condition = "any"
    m: Condition = "any"

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def takes(self, dimension: str, score: int, high_from: int) -> bool:
        condition: Condition = getattr(self, dimension)
        if condition == "any":
            return True
        if condition == "high":
            return score >= high_from
        if condition == "low":
            return score < high_from
        return score in condition


class SegmentMap(_Model):
    """`segments.yaml`: the first segment whose conditions all hold names the customer."""

    version: str = Field(min_length=1)
    high_from: int = Field(ge=2, le=5)
    segments: list[Segment] = Field(min_length=1)
    _table: dict[tuple[int, int, int], str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SegmentMap:
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, segment in enumerate(self.segments):
            if segment.code in seen:
                problems.append(Problem(("segments", i, "code"),
                                        f"{segment.code!r} is given to two segments"))
            seen.add(segment.code)
            for dimension in "rfm":
                condition = getattr(segment, dimension)
                if isinstance(condition, list) and (
                        not condition or any(s not in SCORES for s in condition)):
                    problems.append(Problem(("segments", i, dimension),
                                            "a list of scores holds scores 1 to 5"))
        if problems:
            raise problems_found(problems)
        reached: set[int] = set()
        for scores in ((r, f, m) for r in SCORES for f in SCORES for m in SCORES):
            index = next((i for i, s in enumerate(self.segments)
                          if all(s.takes(d, v, self.high_from)
                                 for d, v in zip("rfm", scores, strict=True))), None)
            if index is None:
                problems.append(Problem(("segments",), f"no segment takes R{scores[0]} "
                                                       f"F{scores[1]} M{scores[2]}"))
                continue
            reached.add(index)
            self._table[scores] = self.segments[index].code
        problems += [Problem(("segments", i, "code"), "no score reaches this segment: the "
                                                      "segments above take all of its scores")
                     for i in range(len(self.segments)) if i not in reached]
        if problems:
            raise problems_found(problems[:5])
        return self

    def segment_of(self, r: int, f: int, m: int) -> str:
        return self._table[(r, f, m)]

    def label(self, code: str | None, lang: str = "zh") -> str:
        """A segment's name; a code the file does not know (an older map's) as it is."""
        if not code:
            return "No segment" if lang == "en" else "未分群"
        segment = next((s for s in self.segments if s.code == code), None)
        return segment.label(lang) if segment else code


def parse_segments(text: str, *, source: str = DEFAULT_PATH) -> SegmentMap:
    """The segment map in `text`, or a SegmentsError naming the line and reason of each
    problem."""
    return _parse_yaml(text, SegmentMap, source=source, error=SegmentsError)


def read_segments(path: Path) -> SegmentMap:
    return read_yaml(path, SegmentMap, error=SegmentsError)


def load_segments(path: Path | None = None) -> SegmentMap:
    """The segment map in `path`, else the bank's own file (BANKVOC_SEGMENTS_FILE), else the
    shipped one; each parsed once per process."""
    return _load(path or get_settings().segments_file)


@lru_cache(maxsize=4)
def _load(path: Path | None) -> SegmentMap:
    if path is not None:
        return read_segments(path)
    text = resources.files("bankvoc.customers").joinpath(DEFAULT_PATH).read_text("utf-8")
    return parse_segments(text)
