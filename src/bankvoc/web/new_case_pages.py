"""The new-case page (登记投诉): a customer look-up by mobile phone or ID number, and a form that
registers the case through the intake pipeline (`intake.service.register_case`, the one the
API's POST /api/v1/cases uses), so it is classified, graded, routed and put on the clock.

The look-up is an exact match through the customers service's keyed blind index; the customer
found is shown masked (张* · 138****5678), with their latest cases *in the viewer's scope* only,
so the page tells a user nothing they could not already see. It is posted (with the session's
CSRF token), never a query string: a phone or ID number in a URL would land in access logs,
browser history and Referer headers.

Every value is checked here before the pipeline runs; each problem is shown next to its field,
in the reader's language. A refusal by the pipeline itself is shown the same way.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.core.errors import NotFound
from bankvoc.core.timeutil import as_utc, to_local, utcnow
from bankvoc.customers import disclosure, masking
from bankvoc.customers import service as customer_service
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from bankvoc.web.dashboard_pages import org_choices
from bankvoc.web.forms import Posted
from bankvoc.web.present import CaseRow, Choice, Labeller, Problem, case_row

# The form's fields, in page order (the order its problems are listed in).
FIELDS = ("customer_name", "customer_phone", "customer_id_number", "kind", "channel", "org",
          "received_at", "product", "category", "amount", "title", "text")
MAX_LENGTH = {"customer_name": 100, "customer_phone": 40, "customer_id_number": 40,
              "title": 200, "text": 20_000, "lookup": 40}
LABEL_KEYS = {"title": "new.title_field"}  # "new.title" is the page's
DEFAULT_CHANNEL = Channel.branch.value
RECENT_CASES = 5
LOOKUP_VIA = disclosure.Via("page", "POST /cases/new/lookup")
AMOUNT_MAX = Decimal("1000000000000")
# A clock a little ahead of the server's is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def field_id(name: str) -> str:
    return f"n-{name}"


@dataclass(frozen=True)
class CustomerFound:
    """A customer the look-up found: masked, with their latest cases in the viewer's scope."""

    name: str
    phone: str
    id_number: str
    cases: list[CaseRow]


@dataclass(frozen=True)
class Lookup:
    """What was looked up (as typed, for the form), how, and what came of it."""

    query: str
    by: str = ""  # "phone" or "id_number" once the value is understood
    found: CustomerFound | None = None
    problem: Problem | None = None


@dataclass(frozen=True)
class Options:
    kinds: list[Choice]
    channels: list[Choice]
    orgs: list[Choice]
    products: list[Choice]
    categories: list[Choice]


@dataclass
class NewCaseView:
    values: dict[str, str]
    options: Options
    form_key: str
    lookup: Lookup | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def status_code(self) -> int:
        if self.problems or (self.lookup and self.lookup.problem):
            return 422
        return 200

    def problem(self, name: str) -> Problem | None:
        return next((p for p in self.problems if p.field == field_id(name)), None)


def _options(session: Session, actor: Actor, lab: Labeller) -> Options:
    return Options(
        kinds=[Choice(k.value, lab.enum("kind", k.value)) for k in CaseKind],
        channels=[Choice(c.value, lab.enum("channel", c.value)) for c in Channel],
        orgs=org_choices(session, actor, lab),
        products=[Choice(p.code, p.label(lab.lang)) for p in lab.taxonomy.products],
        categories=[Choice(c.code, c.label(lab.lang)) for c in lab.taxonomy.categories],
    )


def _defaults(session: Session, actor: Actor, lab: Labeller, now: datetime) -> dict[str, str]:
    own = org_service.get_org_by_id(session, org_id=actor.org_id)
    return {"kind": CaseKind.complaint.value, "channel": DEFAULT_CHANNEL, "org": own.code,
            "received_at": to_local(now, lab.tz).strftime(DATETIME_LOCAL)}


