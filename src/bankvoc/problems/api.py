"""REST routes of the problem library, root causes, improvement actions and staff suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.cases import service as cases_service
from bankvoc.core.models import RowId
from bankvoc.orgs.models import User
from bankvoc.orgs.service import Actor
from bankvoc.problems import actions, service, suggestions
from bankvoc.problems.enums import CauseCategory, ProblemStatus, SuggestionStatus
from bankvoc.problems.models import Problem, RootCause
from bankvoc.problems.schemas import (
    ActionCreate,
    ActionRead,
    ActionUpdate,
    CaseLinkIn,
    CaseLinkRead,
    CreditRead,
    EffectRead,
    FixedRead,
    ProblemBrief,
    ProblemCreate,
    ProblemMatchRead,
    ProblemPage,
    ProblemRead,
    ProblemUpdate,
    RecurringRead,
    RootCauseIn,
    RootCauseRead,
    SuggestionCreate,
    SuggestionRead,
    SuggestionReview,
    UntracedRead,
)

router = APIRouter(tags=["problem library"])


def _brief(problem: Problem) -> ProblemBrief:
    return ProblemBrief(id=problem.id, code=problem.code, title_zh=problem.title_zh,
                        title_en=problem.title_en, status=ProblemStatus(problem.status))


def _read(session: Session, actor: Actor, problem: Problem,
          counts: dict[int, int] | None = None) -> ProblemRead:
    if counts is None:
        counts = service.linked_counts(session, actor=actor, problems=[problem])
    cause = problem.cause_category
    return ProblemRead(**_brief(problem).model_dump(), description=problem.description,
                       product=problem.product, category=problem.category,
                       cause_category=CauseCategory(cause) if cause else None,
                       fixed_at=problem.fixed_at, created_at=problem.created_at,
                       cases=counts.get(problem.id, 0))


# --- problems -------------------------------------------------------------------------------------

@router.get("/problems", response_model=ProblemPage, responses=errors(401, 403, 422))
def list_problems(
    session: DbSession, actor: CurrentActor, status: ProblemStatus | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProblemPage:
    """The known-problem library (投诉问题库), by code; `cases` counts the linked cases you
    may see."""
    page, total = service.list_problems(session, actor=actor, status=status, q=q, limit=limit,
                                        offset=offset)
    counts = service.linked_counts(session, actor=actor, problems=page)
    return ProblemPage(items=[_read(session, actor, p, counts) for p in page], total=total)


@router.post("/problems", response_model=ProblemRead, status_code=201,
             responses=errors(401, 403, 409, 422))
def create_problem(session: DbSession, actor: CurrentActor, body: ProblemCreate) -> ProblemRead:
    return _read(session, actor, service.create_problem(session, actor=actor, data=body))


@router.get("/problems/recurring", response_model=list[RecurringRead],
            responses=errors(401, 403, 422))
def recurring(session: DbSession, actor: CurrentActor,
              months: Annotated[int, Query(ge=2, le=36)] = 6) -> list[RecurringRead]:
    """Problems whose cases keep coming: new cases since it was fixed, or a rising month."""
    return [RecurringRead(problem=_brief(r.problem), reasons=r.reasons,
                          cases_since_fixed=r.cases_since_fixed, monthly=r.monthly)
            for r in service.recurring(session, actor=actor, months=months)]


@router.get("/problems/{problem_id}", response_model=ProblemRead,
            responses=errors(401, 403, 404, 422))
def get_problem(session: DbSession, actor: CurrentActor, problem_id: RowId) -> ProblemRead:
    return _read(session, actor, service.get_problem(session, actor=actor,
                                                     problem_id=problem_id))


@router.patch("/problems/{problem_id}", response_model=FixedRead,
              responses=errors(401, 403, 404, 409, 422))
def update_problem(session: DbSession, actor: CurrentActor, problem_id: RowId,
                   body: ProblemUpdate) -> FixedRead:
    """Change a problem. Marking it fixed tells each reachable customer of its cases, once."""
    problem, told = service.update_problem(session, actor=actor, problem_id=problem_id,
                                           data=body)
    return FixedRead(problem=_read(session, actor, problem), customers_told=told)


@router.get("/problems/{problem_id}/cases", response_model=list[CaseLinkRead],
            responses=errors(401, 403, 404, 422))
def linked_cases(session: DbSession, actor: CurrentActor,
                 problem_id: RowId) -> list[CaseLinkRead]:
    return [CaseLinkRead(problem_id=link.problem_id, case=case.reference, linked_by=name,
                         linked_at=link.linked_at)
            for link, case, name in service.linked_cases(session, actor=actor,
                                                         problem_id=problem_id)]


@router.post("/problems/{problem_id}/cases", response_model=CaseLinkRead, status_code=201,
             responses=errors(401, 403, 404, 409, 422))
def link_case(session: DbSession, actor: CurrentActor, problem_id: RowId,
              body: CaseLinkIn) -> CaseLinkRead:
    """Link one of your cases to the problem (linking it again changes nothing)."""
    link, case = service.link_case(session, actor=actor, problem_id=problem_id,
                                   reference=body.case)
    return CaseLinkRead(problem_id=link.problem_id, case=case.reference,
                        linked_by=actor.username, linked_at=link.linked_at)


@router.delete("/problems/{problem_id}/cases/{reference}", status_code=204,
               response_class=Response, responses=errors(401, 403, 404, 422))
def unlink_case(session: DbSession, actor: CurrentActor, problem_id: RowId,
                reference: str) -> Response:
    service.unlink_case(session, actor=actor, problem_id=problem_id, reference=reference)
    return Response(status_code=204)


# --- cases: the problems they resemble, their root cause ----------------------------------------

@router.get("/cases/{reference}/problem-suggestions", response_model=list[ProblemMatchRead],
            responses=errors(401, 403, 404, 422))
def problem_suggestions(session: DbSession, actor: CurrentActor, reference: str,
                        limit: Annotated[int, Query(ge=1, le=20)] = 5
                        ) -> list[ProblemMatchRead]:
    """The known problems this case most resembles, with the words they share."""
    return [ProblemMatchRead(problem=_brief(m.problem), score=m.score,
                             shared_words=m.shared_words)
            for m in service.suggestions_for_case(session, actor=actor, reference=reference,
                                                  limit=limit)]


def _cause_read(session: Session, cause: RootCause, reference: str) -> RootCauseRead:
    user = session.get(User, cause.recorded_by)
    return RootCauseRead(case=reference, category=CauseCategory(cause.category),
                         what=cause.what, why=cause.why, where=cause.where, when=cause.when,
                         who=cause.who, how=cause.how,
                         recorded_by=user.username if user else None,
                         recorded_at=cause.recorded_at)


@router.put("/cases/{reference}/root-cause", response_model=RootCauseRead,
            responses=errors(401, 403, 404, 409, 422))
def record_root_cause(session: DbSession, actor: CurrentActor, reference: str,
                      body: RootCauseIn) -> RootCauseRead:
    """Record or replace the case's root cause (溯源); it goes on the case's timeline."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    cause = service.record_root_cause(session, actor=actor, case=case, data=body)
    return _cause_read(session, cause, case.reference)


