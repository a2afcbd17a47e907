"""Bank-editable YAML files checked against a pydantic model, refused with line and reason.

The YAML is composed into nodes that remember their lines; every problem's location (a pydantic
error `loc`, or the path a whole-file check names) is walked down that node tree to the line of
the key or entry it concerns. Keys given twice, text that is not UTF-8 and broken YAML are
problems too, and so is a value YAML reads as a date that is not one (2026-13-01) unless the
model already refuses it: written unquoted it is neither a date nor, knowingly, text. A feature
subclasses `YamlFileError` (a refusal of the bank's input, `Invalid`) for its own error code and
field, or combines `FileRefused` with another kind of error (a file the application cannot run
without: `ConfigurationError`), and calls `parse_yaml` / `read_yaml` with its model.

Whole-file checks (references between entries, overlaps, order) run in the model's own `after`
validator and raise `problems_found(...)`, or the feature's own error with the problems: an
exception pydantic does not swallow, so its locations reach `parse_yaml` intact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bankvoc.core.errors import BankvocError, Invalid

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound="FileRefused")


def loc_path(loc: Loc) -> str:
    """A location as people write it: targets.response[0].hours."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused, where it is (1-based line) and what is wrong."""

    loc: Loc
    reason: str
    line: int | None = None

    @property
    def path(self) -> str:
        return loc_path(self.loc)

    def describe(self, source: str) -> str:
        where = f"{source} line {self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.reason}" if self.loc else f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "path": self.path, "reason": self.reason}


class FileRefused(BankvocError):
    """A file refused; `problems` holds every problem found, in the file's order.

    It sets no status or code: combine it with the kind of error the refusal is (`YamlFileError`
    is the `Invalid` one), listed after it among the bases.
    """

    default_field: ClassVar[str | None] = None

    def __init__(self, message: str, *, field: str | None = None,
                 problems: Sequence[Problem] = ()) -> None:
        super().__init__(message, field=field or self.default_field)
        self.problems = tuple(problems)

    @classmethod
    def of(cls: type[E], problems: Sequence[Problem], *, source: str) -> E:
        ordered = sorted(problems, key=lambda p: (p.line or 0, p.path))
        message = ordered[0].describe(source)
        if len(ordered) > 1:
            message += f" (and {len(ordered) - 1} more problem{'s' if len(ordered) > 2 else ''})"
        return cls(message, problems=ordered)


class YamlFileError(FileRefused, Invalid):
    """A bank-edited file refused as invalid input (422)."""

    code = "file_invalid"


class ProblemsFound(YamlFileError):
    """Raised by a model's whole-file checks; `parse_yaml` gives the problems their lines."""


def problems_found(problems: Sequence[Problem]) -> ProblemsFound:
    return ProblemsFound.of(problems, source="")


# --- lines ---------------------------------------------------------------------------------------

def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def locate(root: yaml.Node | None, loc: Loc) -> int:
    """The line of `loc` in the node tree: of its key, or of the nearest enclosing node."""
    if root is None:
        return 1
    node, line = root, _line(root)
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            # With a duplicated key the last one wins, as when the file is loaded.
            pair = next(((k, v) for k, v in reversed(node.value)
                         if isinstance(k, yaml.ScalarNode) and k.value == str(step)), None)
            if pair is None:
                break
            line, node = _line(pair[0]), pair[1]
        elif (isinstance(node, yaml.SequenceNode) and isinstance(step, int)
              and 0 <= step < len(node.value)):
            node = node.value[step]
            line = _line(node)
        else:
            break
    return line