def _view(session: Session, actor: Actor, lab: Labeller, values: dict[str, str], *,
          form_key: str = "", lookup: Lookup | None = None,
          problems: list[Problem] | None = None) -> NewCaseView:
    return NewCaseView(values=values, options=_options(session, actor, lab),
                       form_key=form_key if _FORM_KEY.match(form_key) else
                       secrets.token_urlsafe(24),
                       lookup=lookup, problems=problems or [])


def blank(session: Session, *, actor: Actor, lab: Labeller,
          now: datetime | None = None) -> NewCaseView:
    """The empty form: a complaint at the counter of the user's own org, received now."""
    actor.require("case.create")
    return _view(session, actor, lab, _defaults(session, actor, lab, now or utcnow()))


# --- the look-up -----------------------------------------------------------------------------

def _problem(lab: Labeller, name: str, key: str, *, detail: str = "",
             **params: object) -> Problem:
    return Problem(field=field_id(name), label=lab(LABEL_KEYS.get(name, f"new.{name}")),
                   message=lab(f"new.error.{key}", **params), detail=detail)


def _understood(query: str) -> tuple[str, str] | None:
    """("id_number" | "phone", its normal form), or None when it is neither."""
    id_number = masking.normalise_id_number(query)
    if masking.valid_id_number(id_number):
        return "id_number", id_number
    phone = masking.normalise_phone(query)
    if masking.valid_phone(phone):
        return "phone", phone
    return None


def _record_id_lookup(session: Session, actor: Actor, by: str, customer_id: int | None) -> None:
    """A look-up by ID number probes sensitive personal information (PIPL art. 28): it is
    recorded, found or not (who, when, which customer; never the number itself)."""
    if by != "id_number":
        return
    disclosure.record(session, actor=actor, subject="customer", via=LOOKUP_VIA,
                      customer_ids=[customer_id] if customer_id is not None else [],
                      fields=["id_number"],
                      detail="look-up by ID number: " + ("found" if customer_id else "none"))


def lookup(session: Session, *, actor: Actor, posted: Posted, lab: Labeller,
           now: datetime | None = None) -> NewCaseView:
    """The form again with the customer the posted `lookup` names (masked, with their cases in
    the viewer's scope) and their number carried into the form; or what to fix."""
    actor.require("case.create")
    now = now or utcnow()
    values = _defaults(session, actor, lab, now)
    query = posted.get("lookup").strip()

    def refused(key: str) -> NewCaseView:
        problem = _problem(lab, "lookup", key, max=MAX_LENGTH["lookup"])
        return _view(session, actor, lab, values, lookup=Lookup(query=query, problem=problem))

    if not query:
        return refused("required")
    if len(query) > MAX_LENGTH["lookup"]:
        return refused("too_long")
    understood = _understood(query)
    if understood is None:
        return refused("lookup")
    by, number = understood
    if by == "id_number" and not masking.id_checksum_ok(number):
        return refused("id_number")
    values[f"customer_{by}"] = number
    try:
        customer = (customer_service.find_customer(session, actor=actor, id_number=number)
                    if by == "id_number" else
                    customer_service.find_customer(session, actor=actor, phone=number))
    except NotFound:
        _record_id_lookup(session, actor, by, None)
        return _view(session, actor, lab, values, lookup=Lookup(query=query, by=by))
    _record_id_lookup(session, actor, by, customer.id)
    cases = cases_service.recent_cases_of_customer(session, actor=actor,
                                                   customer_id=customer.id, limit=RECENT_CASES)
    found = CustomerFound(
        name=customer.name_masked or lab("none"), phone=customer.phone_masked or lab("none"),
        id_number=customer.id_number_masked or lab("none"),
        cases=[case_row(cases_service.to_read(c), lab, now) for c in cases])
    return _view(session, actor, lab, values, lookup=Lookup(query=query, by=by, found=found))


# --- registering -----------------------------------------------------------------------------

def _received_at(text: str, lab: Labeller, now: datetime) -> datetime | str:
    """The local time typed (`2026-03-01T09:30`, or with a space) in UTC, or the error key."""
    try:
        local = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return "received_at"
    if local.tzinfo is not None:
        return "received_at"
    moment = as_utc(local, lab.tz)
    return "future" if moment > now + CLOCK_SKEW else moment


