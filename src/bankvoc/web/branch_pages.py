"""Outlet inspections on screen: the list of visits with filters and the per-outlet monthly
trend; the visit form (an outlet, the kind, the time, a pass/fail/N/A answer and a remark for
every checklist item, photos), made for a tablet; one visit with its answers, score, photos and
findings, each with a button to close it.

Everything goes through `branches.service` (which checks the roles and the org scope); a
refused form leaves nothing behind (the service call runs in a savepoint) and comes back with
what was typed and the problem next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bankvoc.branches import service as branch_service
from bankvoc.branches.checklist import Checklist, load_checklist
from bankvoc.branches.enums import FindingStatus, Result, VisitKind
from bankvoc.branches.models import Inspection
from bankvoc.branches.schemas import PhotoIn, TrendRow, VisitCreate
from bankvoc.core.errors import BankvocError, Invalid, NotFound
from bankvoc.core.timeutil import as_utc, to_local
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import Posted
from bankvoc.web.present import Choice, Labeller, Problem

PAGE = 50
RESULTS = (Result.passed, Result.failed, Result.na)
TIME_FORMAT = "%Y-%m-%dT%H:%M"
_FILTER_LABELS = {"org": "insp.filter_org", "kind": "insp.field_kind",
                  "since": "insp.filter_since", "until": "insp.filter_until"}


def _org_name(org: Org, lang: str) -> str:
    return org.name_en if lang == "en" and org.name_en else org.name


def _trend_name(row: TrendRow, lang: str) -> str:
    return row.org_name_en if lang == "en" and row.org_name_en else row.org_name


def _score(value: float | None, lab: Labeller) -> str:
    return f"{value:.1f}" if value is not None else lab("insp.no_score")


# --- the list and the trend ---------------------------------------------------------------------

@dataclass(frozen=True)
class VisitLine:
    id: int
    when: str
    outlet: str
    kind: str
    score: str
    critical: bool
    open_findings: int


@dataclass(frozen=True)
class TrendLine:
    outlet: str
    month: str
    visits: int
    average: str
    critical: int
    open_findings: int


@dataclass
class VisitList:
    values: dict[str, str]
    kinds: list[Choice]
    lines: list[VisitLine] = field(default_factory=list)
    trend: list[TrendLine] = field(default_factory=list)
    total: int = 0
    can_record: bool = False
    problem: Problem | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def visit_list(session: Session, *, actor: Actor, params: Mapping[str, str],
               lab: Labeller) -> VisitList:
    values = {name: str(params.get(name, "")).strip()[:40]
              for name in ("org", "kind", "since", "until")}
    view = VisitList(values=values, can_record=actor.can("inspection.record"),
                     kinds=[Choice(k.value, lab(f"insp.kind.{k.value}")) for k in VisitKind])
    org: Org | None = None
    kind: VisitKind | None = None
    since = until = None
    try:
        if values["org"]:
            org = org_service.get_org_by_code(session, code=values["org"])
            if not org_service.org_visible(actor, org):
                raise NotFound(f"no org {values['org']!r} in your scope", field="org")
        if values["kind"]:
            if values["kind"] not in set(VisitKind):
                raise Invalid(f"{values['kind']!r} is not a kind of visit", field="kind")
            kind = VisitKind(values["kind"])
        try:
            since, _ = branch_service.period(values["since"] or None, None)
        except Invalid as exc:
            raise Invalid(exc.message, field="since") from None
        _, until = branch_service.period(values["since"] or None, values["until"] or None)
    except BankvocError as exc:
        name = exc.field if exc.field in values else "until"
        view.problem = Problem(field=f"f-{name}", label=lab(_FILTER_LABELS[name]),
                               message=lab("insp.invalid"), detail=exc.message)
        org, kind, since, until = None, None, None, None
    cut = branch_service.VisitFilter(org=org, kind=kind, since=since, until=until)
    page, view.total = branch_service.list_visits(session, actor=actor, cut=cut, limit=PAGE)
    still_open = branch_service.open_findings(session, visits=page)
    orgs = {o.id: o for o in org_service.list_orgs(session, actor=actor)}
    view.lines = [VisitLine(
        id=v.id, when=lab.when(v.visited_at), outlet=_org_name(orgs[v.org_id], lab.lang),
        kind=lab(f"insp.kind.{v.kind}"), score=_score(v.score, lab),
        critical=v.critical_failed, open_findings=still_open.get(v.id, 0)) for v in page]
    rows = branch_service.trend(session, actor=actor, org=org, since=since, until=until)
    view.trend = [TrendLine(
        outlet=f"{r.org_code} {_trend_name(r, lab.lang)}",
        month=r.month, visits=r.visits, average=_score(r.average_score, lab),
        critical=r.critical_failed, open_findings=r.open_findings) for r in rows]
    return view


# --- the visit form -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemField:
    code: str
    text: str
    critical: bool
    result: str
    remark: str
    invalid: bool


@dataclass(frozen=True)
class StepField:
    code: str
    text: str
    items: list[ItemField]


@dataclass
class VisitForm:
    outlets: list[Choice]
    kinds: list[Choice]
    results: list[Choice]
    values: dict[str, str]
    steps: list[StepField]
    checklist_version: str
    problem: Problem | None = None
    status: int = 200

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def invalid(self, name: str) -> bool:
        return self.problem is not None and self.problem.field == f"f-{name}"


def visit_form(session: Session, *, actor: Actor, lab: Labeller,
               values: Mapping[str, str] | None = None, problem: Problem | None = None,
               status: int = 200, checklist: Checklist | None = None) -> VisitForm:
    actor.require("inspection.record")
    checklist = checklist or load_checklist()
    chosen = dict(values or {})
    if "visited_at" not in chosen:
        chosen["visited_at"] = to_local(datetime.now().astimezone(), lab.tz).strftime(TIME_FORMAT)
    if "kind" not in chosen:
        chosen["kind"] = VisitKind.inspection.value
    wrong = problem.field if problem else None
    steps = [StepField(code=step.code, text=step.text(lab.lang), items=[ItemField(
        code=item.code, text=item.text(lab.lang), critical=item.critical,
        result=chosen.get(f"r-{item.code}", ""), remark=chosen.get(f"m-{item.code}", ""),
        invalid=wrong == f"i-{item.code}") for item in step.items])
        for step in checklist.steps]
    return VisitForm(
        outlets=[Choice(str(o.id), f"{o.code} {_org_name(o, lab.lang)}")
                 for o in branch_service.outlets(session, actor=actor)],
        kinds=[Choice(k.value, lab(f"insp.kind.{k.value}")) for k in VisitKind],
        results=[Choice(r.value, lab(f"insp.result.{r.value}")) for r in RESULTS],
        values=chosen, steps=steps, checklist_version=checklist.version, problem=problem,
        status=status)


def _field_problem(name: str, lab: Labeller, message: str, detail: str = "") -> Problem:
    return Problem(field=f"f-{name}", label=lab(f"insp.field_{name}"), message=message,
                   detail=detail)


def _item_problem(code: str, checklist: Checklist, lab: Labeller, message: str,
                  detail: str = "") -> Problem:
    item = checklist.item(code)
    return Problem(field=f"i-{code}", label=item.text(lab.lang) if item else code,
                   message=message, detail=detail)


def _service_problem(exc: BankvocError, checklist: Checklist, lab: Labeller) -> Problem:
    name = exc.field or ""
    if name.startswith("answers."):
        return _item_problem(name.removeprefix("answers."), checklist, lab,
                             lab("insp.answer_missing"), exc.message)
    if name == "photos":
        return _field_problem("photos", lab, lab("insp.bad_photo"), exc.message)
    if name in ("org", "kind", "visited_at", "note"):
        return _field_problem(name, lab, lab("insp.invalid"), exc.message)
    return Problem(field=None, label="", message=lab("insp.invalid"), detail=exc.message)


def _parse(posted: Posted, checklist: Checklist, lab: Labeller
           ) -> tuple[dict[str, object] | None, Problem | None]:
    """The visit's data from the form, or the first problem (in the form's order)."""
    org = posted.get("org").strip()
    if not org.isdigit():
        return None, _field_problem("org", lab, lab("insp.choose_outlet"))
    kind = posted.get("kind").strip()
    if kind not in set(VisitKind):
        return None, _field_problem("kind", lab, lab("insp.required"))
    try:
        visited_at = as_utc(datetime.strptime(posted.get("visited_at").strip(), TIME_FORMAT),
                            lab.tz)
    except ValueError:
        return None, _field_problem("visited_at", lab, lab("insp.bad_time"))
    answers = []
    for code in checklist.codes():
        result = posted.get(f"r-{code}").strip()
        if result not in {r.value for r in RESULTS}:
            return None, _item_problem(code, checklist, lab, lab("insp.answer_missing"))
        answers.append({"item_code": code, "result": result,
                        "remark": posted.get(f"m-{code}").strip()})
    return {"org_id": int(org), "kind": kind, "visited_at": visited_at, "answers": answers,
            "note": posted.get("note").strip()}, None


def record(session: Session, *, actor: Actor, posted: Posted, photos: Sequence[bytes],
           lab: Labeller, checklist: Checklist | None = None) -> tuple[int | None, VisitForm]:
    """Record the posted visit: (its id, None-less form) or (None, the form again with its
    problem). A role that may not record gets 403 from the service."""
    actor.require("inspection.record")
    checklist = checklist or load_checklist()
    values = {k: v for k, v in posted.items}
    data, problem = _parse(posted, checklist, lab)
    status = 422
    if data is not None:
        try:
            body = VisitCreate.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = [str(p) for p in first["loc"]]
            name = loc[0] if loc else ""
            problem = (_item_problem(checklist.codes()[int(loc[1])], checklist, lab,
                                     lab("insp.invalid"), str(first["msg"]))
                       if name == "answers" and len(loc) > 1 and loc[1].isdigit()
                       else _field_problem(name if name in ("org", "kind", "visited_at", "note")
                                           else "note", lab, lab("insp.invalid"),
                                           str(first["msg"])))
        else:
            try:
                with session.begin_nested():
                    visit = branch_service.record_visit(
                        session, actor=actor, data=body, checklist=checklist,
                        photos=[PhotoIn(p) for p in photos])
                return visit.id, visit_form(session, actor=actor, lab=lab)
            except BankvocError as exc:
                if exc.status == 403:
                    raise
                problem, status = _service_problem(exc, checklist, lab), exc.status
    return None, visit_form(session, actor=actor, lab=lab, values=values, problem=problem,
                            status=status, checklist=checklist)


# --- one visit ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerLine:
    code: str
    text: str
    critical: bool
    result: str
    result_label: str
    remark: str


@dataclass(frozen=True)
class StepLines:
    text: str
    answers: list[AnswerLine]


@dataclass(frozen=True)
class FindingLine:
    id: int
    item: str
    description: str
    owner: str
    due: str
    status: str
    status_label: str
    done_at: str
    overdue: bool


@dataclass
class VisitPage:
    id: int
    outlet: str
    kind: str
    when: str
    inspector: str
    score: str
    critical: bool
    note: str
    checklist_version: str
    steps: list[StepLines]
    photos: list[int]
    findings: list[FindingLine]
    can_close: bool
    recorded: bool = False
    closed: bool = False


def visit_page(session: Session, *, actor: Actor, inspection_id: int, lab: Labeller,
               params: Mapping[str, str] | None = None,
               checklist: Checklist | None = None) -> VisitPage:
    visit: Inspection = branch_service.get_visit(session, actor=actor,
                                                 inspection_id=inspection_id)
    checklist = checklist or load_checklist()
    params = params or {}
    outlet = session.get_one(Org, visit.org_id)
    inspector = session.get(User, visit.inspector_id)
    answers = {a.item_code: a for a in branch_service.answers_of(session, visit=visit)}
    steps = []
    for step in checklist.steps:
        lines = [AnswerLine(code=i.code, text=i.text(lab.lang), critical=i.critical,
                            result=answers[i.code].result,
                            result_label=lab(f"insp.result.{answers[i.code].result}"),
                            remark=answers[i.code].remark)
                 for i in step.items if i.code in answers]
        if lines:
            steps.append(StepLines(text=step.text(lab.lang), answers=lines))
    known = {code for s in checklist.steps for code in (i.code for i in s.items)}
    others = [AnswerLine(code=a.item_code, text=a.item_code, critical=False, result=a.result,
                         result_label=lab(f"insp.result.{a.result}"), remark=a.remark)
              for code, a in answers.items() if code not in known]
    if others:  # answered against an older checklist
        steps.append(StepLines(text=visit.checklist_version, answers=others))
    today = date.today()
    findings = []
    for f in branch_service.findings_of(session, visit=visit):
        item = checklist.item(f.item_code)
        owner = session.get(User, f.owner_id) if f.owner_id else None
        findings.append(FindingLine(
            id=f.id, item=item.text(lab.lang) if item else f.item_code,
            description=f.description,
            owner=owner.display_name if owner else lab("insp.unowned"),
            due=f.due_date.isoformat(), status=f.status,
            status_label=lab(f"insp.finding.{f.status}"),
            done_at=lab.when(f.done_at) if f.done_at else "",
            overdue=f.status == FindingStatus.open.value and f.due_date < today))
    return VisitPage(
        id=visit.id, outlet=f"{outlet.code} {_org_name(outlet, lab.lang)}",
        kind=lab(f"insp.kind.{visit.kind}"), when=lab.when(visit.visited_at),
        inspector=inspector.display_name if inspector else "",
        score=_score(visit.score, lab), critical=visit.critical_failed, note=visit.note,
        checklist_version=visit.checklist_version, steps=steps,
        photos=[p.id for p in branch_service.photos_of(session, visit=visit)],
        findings=findings, can_close=actor.can("inspection.record"),
        recorded=params.get("recorded") == "1", closed=bool(params.get("closed")))


def close_finding(session: Session, *, actor: Actor, inspection_id: int,
                  finding_id: int) -> None:
    """Close a finding of this visit (the service checks the role, the scope, and that it is
    still open)."""
    branch_service.get_visit(session, actor=actor, inspection_id=inspection_id)
    branch_service.close_finding(session, actor=actor, finding_id=finding_id)
