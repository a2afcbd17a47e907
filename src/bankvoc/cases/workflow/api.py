"""POST /cases/{reference}/steps: one workflow step, as the table allows it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.cases import service as cases_service
from bankvoc.cases.schemas import CaseRead
from bankvoc.cases.workflow import schemas, service
from bankvoc.cases.workflow.table import actions_in

router = APIRouter(prefix="/cases", tags=["workflow"])


@router.post("/{reference}/steps", response_model=CaseRead,
             responses=errors(401, 403, 404, 409, 422))
def take_step(session: DbSession, actor: CurrentActor, reference: str,
              step: Annotated[schemas.Step, Body()]) -> CaseRead:
    """Take one step of the workflow (accept, assign, propose, resolve, …). `version` must be
    the case version you looked at: a case changed since is refused with 409, as is a step
    the case's status does not allow."""
    case = service.act(session, actor=actor, reference=reference, step=step)
    return cases_service.to_read(case)


@router.get("/{reference}/steps", response_model=list[str], responses=errors(401, 403, 404))
def possible_steps(session: DbSession, actor: CurrentActor, reference: str) -> list[str]:
    """The steps the case's status allows now (your role may still forbid some)."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    return [action.value for action in actions_in(case.status)]
