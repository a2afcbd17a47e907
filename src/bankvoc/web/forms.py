"""The case-list filter form: raw query strings in, `CaseFilters` out, or an error naming the field.

Values are checked here, before any query runs, so a bad value is a message on the page, never
a 500. Dates are whole local days in the bank's time zone: "to" includes its own day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bankvoc.cases.enums import CaseKind, CaseStatus, Channel, Severity
from bankvoc.cases.schemas import CaseFilters
from bankvoc.cases.service import MAX_PAGE
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.timeutil import as_utc, utcnow
from bankvoc.nlp.taxonomy import Taxonomy
from bankvoc.sla.enums import Origin

DEFAULT_LIMIT = 25
Q_MAX = 100
FILTER_FIELDS = ("q", "status", "kind", "channel", "severity", "product", "category", "org",
                 "received_from", "received_to", "assignee", "handling_org", "origin", "due")
ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "status": CaseStatus, "kind": CaseKind, "channel": Channel, "severity": Severity,
}
ASSIGNEE_CHOICES = ("me", "none")
# "regulator": any regulator's transfer; or one origin.
REGULATOR = "regulator"
ORIGIN_CHOICES = (REGULATOR, *(o.value for o in Origin))
DUE_CHOICES = ("overdue", "soon")
DUE_SOON = timedelta(days=3)
# Errors about these query parameters are shown on the list page, next to the form.
FORM_FIELDS = frozenset((*FILTER_FIELDS, "limit", "cursor"))


class FilterError(Invalid):
    """A filter value the page explains: `key` names a `ui.error.*` message, `params` fill it."""

    def __init__(self, field: str, key: str, **params: object) -> None:
        super().__init__(f"{field}: {key}", field=field)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class FilterForm:
    """What the user typed, as typed (stripped); empty fields are absent."""

    values: dict[str, str]
    limit: str = ""
    cursor: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> FilterForm:
        values = {name: params.get(name, "").strip() for name in FILTER_FIELDS}
        return cls(values={k: v for k, v in values.items() if v},
                   limit=params.get("limit", "").strip(), cursor=params.get("cursor", "").strip())

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def query(self, *, cursor: str | None = None) -> dict[str, str]:
        """The query string that reproduces these filters (and the given page)."""
        query = dict(self.values)
        if self.limit and self.limit != str(DEFAULT_LIMIT):
            query["limit"] = self.limit
        if cursor:
            query["cursor"] = cursor
        return query


@dataclass(frozen=True)
class Posted:
    """A posted form: its text fields, in order (files are ignored)."""

    items: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str:
        return next((v for k, v in self.items if k == name), "")

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def first(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in self.items:
            values.setdefault(key, value)
        return values


def _choice(form: FilterForm, name: str, allowed: frozenset[str]) -> str | None:
    value = form.get(name)
    if value and value not in allowed:
        raise FilterError(name, "choice", value=value)
    return value or None


def _day(form: FilterForm, name: str) -> date | None:
    value = form.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, "date", value=value) from None


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time.min), tz)


def parse_limit(form: FilterForm) -> int:
    if not form.limit:
        return DEFAULT_LIMIT
    try:
        limit = int(form.limit)
    except ValueError:
        raise FilterError("limit", "limit", max=MAX_PAGE) from None
    if not 1 <= limit <= MAX_PAGE:
        raise FilterError("limit", "limit", max=MAX_PAGE)
    return limit


def _workflow_filters(form: FilterForm, now: datetime) -> dict[str, object]:
    data: dict[str, object] = {
        "assignee": _choice(form, "assignee", frozenset(ASSIGNEE_CHOICES)),
        "handling_org": form.get("handling_org") or None,
    }
    origin = _choice(form, "origin", frozenset(ORIGIN_CHOICES))
    if origin == REGULATOR:
        data["from_regulator"] = True
    elif origin:
        data["origin"] = origin
    due = _choice(form, "due", frozenset(DUE_CHOICES))
    if due == "overdue":
        data["due_before"] = now
    elif due == "soon":
        data["due_from"], data["due_before"] = now, now + DUE_SOON
    return data


def parse_filters(form: FilterForm, *, taxonomy: Taxonomy, tz: ZoneInfo,
                  now: datetime | None = None) -> CaseFilters:
    """The service's filters, or a `FilterError` for the first bad field (in form order).

    "Due soon" is within `DUE_SOON` of `now` and not yet overdue."""
    q = form.get("q")
    if len(q) > Q_MAX:
        raise FilterError("q", "too_long", max=Q_MAX)
    data: dict[str, object] = {"q": q or None, "org": form.get("org") or None}
    for name, enum in ENUM_FIELDS.items():
        data[name] = _choice(form, name, frozenset(e.value for e in enum))
    data["product"] = _choice(form, "product", frozenset(p.code for p in taxonomy.products))
    data["category"] = _choice(form, "category", frozenset(c.code for c in taxonomy.categories))
    start, end = _day(form, "received_from"), _day(form, "received_to")
    if start and end and start > end:
        raise FilterError("received_to", "date_order")
    data["received_from"] = _day_start(start, tz) if start else None
    data["received_to"] = _day_start(end + timedelta(days=1), tz) if end else None
    data.update(_workflow_filters(form, now or utcnow()))
    try:
        return CaseFilters.model_validate(data)
    except ValidationError as exc:  # a rule added to CaseFilters later: still a field message
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "q"
        raise FilterError(field, "choice", value=form.get(field)) from None


def as_filter_error(exc: BankvocError, form: FilterForm) -> FilterError | None:
    """A service error about a form field, in the page's terms; None if about anything else."""
    if isinstance(exc, FilterError):
        return exc
    if exc.field == "org":
        return FilterError("org", "org_unknown", value=form.get("org"))
    if exc.field == "handling_org":
        return FilterError("handling_org", "org_missing", value=form.get("handling_org"))
    if exc.field == "cursor":
        return FilterError("cursor", "cursor")
    if exc.field == "limit":
        return FilterError("limit", "limit", max=MAX_PAGE)
    return None
