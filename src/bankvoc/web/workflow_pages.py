"""The handler's workflow on the pages: the case page's action forms and workflow facts, the
steps they post, bulk assignment from the inbox, and the inbox's views (built in and saved).

Every step goes through the workflow service with the version the page showed, inside a
savepoint: a refused step leaves nothing behind, and in a bulk assignment one case's refusal
never undoes another's success.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.models import Case
from bankvoc.cases.schemas import CaseRead, EventRead
from bankvoc.cases.service import AWAITING_DECISION, MAX_PAGE
from bankvoc.cases.workflow import schemas as step_schemas
from bankvoc.cases.workflow import service as workflow_service
from bankvoc.cases.workflow.table import Action, actions_in, rule_for
from bankvoc.core.errors import BankvocError, NotFound
from bankvoc.orgs.service import Actor
from bankvoc.web import directory, saved_views
from bankvoc.web.directory import OrgGroup, Person
from bankvoc.web.forms import FilterForm, Posted
from bankvoc.web.i18n import has
from bankvoc.web.models import NAME_MAX, QUERY_MAX
from bankvoc.web.present import (
    Choice,
    Countdown,
    Fact,
    Labeller,
    Problem,
    countdown,
    decision_text,
)
from bankvoc.web.step_forms import (
    Input,
    StepFormError,
    StepProblem,
    explain,
    inputs_of,
    kept_values,
    parse_step,
)

# The steps that move a case along its main road: shown open; the others fold away.
MAIN_ROAD = frozenset({Action.accept, Action.assign, Action.investigate, Action.propose,
                       Action.approve, Action.resolve, Action.close, Action.archive,
                       Action.reopen})
ENUM_NAMESPACES = frozenset({"decision"})


def input_label(action: str, name: str, lab: Labeller) -> str:
    key = f"input.{action}.{name}"
    return lab(key) if has(key) else lab(f"input.{name}")


def describe(problem: StepProblem, *, action: Action, case_status: str, case_version: int,
             seen_version: str, lab: Labeller) -> Problem:
    """A problem in the reader's language, with what the case's state adds to it."""
    params = dict(problem.params)
    if problem.key == "illegal_transition":
        possible = [lab.enum("action", a.value) for a in actions_in(case_status)]
        joined = ("、" if lab.lang == "zh" else ", ").join(possible)
        params.update(status=lab.enum("status", case_status),
                      action=lab.enum("action", action.value), possible=joined or lab("none"))
    if problem.key == "stale_version":
        params.update(seen=seen_version or "?", now=case_version)
    key = f"step_error.{problem.key}"
    if has(key):
        message = lab(key, **params)
    else:
        message = lab("step_error.rule" if problem.key.startswith("rule") else
                      "step_error.refused")
    label = input_label(action.value, problem.field, lab) if problem.field else ""
    return Problem(problem.field, label, message, problem.detail)


# --- the case page's workflow panel ---------------------------------------------------------

@dataclass(frozen=True)
class StepInput:
    name: str
    id: str
    label: str
    kind: str
    required: bool
    value: str
    choices: list[Choice]
    groups: list[OrgGroup]
    invalid: bool
    max_length: int | None
    hint: str


@dataclass(frozen=True)
class StepForm:
    action: str
    label: str
    url: str
    inputs: list[StepInput]
    main: bool
    problem: Problem | None = None
    hint: str = ""


@dataclass(frozen=True)
class Attempt:
    """A step that was refused: what was asked, what was typed, and why."""

    action: Action
    values: dict[str, str]
    problem: StepProblem
    seen_version: str


@dataclass(frozen=True)
class WorkflowPanel:
    facts: list[Fact]
    countdown: Countdown
    main: list[StepForm]
    more: list[StepForm]
    version: int
    done: str | None = None
    problem: Problem | None = None  # a refusal of a step this page no longer offers
    users: list[Person] = field(default_factory=list)
    orgs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_forms(self) -> bool:
        return bool(self.main or self.more)


def _choices(item: Input, lab: Labeller) -> list[Choice]:
    if item.kind == "yesno":
        return [Choice("yes", lab("yes")), Choice("no", lab("no"))]
    if item.namespace in ENUM_NAMESPACES:
        return [Choice(c, lab.enum(item.namespace, c)) for c in item.choices]
    return [Choice(c, lab(f"{item.namespace}.{c}")) for c in item.choices]


def _step_form(action: Action, reference: str, lab: Labeller, *, root: str,
               handlers: list[OrgGroup], attempt: Attempt | None,
               problem: Problem | None) -> StepForm:
    values = attempt.values if attempt and attempt.action == action else {}
    inputs = []
    for item in inputs_of(action):
        hint_key = f"hint.{action.value}.{item.name}"
        inputs.append(StepInput(
            name=item.name, id=f"s-{action.value}-{item.name}",
            label=input_label(action.value, item.name, lab), kind=item.kind,
            required=item.required, value=values.get(item.name, ""),
            choices=_choices(item, lab), groups=handlers if item.kind == "handler" else [],
            invalid=problem is not None and problem.field == item.name,
            max_length=item.max_length, hint=lab(hint_key) if has(hint_key) else ""))
    hint_key = f"hint.{action.value}"
    return StepForm(action=action.value, label=lab.enum("action", action.value),
                    url=f"{root}/cases/{reference}/steps/{action.value}", inputs=inputs,
                    main=action in MAIN_ROAD, problem=problem,
                    hint=lab(hint_key) if has(hint_key) else "")


def approval_state(events: Sequence[EventRead], read: CaseRead) -> tuple[str, str | None]:
    """(state, approver): none (no decision), not_needed (within the proposer's authority),
    pending, or given (by whom) since the latest proposal."""
    if not read.decision_type:
        return "none", None
    if not read.decision_needs_approval:
        return "not_needed", None
    approver = None
    for event in events:
        if event.type == "propose":
            approver = None
        elif event.type == "approve":
            approver = event.actor or "?"
    return ("given", approver) if approver else ("pending", None)


def _approval(events: Sequence[EventRead], read: CaseRead, lab: Labeller) -> str:
    state, approver = approval_state(events, read)
    return lab("none") if state == "none" else lab(f"approval.{state}", by=approver)


def _clock(events: Sequence[EventRead], read: CaseRead, lab: Labeller) -> str:
    """The decision clock: running, paused (since when, why), or stopped once decided."""
    if read.due_at is None:
        return lab("none")
    if read.status not in AWAITING_DECISION:
        return lab("clock.stopped")
    if not read.paused:
        return lab("clock.running")
    pause = next((e for e in reversed(events) if e.type == "pause"), None)
    if pause is None:
        return lab("clock.paused")
    reason = lab(f"pause_reason.{pause.data.get('reason', '')}")
    return lab("clock.paused_since", since=lab.when(pause.at), reason=reason)


def workflow_facts(read: CaseRead, events: Sequence[EventRead], lab: Labeller) -> list[Fact]:
    handling = read.handling_org or read.org
    rows = [
        ("handling_org", f"{handling.name} ({handling.code})"),
        ("assignee", read.assignee or lab("unassigned")),
        ("first_responder", read.first_responder or lab("none")),
        ("transfer_count", str(read.transfer_count)),
        ("origin", lab.enum("origin", read.origin)),
        ("origin_reference", read.origin_reference or lab("none")),
        ("escalation_level", str(read.escalation_level)),
        ("reopen_count", str(read.reopen_count)),
        ("decision", decision_text(read, lab)),
        ("approval", _approval(events, read, lab)),
        ("clock", _clock(events, read, lab)),
    ]
    return [Fact(lab(f"field.{key}"), value) for key, value in rows]


def _offered(actor: Actor, read: CaseRead, events: Sequence[EventRead]) -> list[Action]:
    """The steps the status allows and the viewer's role permits, in the table's order; an
    approval only while one is awaited, and pause or resume as the clock stands."""
    awaiting_approval = approval_state(events, read)[0] == "pending"
    offered = []
    for action in actions_in(read.status):
        rule = rule_for(read.status, action)
        if rule is None or not actor.can(rule.permission):
            continue
        if (action == Action.approve and not awaiting_approval) or \
                (action == Action.pause and read.paused) or \
                (action == Action.resume and not read.paused):
            continue
        offered.append(action)
    return offered


def workflow_panel(session: Session, *, actor: Actor, read: CaseRead,
                   events: Sequence[EventRead], lab: Labeller, now: datetime, root: str = "",
                   attempt: Attempt | None = None, done: str | None = None) -> WorkflowPanel:
    """What the case page shows of the workflow: the facts, the deadline and one form for each
    step the viewer may take now (a refused one open, with its problem next to it)."""
    offered = _offered(actor, read, events)
    problem = describe(attempt.problem, action=attempt.action, case_status=read.status,
                       case_version=read.version, seen_version=attempt.seen_version,
                       lab=lab) if attempt else None
    handling = (read.handling_org or read.org).code
    handlers = directory.by_org(directory.case_workers(session, actor=actor, within=handling)) \
        if Action.assign in offered else []
    forms = [_step_form(action, read.reference, lab, root=root, handlers=handlers,
                        attempt=attempt,
                        problem=problem if attempt and attempt.action == action else None)
             for action in offered]
    kinds = {i.kind for f in forms for i in f.inputs}
    return WorkflowPanel(
        facts=workflow_facts(read, events, lab),
        countdown=countdown(status=read.status, due_at=read.due_at,
                            received_at=read.received_at, paused=read.paused, now=now,
                            lab=lab),
        main=[f for f in forms if f.main], more=[f for f in forms if not f.main],
        version=read.version,
        done=lab("step.done", action=lab.enum("action", done))
        if done in {a.value for a in Action} else None,
        problem=problem if attempt and attempt.action not in offered else None,
        users=directory.case_workers(session, actor=actor) if "username" in kinds else [],
        orgs=directory.org_codes(session, actor=actor) if "org" in kinds else [],
    )


# --- taking a step ------------------------------------------------------------------------------

def _action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise NotFound(f"no workflow action {name!r}", field="action") from None


def _act(session: Session, *, actor: Actor, case: Case, step: step_schemas.Step) -> Case:
    """One step inside a savepoint: a refusal undoes whatever the step had begun."""
    with session.begin_nested():
        return workflow_service.act(session, actor=actor, reference=case.reference, step=step)


def take_step(session: Session, *, actor: Actor, reference: str, action: str, posted: Posted,
              lab: Labeller) -> Attempt | None:
    """Take the step a case-page form posted; None when taken, else the refused `Attempt`.

    A case the viewer may not see is a 404 page (raised), whatever the form says."""
    chosen = _action(action)
    case = cases_service.get_case(session, actor=actor, reference=reference)
    values = posted.first()
    kept = kept_values(chosen, values)
    try:
        step = parse_step(chosen, values, tz=lab.tz)
        _act(session, actor=actor, case=case, step=step)
    except StepFormError as exc:
        return Attempt(chosen, kept, exc.problem, values.get("version", ""))
    except BankvocError as exc:
        if isinstance(exc, NotFound) and exc.field in (None, "reference"):
            raise
        return Attempt(chosen, kept, explain(exc, chosen, values), values.get("version", ""))
    return None


# --- bulk assignment ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkResult:
    reference: str
    ok: bool
    text: str


@dataclass(frozen=True)
class BulkOutcome:
    results: list[BulkResult]
    problem: Problem | None = None

    @property
    def done(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def refused(self) -> int:
        return sum(not r.ok for r in self.results)


def _picked(value: str) -> tuple[str, str]:
    reference, _, version = value.partition(":")
    return reference.strip(), version.strip()


def bulk_assign(session: Session, *, actor: Actor, posted: Posted,
                lab: Labeller) -> BulkOutcome:
    """Assign each ticked case (at the version the list showed) to the chosen handler, or by
    load when none is chosen; each case succeeds or is refused on its own."""
    user = posted.get("user").strip()
    picked = [_picked(v) for v in posted.getlist("case") if v.strip()]
    if user and user not in {p.username for p in directory.case_workers(session, actor=actor)}:
        return BulkOutcome([], Problem("user", lab("bulk.user"),
                                       lab("bulk.user_unknown", value=user)))
    if not picked:
        return BulkOutcome([], Problem("case", lab("bulk.cases"), lab("bulk.none_picked")))
    if len(picked) > MAX_PAGE:
        return BulkOutcome([], Problem("case", lab("bulk.cases"),
                                       lab("bulk.too_many", max=MAX_PAGE)))
    return BulkOutcome([_assign_one(session, actor=actor, reference=reference,
                                    version=version, user=user, lab=lab)
                        for reference, version in picked])


def _assign_one(session: Session, *, actor: Actor, reference: str, version: str, user: str,
                lab: Labeller) -> BulkResult:
    try:
        case = cases_service.get_case(session, actor=actor, reference=reference)
    except NotFound:
        return BulkResult(reference, False, lab("bulk.not_found"))
    status = case.status
    values = {"version": version, "user": user}
    try:
        step = parse_step(Action.assign, values, tz=lab.tz)
        _act(session, actor=actor, case=case, step=step)
    except StepFormError as exc:
        problem = exc.problem
    except BankvocError as exc:
        problem = explain(exc, Action.assign, values)
    else:
        session.expire(case)  # the assignee relationship, as the step left it
        assignee = case.assignee.username if case.assignee else lab("unassigned")
        return BulkResult(reference, True, lab("bulk.assigned", user=assignee))
    words = describe(problem, action=Action.assign, case_status=status,
                     case_version=case.version, seen_version=version, lab=lab)
    text = f"{words.label}{lab('colon')}{words.message}" if words.label else words.message
    return BulkResult(reference, False, text + (f" ({words.detail})" if words.detail else ""))


# --- the inbox's views ----------------------------------------------------------------------------

# Built-in views: (key, query).
PRESETS: tuple[tuple[str, dict[str, str]], ...] = (
    ("all", {}),
    ("mine", {"assignee": "me"}),
    ("unassigned", {"assignee": "none", "status": "accepted"}),
    ("soon", {"due": "soon"}),
    ("overdue", {"due": "overdue"}),
)


@dataclass(frozen=True)
class ViewLink:
    name: str
    url: str
    current: bool
    id: int | None = None


@dataclass(frozen=True)
class InboxTools:
    """The inbox's views and bulk assignment. `query`: the list's filters as a query string,
    what a saved view keeps and where the inbox's forms come back to."""

    presets: list[ViewLink]
    saved: list[ViewLink]
    query: str
    save_name: str = ""
    save_problem: Problem | None = None
    can_assign: bool = False
    handlers: list[OrgGroup] = field(default_factory=list)
    bulk: BulkOutcome | None = None


def normal_query(query: str) -> str:
    """A case-list query string as the list itself would write it (page position dropped)."""
    form = FilterForm.from_query(dict(parse_qsl(query, keep_blank_values=False)))
    return urlencode(form.query())


def inbox_tools(session: Session, *, actor: Actor, form: FilterForm, lab: Labeller,
                root: str = "", save_name: str = "", save_problem: Problem | None = None,
                bulk: BulkOutcome | None = None) -> InboxTools:
    current = urlencode(form.query())

    def link(query: str) -> str:
        return f"{root}/cases?{query}" if query else f"{root}/cases"

    presets = [ViewLink(lab(f"view.{key}"), link(urlencode(q)), urlencode(q) == current)
               for key, q in PRESETS]
    saved = [ViewLink(v.name, link(v.query), v.query == current, v.id)
             for v in saved_views.list_views(session, actor=actor)]
    can_assign = actor.can("case.assign")
    handlers = directory.by_org(directory.case_workers(session, actor=actor)) \
        if can_assign else []
    return InboxTools(presets=presets, saved=saved, query=current, save_name=save_name,
                      save_problem=save_problem, can_assign=can_assign, handlers=handlers,
                      bulk=bulk)


def save_view(session: Session, *, actor: Actor, posted: Posted,
              lab: Labeller) -> tuple[str, Problem | None, int]:
    """Save the posted filters under the posted name: (query, problem, status)."""
    query = normal_query(posted.get("query"))
    try:
        with session.begin_nested():
            saved_views.create_view(session, actor=actor, name=posted.get("name"), query=query)
    except BankvocError as exc:
        if exc.field not in ("name", "query"):
            raise
        key = "view_error.query_too_long" if exc.field == "query" else f"view_error.{exc.code}"
        message = lab(key, max=NAME_MAX, count=saved_views.MAX_VIEWS, length=QUERY_MAX) \
            if has(key) else exc.message
        return query, Problem("name", lab("view.name"), message), exc.status
    return query, None, 303


def delete_view(session: Session, *, actor: Actor, view_id: int) -> None:
    saved_views.delete_view(session, actor=actor, view_id=view_id)
