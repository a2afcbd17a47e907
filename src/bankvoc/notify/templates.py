"""Notification templates: a versioned YAML file of Jinja2 texts in Chinese and English.

The shipped file is `notify/templates.yaml`; a bank's own (`BANKVOC_NOTIFY_TEMPLATES_FILE`) is
checked the same way and refused with the line and reason of each problem. Templates render
in Jinja2's sandbox with `StrictUndefined`: a variable the template needs and the context does
not give is a `TemplateError` naming it (field `context.<name>`), an unknown code an
`UnknownTemplate`. Names are masked by the templates themselves (`mask_name`), so a caller's
slip cannot put a full name into a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import StrictUndefined, meta, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankvoc.core import configstore
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware
from bankvoc.core.yamlfile import (
    Problem,
    YamlFileError,
    parse_yaml,
    problems_found,
    read_text,
    refuse,
)
from bankvoc.customers import masking
from bankvoc.notify.errors import TemplateError, UnknownTemplate

LANGUAGES = ("zh", "en")
# Given to every template by the renderer, never by the caller.
_BUILTINS = frozenset({"language"})


class TemplateFileError(YamlFileError):
    code = "templates_invalid"
    default_field = "BANKVOC_NOTIFY_TEMPLATES_FILE"


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)


class _Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Literal["customer", "staff"]
    description: str = ""
    optional: list[str] = Field(default_factory=list)
    zh: _Text
    en: _Text


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=20)
    defaults: dict[str, dict[str, str]] = Field(default_factory=dict)
    templates: dict[str, _Template]

    @model_validator(mode="after")
    def _compiles(self) -> _File:
        problems = [Problem(("defaults", lang), "is not a language: zh or en")
                    for lang in self.defaults if lang not in LANGUAGES]
        env = _environment()
        for code, template in self.templates.items():
            for lang in LANGUAGES:
                for part in ("subject", "body"):
                    source = getattr(getattr(template, lang), part)
                    try:
                        env.compile(source)  # (compiling also finds unknown filters)
                    except jinja2.TemplateSyntaxError as exc:
                        problems.append(Problem(("templates", code, lang, part),
                                                f"not a valid template: {exc.message}"))
        if problems:
            raise problems_found(problems)
        return self


# --- filters ------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(value: Any) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime):
        return ensure_aware(value).astimezone(get_settings().tz)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return _local(dt.datetime.fromisoformat(value)) if "T" in value or " " in value \
                else dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise TemplateError(f"not a date: {type(value).__name__}", field="context")


def _day_text(day: dt.date, language: str) -> str:
    if language == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


@pass_context
def _day(context: Context, value: Any) -> str:
    local = _local(value)
    day = local.date() if isinstance(local, dt.datetime) else local
    return _day_text(day, str(context.get("language", "zh")))


@pass_context
def _moment(context: Context, value: Any) -> str:
    local = _local(value)
    day_text = _day_text(local.date() if isinstance(local, dt.datetime) else local,
                         str(context.get("language", "zh")))
    if not isinstance(local, dt.datetime):
        return day_text
    return f"{day_text} {local:%H:%M}"


def _mask_name(value: Any) -> str:
    return masking.mask_name(str(value)) if value else ""


def _mask_phone(value: Any) -> str:
    return masking.mask_phone(masking.normalise_phone(str(value))) if value else ""


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)
    env.filters.update({"mask_name": _mask_name, "mask_phone": _mask_phone,
                        "day": _day, "moment": _moment})
    return env


# --- the template set ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    template: str
    version: str
    language: str
    subject: str
    body: str


@dataclass(frozen=True)
class TemplateInfo:
    """What a template is for and the context it needs (for callers and documentation)."""

    code: str
    audience: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


class TemplateSet:
    def __init__(self, data: _File) -> None:
        self.version = data.version
        self._data = data
        self._env = _environment()
        self._compiled: dict[tuple[str, str], tuple[jinja2.Template, jinja2.Template]] = {}
        self._info: dict[str, TemplateInfo] = {}
        for code, template in data.templates.items():
            needed: set[str] = set()
            for lang in LANGUAGES:
                text: _Text = getattr(template, lang)
                self._compiled[code, lang] = (self._env.from_string(text.subject),
                                              self._env.from_string(text.body))
                defaults = data.defaults.get(lang, {})
                for source in (text.subject, text.body):
                    needed |= meta.find_undeclared_variables(self._env.parse(source)) \
                        - set(defaults)
            optional = set(template.optional)
            self._info[code] = TemplateInfo(
                code=code, audience=template.audience, description=template.description,
                required=tuple(sorted(needed - optional - _BUILTINS)),
                optional=tuple(sorted(optional)))

    @property
    def codes(self) -> list[str]:
        return list(self._info)

    def info(self, code: str) -> TemplateInfo:
        found = self._info.get(code)
        if found is None:
            raise UnknownTemplate(f"unknown notification template {code!r}; known: "
                                  f"{', '.join(self._info)}", field="template")
        return found

    def render(self, code: str, *, language: str, context: Mapping[str, Any]) -> Rendered:
        info = self.info(code)
        if language not in LANGUAGES:
            raise TemplateError(f"no language {language!r}: zh or en", field="language")
        missing = [name for name in info.required if name not in context]
        if missing:
            raise TemplateError(
                f"template {code!r} needs the context variable"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                field=f"context.{missing[0]}")
        values = {**self._data.defaults.get(language, {}),
                  **context, "language": language}
        subject_template, body_template = self._compiled[code, language]
        try:
            subject = subject_template.render(values)
            body = body_template.render(values)
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"template {code!r} ({language}): {exc.message}",
                                field="context") from None
        except SecurityError:
            raise TemplateError(f"template {code!r} ({language}) did something unsafe",
                                field="template") from None
        return Rendered(template=code, version=self.version, language=language,
                        subject=" ".join(subject.split()), body=body.strip())


SHIPPED = "templates.yaml"
KIND = "notify_templates"  # its kind of versioned configuration (bankvoc.core.configstore)


def _parse_version(text: str, source: str) -> TemplateSet:
    return parse_templates(text, source=source)


def parse_templates(text: str, *, source: str) -> TemplateSet:
    return TemplateSet(parse_yaml(text, _File, source=source, error=TemplateFileError))


@lru_cache(maxsize=4)
def _load(path: str | None, mtime: float | None) -> TemplateSet:
    if path is None:
        text = (resources.files("bankvoc.notify") / SHIPPED).read_text(encoding="utf-8")
        return parse_templates(text, source=SHIPPED)
    return parse_templates(read_text(Path(path), TemplateFileError), source=path)


def shipped_templates() -> TemplateSet:
    return _load(None, None)


def check_templates(text: str, *, source: str) -> TemplateSet:
    """The templates in `text` if the application can send them: each template it sends is
    there, and uses only the variables the application gives it (those the shipped template
    uses, the file's defaults and `language`); else a TemplateFileError naming each problem's
    line and reason."""
    candidate = parse_templates(text, source=source)
    shipped = shipped_templates()
    problems = [Problem(("templates",), f"template {code!r} is missing: the application sends "
                                        "it") for code in shipped.codes
                if code not in candidate.codes]
    env = _environment()
    for code, template in candidate._data.templates.items():
        if code not in shipped.codes:
            continue
        info = shipped.info(code)
        given = {*info.required, *info.optional, *_BUILTINS,
                 *candidate._data.defaults.get("zh", {}), *candidate._data.defaults.get("en", {})}
        for lang in LANGUAGES:
            for part in ("subject", "body"):
                used = meta.find_undeclared_variables(
                    env.parse(getattr(getattr(template, lang), part)))
                unknown = sorted(used - given)
                if unknown:
                    problems.append(Problem(
                        ("templates", code, lang, part),
                        f"uses {', '.join('{{ ' + name + ' }}' for name in unknown)}, which the "
                        f"application does not give this template (it gives: "
                        f"{', '.join(sorted(given - _BUILTINS)) or 'nothing'})"))
    if problems:
        raise refuse(text, problems, source=source, error=TemplateFileError)
    return candidate


def current_templates() -> TemplateSet:
    """The version activated on the admin screens, else the bank's templates
    (BANKVOC_NOTIFY_TEMPLATES_FILE), else the shipped ones; re-read when the file changes."""
    active = configstore.parsed(KIND, _parse_version)
    if active is not None:
        return active
    path = get_settings().notify_templates_file
    if path is None:
        return _load(None, None)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise TemplateFileError(f"no templates file {path}") from None
    return _load(str(path), mtime)


def render(code: str, *, language: str, context: Mapping[str, Any]) -> Rendered:
    return current_templates().render(code, language=language, context=context)
