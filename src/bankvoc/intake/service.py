"""Registering cases: one record from the API, or many from a bulk request or a file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.intake.context import IntakeContext, OrgDirectory
from bankvoc.intake.draft import Draft, new_draft
from bankvoc.intake.models import IntakeRecord
from bankvoc.intake.pipeline import ingest
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp import model_store
from bankvoc.orgs.service import Actor


def build_context(
    session: Session,
    *,
    actor: Actor,
    source_system: str,
    default_channel: str | None = None,
    implicit_source_id: str = "content",
) -> IntakeContext:
    active = model_store.active_with_refs(session)
    return IntakeContext(
        session=session, actor=actor, settings=get_settings(), orgs=OrgDirectory.load(session),
        now=utcnow(), source_system=source_system, default_channel=default_channel,
        implicit_source_id=implicit_source_id,
        models={field: estimator for field, (_, estimator) in active.items()},
        model_refs={field: ref for field, (ref, _) in active.items()},
    )


def register_case(
    session: Session,
    *,
    actor: Actor,
    data: CaseCreate,
    idempotency_key: str | None = None,
) -> Draft:
    """Register one case. A repeat of the same source id or idempotency key changes nothing."""
    actor.require("case.create")
    if idempotency_key and not data.source_id:
        data = data.model_copy(update={"source_id": f"idem:{actor.user_id}:{idempotency_key}",
                                       "source_system": data.source_system or "api"})
    ctx = build_context(session, actor=actor, source_system="api", implicit_source_id="unique")
    draft = new_draft(1, data.model_dump(mode="json", exclude_none=True))
    draft.data = data
    return ingest([draft], ctx)[0]


def register_many(
    session: Session,
    *,
    actor: Actor,
    records: Sequence[tuple[int, dict[str, Any]]],
    source_system: str,
    default_channel: str | None = None,
    implicit_source_id: str = "content",
    ctx: IntakeContext | None = None,
) -> list[Draft]:
    """Register a batch of raw records (row number, canonical field -> value)."""
    actor.require("case.create")
    ctx = ctx or build_context(session, actor=actor, source_system=source_system,
                               default_channel=default_channel,
                               implicit_source_id=implicit_source_id)
    ctx.session, ctx.now = session, utcnow()
    return ingest([new_draft(row, raw) for row, raw in records], ctx)


def register_drafts(
    session: Session,
    *,
    actor: Actor,
    drafts: list[Draft],
    ctx: IntakeContext,
    understood: bool = False,
) -> list[Draft]:
    """Store drafts made with `new_draft` (and maybe understood by a worker process already),
    reusing one context across a run's batches."""
    actor.require("case.create")
    ctx.session = session
    return ingest(drafts, ctx, understood=understood)


def count_records(session: Session, *, source_system: str | None = None) -> int:
    """Stored source rows (accepted or merged), of one source system or all."""
    stmt = select(func.count()).select_from(IntakeRecord)
    if source_system is not None:
        stmt = stmt.where(IntakeRecord.source_system == source_system)
    return session.scalar(stmt) or 0


def received_at_of(session: Session, *, source_system: str, source_id: str) -> datetime | None:
    """When the case a source row created or joined was received; None if never stored."""
    return session.scalar(
        select(Case.received_at).join(IntakeRecord, IntakeRecord.case_id == Case.id).where(
            IntakeRecord.source_system == source_system, IntakeRecord.source_id == source_id))