@router.get("/cases/{reference}/root-cause", response_model=RootCauseRead | None,
            responses=errors(401, 403, 404))
def get_root_cause(session: DbSession, actor: CurrentActor,
                   reference: str) -> RootCauseRead | None:
    """The case's root cause; null while it has not been traced."""
    cause, case = service.get_root_cause(session, actor=actor, reference=reference)
    return None if cause is None else _cause_read(session, cause, case.reference)


@router.get("/root-causes/untraced", response_model=list[UntracedRead],
            responses=errors(401, 403, 422))
def untraced(session: DbSession, actor: CurrentActor,
             limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[UntracedRead]:
    """Your complaints resolved or closed without a root cause."""
    return [UntracedRead(case=c.reference, status=c.status, resolved_at=c.resolved_at)
            for c in service.untraced(session, actor=actor, limit=limit)]


# --- improvement actions --------------------------------------------------------------------------

@router.get("/problems/{problem_id}/actions", response_model=list[ActionRead],
            responses=errors(401, 403, 404, 422))
def list_actions(session: DbSession, actor: CurrentActor, problem_id: RowId) -> list[ActionRead]:
    return [actions.to_read(session, a)
            for a in actions.list_actions(session, actor=actor, problem_id=problem_id)]


@router.post("/problems/{problem_id}/actions", response_model=ActionRead, status_code=201,
             responses=errors(401, 403, 404, 422))
def create_action(session: DbSession, actor: CurrentActor, problem_id: RowId,
                  body: ActionCreate) -> ActionRead:
    return actions.to_read(session, actions.create_action(session, actor=actor,
                                                          problem_id=problem_id, data=body))


@router.get("/actions/{action_id}", response_model=ActionRead,
            responses=errors(401, 403, 404, 422))
def get_action(session: DbSession, actor: CurrentActor, action_id: RowId) -> ActionRead:
    return actions.to_read(session, actions.get_action(session, actor=actor,
                                                       action_id=action_id))


@router.patch("/actions/{action_id}", response_model=ActionRead,
              responses=errors(401, 403, 404, 422))
def update_action(session: DbSession, actor: CurrentActor, action_id: RowId,
                  body: ActionUpdate) -> ActionRead:
    return actions.to_read(session, actions.update_action(session, actor=actor,
                                                          action_id=action_id, data=body))


@router.get("/actions/{action_id}/effect", response_model=EffectRead,
            responses=errors(401, 403, 404, 409, 422))
def action_effect(session: DbSession, actor: CurrentActor, action_id: RowId,
                  months_before: Annotated[int, Query(ge=1, le=60)] = 12,
                  months_after: Annotated[int, Query(ge=1, le=60)] = 12) -> EffectRead:
    """The measured effect: before/after and difference in differences against comparable
    orgs on complaint rate, CSAT and the problem's own cases, with the cost beside it."""
    return actions.measure_effect(session, actor=actor, action_id=action_id,
                                  months_before=months_before, months_after=months_after)


# --- staff suggestions (建言献策) ----------------------------------------------------------------

@router.get("/suggestions", response_model=list[SuggestionRead], responses=errors(401, 403, 422))
def list_suggestions(session: DbSession, actor: CurrentActor,
                     status: SuggestionStatus | None = None) -> list[SuggestionRead]:
    """Reviewers see every suggestion, anyone else their own."""
    return suggestions.to_read(session, suggestions.list_suggestions(session, actor=actor,
                                                                     status=status))


@router.post("/suggestions", response_model=SuggestionRead, status_code=201,
             responses=errors(401, 403, 404, 422))
def submit_suggestion(session: DbSession, actor: CurrentActor,
                      body: SuggestionCreate) -> SuggestionRead:
    """Propose an improvement, linked to the problems it addresses; any employee may."""
    return suggestions.to_read(session, [suggestions.submit(session, actor=actor,
                                                            data=body)])[0]


@router.get("/suggestions/credits", response_model=list[CreditRead],
            responses=errors(401, 403))
def credits(session: DbSession, actor: CurrentActor) -> list[CreditRead]:
    """Adopted suggestions and credit points per employee."""
    return suggestions.credits(session, actor=actor)


@router.post("/suggestions/{suggestion_id}/review", response_model=SuggestionRead,
             responses=errors(401, 403, 404, 409, 422))
def review_suggestion(session: DbSession, actor: CurrentActor, suggestion_id: RowId,
                      body: SuggestionReview) -> SuggestionRead:
    """The improvement committee's decision: under review, adopted (with credit) or not."""
    return suggestions.to_read(session, [suggestions.review(
        session, actor=actor, suggestion_id=suggestion_id, data=body)])[0]
