from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import FileResponse

from bankvoc.api.deps import CurrentActor, DbSession, DisclosureVia
from bankvoc.api.schemas import errors
from bankvoc.cases import attachments, dossier, dossier_pdf, retention, review, service
from bankvoc.cases.schemas import (
    AttachmentRead,
    CaseFilters,
    CasePage,
    CaseRead,
    ChainRead,
    CorrectionCreate,
    EventRead,
    LegalHoldChange,
    LegalHoldRead,
)
from bankvoc.core.models import RowId

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=CasePage, responses=errors(401, 403, 404, 422))
def list_cases(
    session: DbSession,
    actor: CurrentActor,
    filters: Annotated[CaseFilters, Query()],
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> CasePage:
    rows, next_cursor = service.list_cases(session, actor=actor, filters=filters, cursor=cursor,
                                           limit=limit)
    return CasePage(items=[service.to_read(c) for c in rows], next_cursor=next_cursor)


@router.get("/{reference}", response_model=CaseRead, responses=errors(401, 403, 404))
def get_case(session: DbSession, actor: CurrentActor, reference: str) -> CaseRead:
    return service.to_read(service.get_case(session, actor=actor, reference=reference))


@router.get("/{reference}/events", response_model=list[EventRead],
            responses=errors(401, 403, 404))
def case_events(session: DbSession, actor: CurrentActor, reference: str) -> list[EventRead]:
    case = service.get_case(session, actor=actor, reference=reference)
    return service.timeline(session, actor=actor, case=case)


@router.get("/{reference}/chain", response_model=ChainRead, responses=errors(401, 403, 404))
def verify_case_chain(session: DbSession, actor: CurrentActor, reference: str) -> ChainRead:
    case = service.get_case(session, actor=actor, reference=reference)
    check = service.check_chain(session, actor=actor, case=case)
    return ChainRead(ok=check.ok, events=check.events, broken_at_seq=check.broken_at_seq,
                     reason=check.reason)


@router.post("/{reference}/attachments", response_model=AttachmentRead, status_code=201,
             responses=errors(401, 403, 404, 413, 422))
def add_attachment(session: DbSession, actor: CurrentActor, reference: str,
                   file: Annotated[UploadFile, File()]) -> AttachmentRead:
    case = service.get_case(session, actor=actor, reference=reference)
    attachment = attachments.add_attachment(
        session, actor=actor, case=case, filename=file.filename or "file",
        content_type=file.content_type, stream=file.file)
    return AttachmentRead.model_validate(attachment, from_attributes=True)


@router.get("/{reference}/attachments", response_model=list[AttachmentRead],
            responses=errors(401, 403, 404))
def list_attachments(session: DbSession, actor: CurrentActor,
                     reference: str) -> list[AttachmentRead]:
    case = service.get_case(session, actor=actor, reference=reference)
    return [AttachmentRead.model_validate(a, from_attributes=True)
            for a in attachments.list_attachments(session, actor=actor, case=case)]


@router.get("/{reference}/attachments/{attachment_id}", response_class=FileResponse,
            responses=errors(401, 403, 404, 422))
def download_attachment(session: DbSession, actor: CurrentActor, reference: str,
                        attachment_id: RowId, via: DisclosureVia) -> FileResponse:
    """The evidence file as it came (recorded as a disclosure of personal data)."""
    case = service.get_case(session, actor=actor, reference=reference)
    attachment, path = attachments.open_attachment(session, actor=actor, case=case,
                                                   attachment_id=attachment_id, via=via)
    # Whatever the uploader claimed it is, it is downloaded, never shown as a page of this site.
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename,
                        content_disposition_type="attachment",
                        headers={"Content-Security-Policy": "sandbox; default-src 'none'"})


@router.post("/{reference}/corrections", response_model=CaseRead,
             responses=errors(401, 403, 404, 422))
def correct_case(session: DbSession, actor: CurrentActor, reference: str,
                 body: CorrectionCreate) -> CaseRead:
    """Correct the product or category; the correction is kept as training data."""
    case = service.get_case(session, actor=actor, reference=reference)
    return service.to_read(review.correct(session, actor=actor, case=case, field=body.field,
                                          value=body.value))


Reveal = Annotated[bool, Query(description="Show personal data unmasked: needs the pii.read "
                                           "permission, and is recorded on the case")]


@router.get("/{reference}/dossier", response_model=dossier.Dossier,
            responses=errors(401, 403, 404, 409))
def case_dossier(session: DbSession, actor: CurrentActor, reference: str, response: Response,
                 via: DisclosureVia, reveal: Reveal = False) -> dossier.Dossier:
    """The dossier of a closed or archived case, as a regulator asks it back: basic facts,
    dispute focus, findings and evidence, basis, decision, communication with the customer,
    extensions, satisfaction, and the verified timeline. An open case is refused (409)."""
    case = service.get_case(session, actor=actor, reference=reference)
    response.headers["Cache-Control"] = "no-store"
    return dossier.build_dossier(session, actor=actor, case=case, reveal=reveal, via=via)


@router.get("/{reference}/dossier.pdf", response_class=Response,
            responses={**errors(401, 403, 404, 409),
                       200: {"content": {"application/pdf": {}},
                             "description": "The dossier as PDF (Chinese with English)"}})
def case_dossier_pdf(session: DbSession, actor: CurrentActor, reference: str,
                     via: DisclosureVia, reveal: Reveal = False) -> Response:
    """The dossier of a closed or archived case as a PDF."""
    case = service.get_case(session, actor=actor, reference=reference)
    found = dossier.build_dossier(session, actor=actor, case=case, reveal=reveal,
                                  output="pdf", via=via)
    return Response(dossier_pdf.render_pdf(found), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{case.reference}-dossier.pdf"',
        "Cache-Control": "no-store"})


@router.post("/{reference}/legal-hold", response_model=LegalHoldRead,
             responses=errors(401, 403, 404, 409, 422))
def legal_hold(session: DbSession, actor: CurrentActor, reference: str,
               body: LegalHoldChange) -> LegalHoldRead:
    """Place or lift a legal hold: while held, the case is kept past its retention period.
    Recorded on the case's timeline with its reason (needs case.manage)."""
    case = service.get_case(session, actor=actor, reference=reference)
    event = retention.set_legal_hold(session, actor=actor, case=case, hold=body.hold,
                                     reason=body.reason)
    return LegalHoldRead(reference=case.reference, legal_hold=case.legal_hold,
                         version=case.version, event_seq=event.seq)
