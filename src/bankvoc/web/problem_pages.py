"""The problem library (投诉问题库) on screen: the list with status, linked cases and the
recurring flag; one problem with its root causes, its cases and its improvement actions with
their measured effect (before/after and the difference in differences with its 95% interval);
forms to create a problem and to link a case, for the roles that may.

Everything goes through `problems.service` and `problems.actions` (which check the roles and
read linked cases through the viewer's org scope); a refused form leaves nothing behind (the
service call runs in a savepoint) and comes back with the problem next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bankvoc.core.errors import BankvocError
from bankvoc.orgs.service import Actor
from bankvoc.problems import actions as actions_service
from bankvoc.problems import service as problems_service
from bankvoc.problems.enums import CauseCategory, ProblemStatus
from bankvoc.problems.models import Problem as ProblemRow
from bankvoc.problems.schemas import EffectRead, OutcomeRead, ProblemCreate
from bankvoc.web.dashboard_pages import json_for_script
from bankvoc.web.forms import Posted
from bankvoc.web.present import Choice, Fact, Labeller, Problem

PAGE = 50
LINKED_SHOWN = 20  # the newest links shown; the count says how many there are
# Draws of the permutation test behind each p-value shown (the monthly report uses as many).
EFFECT_PERMUTATIONS = 499
CREATE_FIELDS = ("code", "title_zh", "title_en", "product", "category", "cause_category",
                 "description")
# "complaints" stands in for the complaint rate when no customer numbers are imported.
OUTCOMES = ("complaint_rate", "complaints", "csat", "problem_cases")


def _title(problem: ProblemRow, lang: str) -> str:
    return problem.title_en if lang == "en" and problem.title_en else problem.title_zh


# --- the list ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProblemLine:
    id: int
    code: str
    title: str
    status: str
    status_label: str
    category: str
    cause: str
    cases: int
    recurring: bool
    reasons: list[str]


@dataclass
class ProblemList:
    q: str
    status: str
    statuses: list[Choice]
    lines: list[ProblemLine] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    next_url: str | None = None
    can_create: bool = False
    create: CreateForm | None = None

    @property
    def status_code(self) -> int:
        return self.create.status if self.create and self.create.problem else 200


@dataclass
class CreateForm:
    values: dict[str, str]
    categories: list[Choice]
    products: list[Choice]
    causes: list[Choice]
    problem: Problem | None = None
    status: int = 200

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def create_form(lab: Labeller, values: Mapping[str, str] | None = None) -> CreateForm:
    return CreateForm(
        values=dict(values or {}),
        categories=[Choice(c.code, c.label(lab.lang)) for c in lab.taxonomy.categories],
        products=[Choice(p.code, p.label(lab.lang)) for p in lab.taxonomy.products],
        causes=[Choice(c.value, lab.enum("cause", c.value)) for c in CauseCategory])


def problem_list(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
                 root: str = "", create: CreateForm | None = None) -> ProblemList:
    q = str(params.get("q", "")).strip()[:100]
    status = str(params.get("status", "")).strip()
    chosen = ProblemStatus(status) if status in set(ProblemStatus) else None
    try:
        offset = max(0, int(str(params.get("offset", "0")) or 0))
    except ValueError:
        offset = 0
    view = ProblemList(q=q, status=chosen.value if chosen else "",
                       statuses=[Choice(s.value, lab.enum("problem_status", s.value))
                                 for s in ProblemStatus],
                       offset=offset, can_create=actor.can("problem.manage"))
    view.create = create or (create_form(lab) if view.can_create else None)
    page, view.total = problems_service.list_problems(session, actor=actor, status=chosen,
                                                      q=q or None, limit=PAGE, offset=offset)
    counts = problems_service.linked_counts(session, actor=actor, problems=page)
    recurring = {r.problem.id: r.reasons
                 for r in problems_service.recurring(session, actor=actor)}
    view.lines = [ProblemLine(
        id=p.id, code=p.code, title=_title(p, lab.lang), status=p.status,
        status_label=lab.enum("problem_status", p.status),
        category=lab.term("category", p.category),
        cause=lab.enum("cause", p.cause_category), cases=counts.get(p.id, 0),
        recurring=p.id in recurring, reasons=recurring.get(p.id, [])) for p in page]
    if offset + PAGE < view.total:
        query = {k: v for k, v in (("q", q), ("status", view.status)) if v}
        view.next_url = f"{root}/problems?{urlencode({**query, 'offset': offset + PAGE})}"
    return view


def _validation_problem(exc: ValidationError, lab: Labeller, prefix: str) -> Problem:
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else None
    return Problem(field=f"{prefix}{name}" if name else None,
                   label=lab(f"prob.field_{name}") if name else "",
                   message=lab("prob.invalid"), detail=str(first.get("msg", "")))


def _service_problem(exc: BankvocError, lab: Labeller, prefix: str) -> Problem:
    name = exc.field
    return Problem(field=f"{prefix}{name}" if name else None,
                   label=lab(f"prob.field_{name}") if name else "",
                   message=lab(f"prob.refused_{exc.code}") if exc.code in (
                       "conflict", "not_found", "forbidden") else lab("prob.invalid"),
                   detail=exc.message)


def create_problem(session: Session, *, actor: Actor, posted: Posted, lab: Labeller
                   ) -> tuple[int | None, CreateForm]:
    """Create a problem from the posted form: (its id, the form) or (None, the form with its
    problem). A role that may not curate the library gets 403 from the service."""
    values = {name: posted.get(name).strip() for name in CREATE_FIELDS}
    form = create_form(lab, values)
    data = {k: v for k, v in values.items() if v}
    try:
        body = ProblemCreate.model_validate(data)
    except ValidationError as exc:
        form.problem, form.status = _validation_problem(exc, lab, "p-"), 422
        return None, form
    try:
        with session.begin_nested():
            created = problems_service.create_problem(session, actor=actor, data=body)
    except BankvocError as exc:
        if exc.status == 403:
            raise
        form.problem, form.status = _service_problem(exc, lab, "p-"), exc.status
        return None, form
    return created.id, form


# --- one problem ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkedCase:
    reference: str
    status: str
    status_label: str
    org: str
    received_at: str
    linked_at: str
    linked_by: str
    cause: str
    why: str


@dataclass(frozen=True)
class OutcomeView:
    name: str
    label: str
    unit: str
    measured: bool
    reliable: bool
    text: list[str]
    notes: list[str]
    chart_id: str


@dataclass(frozen=True)
class ActionView:
    id: int
    title: str
    owner: str
    due: str
    status: str
    status_label: str
    started: str
    cost: str
    pilots: str
    notes: str
    measured: bool
    unmeasured_reason: str
    outcomes: list[OutcomeView]
    comparison: str
    benefit: list[str]
    effect_notes: list[str]


@dataclass
class ProblemPage:
    id: int
    code: str
    title: str
    title_other: str
    status: str
    status_label: str
    facts: list[Fact]
    description: str
    recurring: list[str]
    cases: list[LinkedCase]
    cases_total: int
    actions: list[ActionView]
    can_link: bool
    link_value: str = ""
    link_problem: Problem | None = None
    link_status: int = 200
    linked: str = ""
    created: bool = False
    charts_json: str = "[]"

    @property
    def status_code(self) -> int:
        return self.link_status if self.link_problem else 200


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:+,.{digits}f}"


def _outcome_view(outcome: OutcomeRead, action_id: int, lab: Labeller) -> OutcomeView:
    label = lab(f"prob.outcome_{outcome.name}")
    unit = lab(f"prob.unit_{outcome.name}")
    chart_id = f"effect-{action_id}-{outcome.name}"
    if not outcome.measured:
        return OutcomeView(outcome.name, label, unit, False, False,
                           [lab("prob.not_measured")], outcome.notes, chart_id)
    text = [
        lab("prob.text_pilot", before=_number(outcome.pilot_before),
            after=_number(outcome.pilot_after)),
        lab("prob.text_comparison", before=_number(outcome.comparison_before),
            after=_number(outcome.comparison_after)),
        lab("prob.text_did", did=_signed(outcome.did), low=_signed(outcome.ci_low),
            high=_signed(outcome.ci_high)),
    ]
    if outcome.relative is not None:
        text.append(lab("prob.text_relative", pct=f"{outcome.relative:+.1%}"))
    if outcome.p_value is not None:
        text.append(lab("prob.text_p", p=f"{outcome.p_value:.3f}", n=EFFECT_PERMUTATIONS))
    return OutcomeView(outcome.name, label, unit, True, outcome.reliable, text,
                       outcome.notes, chart_id)


def _chart(outcome: OutcomeRead, view: OutcomeView, lab: Labeller) -> dict[str, Any]:
    return {
        "id": view.chart_id, "title": view.label, "unit": view.unit,
        "categories": [lab("prob.before"), lab("prob.after"), lab("prob.did_axis")],
        "pilot": {"name": lab("prob.pilot"),
                  "values": [outcome.pilot_before, outcome.pilot_after]},
        "comparison": {"name": lab("prob.comparison"),
                       "values": [outcome.comparison_before, outcome.comparison_after]},
        "did": {"name": lab("prob.did"), "value": outcome.did, "low": outcome.ci_low,
                "high": outcome.ci_high, "interval": lab("prob.interval")},
        "reliable": outcome.reliable,
        "better": "higher" if outcome.name == "csat" else "lower",
    }


def _benefit(effect: EffectRead, lab: Labeller) -> list[str]:
    b = effect.benefit
    lines = [lab("prob.cost", cost=lab.money(b.cost, "CNY"))]
    if b.complaints_avoided_per_month is not None and b.complaints_avoided_per_month_ci:
        low, high = b.complaints_avoided_per_month_ci
        lines.append(lab("prob.avoided", n=f"{b.complaints_avoided_per_month:.2f}",
                         low=f"{low:.2f}", high=f"{high:.2f}"))
    if b.cost_per_complaint_avoided is not None:
        lines.append(lab("prob.cost_each", cost=lab.money(b.cost_per_complaint_avoided, "CNY")))
    return lines


def _action_view(session: Session, actor: Actor, action: Any, lab: Labeller,
                 charts: list[dict[str, Any]]) -> ActionView:
    read = actions_service.to_read(session, action)
    outcomes: list[OutcomeView] = []
    reason, comparison, benefit, notes = "", "", [], []
    measured = False
    try:
        effect = actions_service.measure_effect(session, actor=actor, action_id=action.id,
                                                permutations=EFFECT_PERMUTATIONS)
    except BankvocError as exc:
        if exc.status not in (409, 403):
            raise
        reason = exc.message
    else:
        measured = True
        comparison = ", ".join(effect.comparison_orgs)
        benefit, notes = _benefit(effect, lab), [*effect.notes, *effect.benefit.notes]
        by_name: dict[str, OutcomeRead] = {o.name: o for o in effect.outcomes}
        for name in OUTCOMES:
            outcome = by_name.get(name)
            if outcome is None:
                continue
            view = _outcome_view(outcome, action.id, lab)
            outcomes.append(view)
            if outcome.measured:
                charts.append(_chart(outcome, view, lab))
    return ActionView(
        id=read.id, title=read.title, owner=read.owner,
        due=read.due_date.isoformat() if read.due_date else lab("none"),
        status=read.status.value, status_label=lab.enum("action_status", read.status.value),
        started=read.started_on.isoformat() if read.started_on else lab("none"),
        cost=lab.money(read.cost, "CNY"), pilots=", ".join(read.pilot_orgs) or lab("none"),
        notes=read.notes, measured=measured, unmeasured_reason=reason, outcomes=outcomes,
        comparison=comparison, benefit=benefit, effect_notes=notes)


def _linked(session: Session, actor: Actor, problem_id: int, lab: Labeller
            ) -> list[LinkedCase]:
    rows = []
    for link, case, name in problems_service.linked_cases(session, actor=actor,
                                                          problem_id=problem_id,
                                                          limit=LINKED_SHOWN):
        cause, why = lab("none"), ""
        found, _ = problems_service.get_root_cause(session, actor=actor,
                                                   reference=case.reference)
        if found is not None:
            cause, why = lab.enum("cause", found.category), found.why
        rows.append(LinkedCase(
            reference=case.reference, status=case.status,
            status_label=lab.enum("status", case.status), org=case.org.name,
            received_at=lab.when(case.received_at), linked_at=lab.when(link.linked_at),
            linked_by=name or lab("system"), cause=cause, why=why))
    return rows


def problem_page(session: Session, *, actor: Actor, problem_id: int, lab: Labeller,
                 params: Mapping[str, str] | None = None, link_value: str = "",
                 link_problem: Problem | None = None, link_status: int = 200) -> ProblemPage:
    params = params or {}
    problem = problems_service.get_problem(session, actor=actor, problem_id=problem_id)
    recurring = next((r.reasons for r in problems_service.recurring(session, actor=actor)
                      if r.problem.id == problem.id), [])
    charts: list[dict[str, Any]] = []
    actions = [_action_view(session, actor, a, lab, charts)
               for a in actions_service.list_actions(session, actor=actor,
                                                     problem_id=problem.id)]
    other = problem.title_zh if lab.lang == "en" else (problem.title_en or "")
    facts = [
        Fact(lab("prob.field_code"), problem.code),
        Fact(lab("field.status"), lab.enum("problem_status", problem.status)),
        Fact(lab("field.product"), lab.term("product", problem.product)),
        Fact(lab("field.category"), lab.term("category", problem.category)),
        Fact(lab("prob.field_cause_category"), lab.enum("cause", problem.cause_category)),
        Fact(lab("prob.created_at"), lab.when(problem.created_at)),
        Fact(lab("prob.fixed_at"), lab.when(problem.fixed_at)),
    ]
    linked = str(params.get("linked", "")).strip()[:24]
    return ProblemPage(
        id=problem.id, code=problem.code, title=_title(problem, lab.lang), title_other=other,
        status=problem.status, status_label=lab.enum("problem_status", problem.status),
        facts=facts, description=problem.description, recurring=recurring,
        cases=_linked(session, actor, problem.id, lab),
        cases_total=problems_service.linked_counts(session, actor=actor,
                                                   problems=[problem]).get(problem.id, 0),
        actions=actions,
        can_link=actor.can("problem.link"), link_value=link_value, link_problem=link_problem,
        link_status=link_status, linked=linked, created=params.get("created") == "1",
        charts_json=json_for_script(charts))


def link_case(session: Session, *, actor: Actor, problem_id: int, posted: Posted,
              lab: Labeller) -> tuple[str, Problem | None, int]:
    """Link the case named by reference: (reference, None, 200), or the problem to show."""
    reference = posted.get("case").strip()
    if not reference:
        return reference, Problem(field="l-case", label=lab("prob.link_case"),
                                  message=lab("prob.link_empty")), 422
    try:
        with session.begin_nested():
            problems_service.link_case(session, actor=actor, problem_id=problem_id,
                                       reference=reference)
    except BankvocError as exc:
        if exc.status == 403 or exc.field == "problem":
            raise
        message = lab("prob.link_unknown") if exc.status == 404 else lab("prob.invalid")
        return reference, Problem(field="l-case", label=lab("prob.link_case"),
                                  message=message, detail=exc.message), exc.status
    return reference, None, 200
