from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.intake import service
from bankvoc.intake.draft import Draft, Outcome
from bankvoc.intake.schemas import CaseCreate, IntakeOutcome

router = APIRouter(prefix="/cases", tags=["intake"])

MAX_BULK_BYTES = 20 * 1024 * 1024
MAX_BULK_LINES = 10_000


def _outcome(draft: Draft) -> IntakeOutcome:
    return IntakeOutcome(row=draft.row, outcome=draft.outcome, reference=draft.reference,
                         field=draft.error_field, reason=draft.error)


@router.post(
    "", response_model=IntakeOutcome, status_code=201,
    responses={200: {"model": IntakeOutcome, "description": "already stored, or merged"},
               **errors(401, 403, 409, 422)},
)
def create_case(
    session: DbSession,
    actor: CurrentActor,
    body: CaseCreate,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> IntakeOutcome:
    """Register a case. Idempotent on source_system + source_id, or on an Idempotency-Key."""
    draft = service.register_case(session, actor=actor, data=body,
                                  idempotency_key=idempotency_key)
    if draft.rejected:
        raise Invalid(f"{draft.error_field}: {draft.error}", field=draft.error_field)
    if draft.outcome != Outcome.NEW:
        response.status_code = 200
    return _outcome(draft)


@router.post(
    "/bulk",
    responses={200: {"content": {"application/x-ndjson": {}},
                     "description": "one IntakeOutcome per input line, in order"},
               **errors(401, 403, 413, 422)},
    openapi_extra={"requestBody": {"content": {"application/x-ndjson": {
        "schema": {"type": "string", "description": "one CaseCreate JSON object per line"}}},
        "required": True}},
)
async def create_cases_bulk(request: Request, session: DbSession,
                            actor: CurrentActor) -> Response:
    """Register many cases from NDJSON; answers NDJSON, one result per input line."""
    body = await request.body()
    if len(body) > MAX_BULK_BYTES:
        return JSONResponse(BankvocError("request body too large", code="too_large",
                                         field="body").to_dict(), status_code=413)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("body is not UTF-8", field="body") from None
    records, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append(IntakeOutcome(row=number, outcome=Outcome.REJECTED, field="line",
                                     reason=f"not JSON: {exc.msg}"))
            continue
        if not isinstance(value, dict):
            bad.append(IntakeOutcome(row=number, outcome=Outcome.REJECTED, field="line",
                                     reason="not a JSON object"))
            continue
        records.append((number, value))
    if len(records) + len(bad) > MAX_BULK_LINES:
        raise Invalid(f"at most {MAX_BULK_LINES} lines per request", field="body")
    drafts = service.register_many(session, actor=actor, records=records, source_system="api")
    results = sorted([_outcome(d) for d in drafts] + bad, key=lambda r: r.row)
    return PlainTextResponse("".join(r.model_dump_json() + "\n" for r in results),
                             media_type="application/x-ndjson")
