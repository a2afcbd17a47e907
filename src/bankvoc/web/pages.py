"""What each page shows, gathered from the services (which apply org scoping)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseKind, CaseStatus, Channel, Severity
from bankvoc.cases.schemas import CaseRead
from bankvoc.core.errors import BankvocError, NotFound
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import (
    DEFAULT_LIMIT,
    FilterError,
    FilterForm,
    as_filter_error,
    parse_filters,
    parse_limit,
)
from bankvoc.web.present import (
    CaseRow,
    ChainView,
    Choice,
    Decision,
    Fact,
    Labeller,
    TimelineEntry,
    case_facts,
    case_row,
    chain_view,
    decisions,
    timeline_entry,
)

LIMIT_CHOICES = (10, DEFAULT_LIMIT, 50, 100)


@dataclass(frozen=True)
class FilterOptions:
    status: list[Choice]
    kind: list[Choice]
    channel: list[Choice]
    severity: list[Choice]
    product: list[Choice]
    category: list[Choice]
    limit: list[Choice]


def filter_options(lab: Labeller) -> FilterOptions:
    def enum_choices(namespace: str, values: list[str]) -> list[Choice]:
        return [Choice(v, lab.enum(namespace, v)) for v in values]

    return FilterOptions(
        status=enum_choices("status", [s.value for s in CaseStatus]),
        kind=enum_choices("kind", [k.value for k in CaseKind]),
        channel=enum_choices("channel", [c.value for c in Channel]),
        severity=enum_choices("severity", [s.value for s in Severity]),
        product=[Choice(p.code, p.label(lab.lang)) for p in lab.taxonomy.products],
        category=[Choice(c.code, c.label(lab.lang)) for c in lab.taxonomy.categories],
        limit=[Choice(str(n), str(n)) for n in LIMIT_CHOICES],
    )


@dataclass(frozen=True)
class FieldProblem:
    """A bad filter value, in words: which field, what is wrong."""

    field: str
    label: str
    message: str


@dataclass(frozen=True)
class CaseList:
    form: FilterForm
    options: FilterOptions
    rows: list[CaseRow]
    first_url: str
    next_url: str | None
    is_first_page: bool
    problem: FieldProblem | None = None

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _problem(error: FilterError, lab: Labeller) -> FieldProblem:
    return FieldProblem(field=error.field or "q", label=lab(f"field.{error.field}"),
                        message=lab(f"error.{error.key}", **error.params))


def case_list(session: Session, *, actor: Actor, form: FilterForm, lab: Labeller,
              path: str) -> CaseList:
    """One page of the cases the actor may see, filtered; bad filters become a `problem`."""
    view = CaseList(form=form, options=filter_options(lab), rows=[],
                    first_url=_url(path, form.query()), next_url=None,
                    is_first_page=not form.cursor)
    try:
        filters = parse_filters(form, taxonomy=lab.taxonomy, tz=lab.tz)
        cases, next_cursor = cases_service.list_cases(
            session, actor=actor, filters=filters, cursor=form.cursor or None,
            limit=parse_limit(form))
    except BankvocError as exc:
        problem = as_filter_error(exc, form)
        if problem is None:
            raise
        return replace(view, problem=_problem(problem, lab))
    rows = [case_row(cases_service.to_read(c), lab) for c in cases]
    next_url = _url(path, form.query(cursor=next_cursor)) if next_cursor else None
    return replace(view, rows=rows, next_url=next_url)


@dataclass(frozen=True)
class CasePage:
    case: CaseRead
    kind: str
    status: str
    severity: str
    facts: list[Fact]
    decisions: list[Decision]
    timeline: list[TimelineEntry]
    chain: ChainView


def _org_names(session: Session, annotations: dict[str, Any]) -> dict[int, str]:
    """Names of the orgs automatic decisions point at (routing stores the org id)."""
    names: dict[int, str] = {}
    item = annotations.get("org")
    value = item.get("value") if isinstance(item, dict) else None
    if isinstance(value, int):
        try:
            org = org_service.get_org_by_id(session, org_id=value)
            names[value] = f"{org.name} ({org.code})"
        except NotFound:
            pass
    return names


def case_page(session: Session, *, actor: Actor, reference: str, lab: Labeller) -> CasePage:
    """A case the actor may see, its timeline and the check of its hash chain."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    read = cases_service.to_read(case)
    events = cases_service.timeline(session, actor=actor, case=case)
    check = cases_service.check_chain(session, actor=actor, case=case)
    return CasePage(
        case=read, kind=lab.enum("kind", read.kind), status=lab.enum("status", read.status),
        severity=lab.enum("severity", read.severity), facts=case_facts(read, lab),
        decisions=decisions(read.annotations, lab, _org_names(session, read.annotations)),
        timeline=[timeline_entry(e, lab) for e in events], chain=chain_view(check, lab),
    )
