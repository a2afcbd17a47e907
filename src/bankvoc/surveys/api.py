from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.cases.models import Case
from bankvoc.core.models import RowId
from bankvoc.surveys import service
from bankvoc.surveys.schemas import CallbackRead, CallbackResult, SurveyCreate, SurveyRead

router = APIRouter(tags=["callbacks and surveys"])


@router.get("/callbacks", response_model=list[CallbackRead], responses=errors(401, 403, 422))
def callback_queue(
    session: DbSession, actor: CurrentActor,
    status: Annotated[str, Query(pattern="^(pending|done|unreachable|skipped)$")] = "pending",
) -> list[CallbackRead]:
    """The callback queue of your cases, soonest due first."""
    return [CallbackRead.model_validate(service.to_read(callback, case))
            for callback, case in service.callback_queue(session, actor=actor, status=status)]


@router.post("/callbacks/{callback_id}/result", response_model=CallbackRead,
             responses=errors(401, 403, 404, 409, 422))
def record_callback(session: DbSession, actor: CurrentActor, callback_id: RowId,
                    body: CallbackResult) -> CallbackRead:
    """Record what the customer said; an unhappy or unsolved answer reopens and escalates the
    case, a satisfied one closes it."""
    callback = service.record_result(session, actor=actor, callback_id=callback_id, result=body)
    case = session.get_one(Case, callback.case_id)
    return CallbackRead.model_validate(service.to_read(callback, case))


@router.post("/surveys", response_model=SurveyRead, status_code=201,
             responses=errors(401, 403, 404, 422))
def add_survey(session: DbSession, actor: CurrentActor, body: SurveyCreate,
               response: Response) -> SurveyRead:
    """One satisfaction answer from a touchpoint; resending the same source id is harmless
    (200 instead of 201)."""
    survey_id, stored = service.add_survey(session, actor=actor, data=body)
    if not stored:
        response.status_code = 200
    return SurveyRead(id=survey_id, stored=stored)