def _amount(text: str) -> Decimal | None:
    try:
        amount = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= AMOUNT_MAX:
        return None
    return amount


def _identity(values: dict[str, str], problems: list[Problem], lab: Labeller) -> None:
    """The customer's phone and ID number in their normal forms (in `values`), or problems."""
    cleaners: dict[str, tuple[Callable[[str], str], str]] = {
        "customer_phone": (masking.clean_phone, "phone"),
        "customer_id_number": (masking.clean_id_number, "id_number"),
    }
    for name, (clean, key) in cleaners.items():
        if values[name] and len(values[name]) <= MAX_LENGTH[name]:
            try:
                values[name] = clean(values[name])
            except ValueError:
                problems.append(_problem(lab, name, key))


def _checked(values: dict[str, str], options: Options, lab: Labeller,
             now: datetime) -> tuple[dict[str, object], list[Problem]]:
    """The `CaseCreate` fields of the posted values, and the problems, in page order."""
    problems: list[Problem] = []
    for name, limit in MAX_LENGTH.items():
        if len(values.get(name, "")) > limit:
            problems.append(_problem(lab, name, "too_long", max=limit))
    _identity(values, problems, lab)
    choices = {"kind": options.kinds, "channel": options.channels, "org": options.orgs,
               "product": options.products, "category": options.categories}
    for name, allowed in choices.items():
        value = values[name]
        if not value and name in ("kind", "channel", "org"):
            problems.append(_problem(lab, name, "choose"))
        elif value and value not in {c.value for c in allowed}:
            problems.append(_problem(lab, name, "org" if name == "org" else "choose"))
    data: dict[str, object] = {name: values[name] or None for name in FIELDS}
    if not values["text"]:
        problems.append(_problem(lab, "text", "required"))
    if values["amount"]:
        data["amount"] = _amount(values["amount"])
        if data["amount"] is None:
            problems.append(_problem(lab, "amount", "amount"))
    when = _received_at(values["received_at"], lab, now) if values["received_at"] else now
    if isinstance(when, str):
        problems.append(_problem(lab, "received_at", when))
    data["received_at"] = when
    order = {field_id(name): i for i, name in enumerate(FIELDS)}
    problems.sort(key=lambda p: order.get(p.field or "", len(order)))
    return data, _first_per_field(problems)


def _first_per_field(problems: list[Problem]) -> list[Problem]:
    seen: set[str | None] = set()
    kept = []
    for problem in problems:
        if problem.field not in seen:
            seen.add(problem.field)
            kept.append(problem)
    return kept


def _refusal(name: str | None, detail: str, lab: Labeller) -> Problem:
    """The pipeline's refusal of a field (its own words as the detail)."""
    form_name = name if name in FIELDS else "text"
    key = "org" if form_name == "org" else "intake"
    return _problem(lab, form_name, key, detail=detail)


def create(session: Session, *, actor: Actor, posted: Posted, lab: Labeller,
           now: datetime | None = None) -> str | NewCaseView:
    """Register the posted case through the intake pipeline: the reference of the case it
    became (or joined, for a repeat of an open case; or was already, for the same form sent
    twice), else the form again with what to fix next to each field."""
    actor.require("case.create")
    now = now or utcnow()
    values = {name: posted.get(name).strip() for name in FIELDS}
    form_key = posted.get("form_key")
    options = _options(session, actor, lab)
    data, problems = _checked(values, options, lab, now)

    def again(found: list[Problem]) -> NewCaseView:
        return NewCaseView(values=values, options=options, form_key=form_key,
                           problems=found) if _FORM_KEY.match(form_key) else \
            _view(session, actor, lab, values, problems=found)

    if problems:
        return again(problems)
    try:
        body = CaseCreate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else None
        return again([_refusal(name, str(first.get("msg", "")), lab)])
    draft = intake_service.register_case(
        session, actor=actor, data=body,
        idempotency_key=form_key if _FORM_KEY.match(form_key) else None)
    if draft.rejected or not draft.reference:
        return again([_refusal(draft.error_field, draft.error or "", lab)])
    return draft.reference