def duplicate_keys(node: yaml.Node | None, loc: Loc = ()) -> Iterator[Problem]:
    """Keys given twice in one mapping: YAML would silently keep the last."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen:
                yield Problem((*loc, name), "is given twice in the same place", _line(key))
            seen.add(name)
            yield from duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from duplicate_keys(item, (*loc, i))


def _not_a_date(node: yaml.ScalarNode) -> str | None:
    """Why a scalar YAML reads as a timestamp is not one (None when it is one)."""
    try:
        yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
    except ValueError as exc:
        return str(exc)
    return None


def impossible_dates(node: yaml.Node | None, loc: Loc = ()) -> Iterator[Problem]:
    """Unquoted values YAML reads as dates that are not real dates (2026-13-01, 2026-02-30)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
        why = _not_a_date(node)
        if why is not None:
            yield Problem(loc, f"{node.value!r} reads as a date but is not one ({why}): correct "
                               "the date, or put it in quotes if it is text", _line(node))
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from impossible_dates(key, (*loc, name))
            yield from impossible_dates(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from impossible_dates(item, (*loc, i))


def _covers(problems: Sequence[Problem], loc: Loc) -> bool:
    """Whether a problem is already reported at `loc` or inside it."""
    wanted = tuple(map(str, loc))
    return any(tuple(map(str, p.loc))[:len(wanted)] == wanted for p in problems)


# --- reasons -------------------------------------------------------------------------------------

REASONS: Mapping[str, str] = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a field here (check its spelling)",
}


def _what(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def reason(error: ErrorDetails, reasons: Mapping[str, str] = REASONS) -> str:
    """A pydantic error as a person reads it, with the offending value when it is short."""
    template = reasons.get(error["type"])
    value = error.get("input")
    if error["type"] in ("model_type", "dict_type"):  # where a mapping belongs
        return f"should be a mapping of fields (key: value), not {_what(value)}"
    if template is not None:
        return template.format(input=value)
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(value, str | int | float | bool) and len(str(value)) <= 60:
        return f"{message} (got {value!r})"
    return message


# --- parsing -------------------------------------------------------------------------------------

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """The safe loader, except that an impossible date (2027-13-01) stays text for the model to
    refuse at its line, instead of failing the whole file without one (a model that takes the
    text is refused by `impossible_dates`)."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    assert isinstance(node, yaml.ScalarNode)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor(_TIMESTAMP, _timestamp)


def compose(text: str, source: str, error: type[FileRefused]) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (which knows its lines) and the data it holds."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = int(mark.line) + 1 if mark is not None else None
        raise error.of([Problem((), f"not valid YAML: {problem}", line)],
                       source=source) from None
    finally:
        loader.dispose()


def parse_yaml(text: str, model: type[M], *, source: str, error: type[FileRefused],
               reasons: Mapping[str, str] = REASONS) -> M:
    """The `model` in `text`, or `error` naming the line and reason of each problem.

    Problems the model's checks raise (as `problems_found(...)` or as `error` itself) are
    given their lines here.
    """
    root, data = compose(text, source, error)
    problems = list(duplicate_keys(root))
    parsed: M | None = None
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems += [Problem(tuple(e["loc"]), reason(e, reasons)) for e in exc.errors()]
    except (ProblemsFound, error) as exc:
        problems += exc.problems
    problems += [p for p in impossible_dates(root) if not _covers(problems, p.loc)]
    if problems:
        raise error.of([p if p.line is not None else Problem(p.loc, p.reason, locate(root, p.loc))
                        for p in problems], source=source)
    assert parsed is not None
    return parsed


def refuse(text: str, problems: Sequence[Problem], *, source: str,
           error: type[E]) -> E:
    """`error` for problems found in `text` after it parsed (checks that need more than the
    model: what the application gives a template, which roles exist), located at their lines."""
    root, _ = compose(text, source, error)
    return error.of([p if p.line is not None else Problem(p.loc, p.reason, locate(root, p.loc))
                     for p in problems], source=source)


def read_text(path: Path, error: type[FileRefused]) -> str:
    """A file's text (UTF-8), or `error` naming the line where it stops being UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise error.of([Problem((), "not UTF-8 text (save the file as UTF-8)", line)],
                       source=str(path)) from None


def read_yaml(path: Path, model: type[M], *, error: type[FileRefused],
              reasons: Mapping[str, str] = REASONS) -> M:
    """The `model` in a file (UTF-8 YAML), or `error` naming its problems' lines."""
    return parse_yaml(read_text(path, error), model, source=str(path), error=error,
                      reasons=reasons)
