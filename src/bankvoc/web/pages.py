"""What each page shows, gathered from the services (which apply org scoping)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseKind, CaseStatus, Channel, Severity
from bankvoc.cases.schemas import CaseRead
from bankvoc.core.errors import BankvocError, NotFound
from bankvoc.core.timeutil import utcnow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import (
    ASSIGNEE_CHOICES,
    DEFAULT_LIMIT,
    DUE_CHOICES,
    ORIGIN_CHOICES,
    REGULATOR,
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
    Problem,
    TimelineEntry,
    case_facts,
    case_row,
    chain_view,
    decisions,
    timeline_entry,
)
from bankvoc.web.workflow_pages import Attempt, InboxTools, WorkflowPanel, workflow_panel

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
    assignee: list[Choice]
    origin: list[Choice]
    due: list[Choice]


def filter_options(lab: Labeller, *, regulator: bool = False) -> FilterOptions:
    def enum_choices(namespace: str, values: list[str]) -> list[Choice]:
        return [Choice(v, lab.enum(namespace, v)) for v in values]

    origins = [Choice(REGULATOR, lab("filter.origin_regulator")),
               *enum_choices("origin", [o for o in ORIGIN_CHOICES if o != REGULATOR])]
    if regulator:  # the regulator view: which regulator, never "direct"
        origins = [c for c in origins if c.value not in (REGULATOR, "direct")]
    return FilterOptions(
        assignee=[Choice(v, lab(f"filter.assignee_{v}")) for v in ASSIGNEE_CHOICES],
        origin=origins,
        due=[Choice(v, lab(f"filter.due_{v}")) for v in DUE_CHOICES],
        status=enum_choices("status", [s.value for s in CaseStatus]),
        kind=enum_choices("kind", [k.value for k in CaseKind]),
        channel=enum_choices("channel", [c.value for c in Channel]),
        severity=enum_choices("severity", [s.value for s in Severity]),
        product=[Choice(p.code, p.label(lab.lang)) for p in lab.taxonomy.products],
        category=[Choice(c.code, c.label(lab.lang)) for c in lab.taxonomy.categories],
        limit=[Choice(str(n), str(n)) for n in LIMIT_CHOICES],
    )


@dataclass(frozen=True)
class CaseList:
    form: FilterForm
    options: FilterOptions
    rows: list[CaseRow]
    first_url: str
    next_url: str | None
    is_first_page: bool
    problem: Problem | None = None
    tools: InboxTools | None = None

    @property
    def status_code(self) -> int:
        if self.problem:
            return 422
        if self.tools and self.tools.save_problem:
            return 422
        if self.tools and self.tools.bulk and self.tools.bulk.problem:
            return 422
        return 200


def _url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _problem(error: FilterError, lab: Labeller) -> Problem:
    return Problem(field=error.field or "q", label=lab(f"field.{error.field}"),
                   message=lab(f"error.{error.key}", **error.params))


def case_list(session: Session, *, actor: Actor, form: FilterForm, lab: Labeller,
              path: str, now: datetime | None = None, regulator: bool = False,
              tools: InboxTools | None = None) -> CaseList:
    """One page of the cases the actor may see, filtered; bad filters become a `problem`.

    `regulator`: only the cases a regulator transferred (any regulator unless the form picks
    one)."""
    now = now or utcnow()
    view = CaseList(form=form, options=filter_options(lab, regulator=regulator), rows=[],
                    first_url=_url(path, form.query()), next_url=None,
                    is_first_page=not form.cursor, tools=tools)
    effective = form
    if regulator:
        if form.get("origin") in ("direct", REGULATOR):
            return replace(view, problem=_problem(
                FilterError("origin", "choice", value=form.get("origin")), lab))
        effective = replace(form, values={**form.values,
                                          "origin": form.get("origin") or REGULATOR})
    try:
        filters = parse_filters(effective, taxonomy=lab.taxonomy, tz=lab.tz, now=now)
        cases, next_cursor = cases_service.list_cases(
            session, actor=actor, filters=filters, cursor=form.cursor or None,
            limit=parse_limit(form))
    except BankvocError as exc:
        problem = as_filter_error(exc, form)
        if problem is None:
            raise
        return replace(view, problem=_problem(problem, lab))
    rows = [case_row(cases_service.to_read(c), lab, now) for c in cases]
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
    workflow: WorkflowPanel


def _org_names(session: Session, annotations: dict[str, Any]) -> dict[int | str, str]:
    """Names of the orgs automatic decisions point at: routing stores the handling org's code
    (`handling_org`; cases from before the workflow stored the org id as `org`)."""
    names: dict[int | str, str] = {}
    for key in ("org", "handling_org"):
        item = annotations.get(key)
        value = item.get("value") if isinstance(item, dict) else None
        try:
            if isinstance(value, int):
                org = org_service.get_org_by_id(session, org_id=value)
            elif isinstance(value, str):
                org = org_service.get_org_by_code(session, code=value)
            else:
                continue
        except NotFound:
            continue
        names[value] = f"{org.name} ({org.code})"
    return names


def case_page(session: Session, *, actor: Actor, reference: str, lab: Labeller,
              now: datetime | None = None, root: str = "", attempt: Attempt | None = None,
              done: str | None = None) -> CasePage:
    """A case the actor may see, its workflow (facts, deadline, the steps the viewer may take,
    a refused `attempt` with its problem), its timeline and the check of its hash chain."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    read = cases_service.to_read(case)
    events = cases_service.timeline(session, actor=actor, case=case)
    check = cases_service.check_chain(session, actor=actor, case=case)
    panel = workflow_panel(session, actor=actor, read=read, events=events, lab=lab,
                           now=now or utcnow(), root=root, attempt=attempt, done=done)
    return CasePage(
        case=read, kind=lab.enum("kind", read.kind), status=lab.enum("status", read.status),
        severity=lab.enum("severity", read.severity), facts=case_facts(read, lab),
        decisions=decisions(read.annotations, lab, _org_names(session, read.annotations)),
        timeline=[timeline_entry(e, lab) for e in events], chain=chain_view(check, lab),
        workflow=panel,
    )
