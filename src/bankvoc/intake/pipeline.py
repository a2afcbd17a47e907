"""Run drafts through the stages and persist them: cases, customers, events, intake records.

The caller owns the transaction; one call is one batch, so a crash loses no half-stored batch
and a re-run finds every stored row by its (source system, source id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, bindparam, select, update

from bankvoc.analytics.rollup import mark_new_cases
from bankvoc.cases import references, retention, review
from bankvoc.cases.enums import REFERENCE_PREFIX, CaseStatus
from bankvoc.cases.events import GENESIS_HASH, chain_tips, event_row
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.db import bulk_insert, bulk_insert_ids
from bankvoc.customers import service as customer_service
from bankvoc.customers.service import ProtectedIdentity
from bankvoc.intake.context import IntakeContext, StageContext
from bankvoc.intake.draft import Draft, Outcome
from bankvoc.intake.models import IntakeRecord
from bankvoc.intake.stages import DATABASE_STAGES, PURE_STAGES, run_stages


def understand(drafts: list[Draft], ctx: StageContext) -> list[Draft]:
    """The stages that need no database: pure functions of the draft and a picklable context,
    so an importer may run them in worker processes."""
    run_stages(drafts, ctx, PURE_STAGES)
    return drafts


def ingest(drafts: list[Draft], ctx: IntakeContext, *, understood: bool = False) -> list[Draft]:
    """Validate, understand and store a batch; returns the drafts with their outcomes.

    `understood` drafts have been through `understand` already, e.g. in a worker process.
    """
    if not understood:
        understand(drafts, ctx)
    for part in split_by_source(drafts):
        ctx.start_batch()
        run_stages(part, ctx, DATABASE_STAGES)
        persist(part, ctx)
    attach_references(drafts, ctx)
    return drafts


def split_by_source(drafts: list[Draft]) -> Iterator[list[Draft]]:
    """Cut the batch wherever a source id comes back with other content, so the later version
    is applied as an update after the earlier one is stored."""
    part: list[Draft] = []
    seen: dict[tuple[str, str], str] = {}
    for draft in drafts:
        if not draft.rejected:
            key = (draft.source_system, draft.source_id)
            if key in seen and seen[key] != draft.content_hash:
                yield part
                part, seen = [], {}
            seen[key] = draft.content_hash
        part.append(draft)
    if part:
        yield part


def persist(drafts: list[Draft], ctx: IntakeContext) -> None:
    new = [d for d in drafts if d.outcome == Outcome.NEW and not d.rejected]
    merged = [d for d in drafts if d.outcome == Outcome.MERGED]
    updated = [d for d in drafts if d.outcome == Outcome.UPDATED]
    _create_customers(new + merged, ctx)
    _insert_cases(new, merged, ctx)
    for draft in merged:
        target = draft.merge_into_draft
        draft.case_id = draft.merge_into_case_id or (target.case_id if target else None)
    _count_merges_into_stored_cases(merged, ctx)
    changes = {id(d): _apply_update(d, ctx) for d in updated}
    _append_events(drafts, changes, ctx)
    _write_intake_records(new + merged, updated, ctx)
    for draft in drafts:
        if draft.outcome == Outcome.UNCHANGED:
            target = draft.merge_into_draft
            draft.case_id = draft.existing_case_id or (target.case_id if target else None)


def _create_customers(drafts: list[Draft], ctx: IntakeContext) -> None:
    unknown: dict[str, ProtectedIdentity] = {}
    for d in drafts:
        if d.customer_id is None and d.identity is not None and d.customer_key:
            unknown.setdefault(d.customer_key, d.identity)
    created = customer_service.create_customers(ctx.db, identities=list(unknown.values()))
    for d in drafts:
        if d.customer_id is None and d.customer_key in created:
            d.customer_id = created[d.customer_key]


def _insert_cases(new: list[Draft], merged: list[Draft], ctx: IntakeContext) -> None:
    if not new:
        return
    _assign_references(new, ctx)
    merges_into = Counter(id(d.merge_into_draft) for d in merged if d.merge_into_draft)
    rows = [_case_row(d, merges_into[id(d)], ctx) for d in new]
    for draft, case_id in zip(new, bulk_insert_ids(ctx.db, Case, rows), strict=True):
        draft.case_id = case_id
    mark_new_cases(ctx.db, ((row["received_at"], row["org_id"]) for row in rows))


def _assign_references(new: list[Draft], ctx: IntakeContext) -> None:
    groups: dict[tuple[str, str], list[Draft]] = {}
    tz = ctx.settings.tz
    for d in new:
        assert d.received_at is not None
        day = d.received_at.astimezone(tz).date().isoformat().replace("-", "")
        groups.setdefault((REFERENCE_PREFIX[d.kind], day), []).append(d)
    firsts = references.reserve_blocks(
        ctx.db, wanted={key: len(members) for key, members in groups.items()})
    for (prefix, day), members in groups.items():
        for offset, d in enumerate(members, start=firsts[(prefix, day)]):
            d.reference = references.format_reference(prefix, day, offset)


def _case_row(d: Draft, merged_count: int, ctx: IntakeContext) -> dict[str, Any]:
    assert d.org_id is not None
    assert d.received_at is not None
    reviewed = {k: d.annotations[k].as_dict() for k in review.REVIEWED_FIELDS
                if k in d.annotations}
    return {
        "reference": d.reference, "kind": d.kind, "channel": d.channel,
        "status": CaseStatus.received.value, "severity": d.severity, "sentiment": d.sentiment,
        "org_id": d.org_id, "handling_org_id": d.handling_org_id, "origin": d.origin,
        "origin_reference": d.origin_reference,
        "customer_id": d.customer_id, "product": d.product, "category": d.category,
        "title": d.title, "text_masked": d.text_masked, "text_enc": d.text_enc,
        "text_hash": d.text_hash, "similar_key": d.similar_key, "language": d.language,
        "amount": d.amount, "currency": "CNY",
        "received_at": d.received_at, "due_at": d.due_at, "source_system": d.source_system,
        # A case with a deadline is planned by the SLA sweep (cases/workflow/alarms) first.
        "sla_next_at": d.received_at if d.due_at is not None else None,
        "source_id": d.source_id, "merged_count": merged_count,
        # The JSON writer (orjson) stores each Annotation as the object `as_dict` would give,
        # without building those dicts first.
        "annotations": d.annotations,
        "needs_review": review.needs_review(reviewed, ctx.settings.review_confidence),
        "created_at": ctx.now, "updated_at": ctx.now, "version": 1,
    }


def _count_merges_into_stored_cases(merged: list[Draft], ctx: IntakeContext) -> None:
    counts = Counter(d.merge_into_case_id for d in merged if d.merge_into_case_id)
    if not counts:
        return
    table = Case.__table__
    assert isinstance(table, Table)
    ctx.db.connection().execute(
        update(table).where(table.c.id == bindparam("target"))
        .values(merged_count=table.c.merged_count + bindparam("n"),
                version=table.c.version + 1, updated_at=bindparam("now")),
        [{"target": cid, "n": n, "now": ctx.now} for cid, n in counts.items()],
    )


# Fields a corrected source row may change, and how to read them off a draft.
_UPDATABLE = ("kind", "channel", "received_at", "amount", "org_id", "product", "category",
              "severity", "title", "text_hash")


def _apply_update(draft: Draft, ctx: IntakeContext) -> dict[str, Any]:
    """Bring a stored case in line with its corrected source row; returns what changed.

    A row that was merged into another customer contact's case does not own that case: its
    correction is recorded on the case's timeline but leaves the case's own facts alone.
    """
    case = ctx.db.get(Case, draft.existing_case_id)
    assert case is not None
    draft.case_id = case.id
    if draft.existing_was_merged:
        return {"merged_record": True, "text": draft.text_masked[:500]}
    if retention.is_anonymised(case):  # past its keeping period: nothing personal comes back
        return {"anonymised_case": True}
    changed: dict[str, Any] = {}
    for name in _UPDATABLE:
        if name == "received_at" and not draft.received_at_given:
            continue  # a row without a receipt time keeps the one first stored
        new_value = getattr(draft, name)
        if getattr(case, name) != new_value:
            changed[name] = str(new_value) if new_value is not None else None
            setattr(case, name, new_value)
    if "text_hash" in changed:
        case.text_masked, case.text_enc = draft.text_masked, draft.text_enc
        case.similar_key = draft.similar_key
        case.language = draft.language
        changed.pop("text_hash")
        changed["text"] = draft.text_masked[:500]
    decisions = {k: a.as_dict() for k, a in draft.annotations.items()}
    case.annotations = {**case.annotations, **decisions}
    ctx.db.flush()
    return changed


def _append_events(drafts: list[Draft], changes: dict[int, dict[str, Any]],
                   ctx: IntakeContext) -> None:
    stored = {d.case_id for d in drafts
              if d.outcome in (Outcome.MERGED, Outcome.UPDATED) and d.case_id is not None}
    tips = chain_tips(ctx.db, case_ids=stored)
    rows = []
    for d in drafts:
        if d.rejected or d.outcome == Outcome.UNCHANGED or d.case_id is None:
            continue
        seq, prev = tips.get(d.case_id, (0, GENESIS_HASH))
        kind, at, data = _event_for(d, changes.get(id(d), {}), ctx)
        row = event_row(case_id=d.case_id, seq=seq + 1, type=kind, at=at,
                        actor_user_id=ctx.actor.user_id, data=data, prev_hash=prev)
        tips[d.case_id] = (seq + 1, row["hash"])
        rows.append(row)
    if rows:
        bulk_insert(ctx.db, CaseEvent, rows)


def _event_for(d: Draft, changed: dict[str, Any],
               ctx: IntakeContext) -> tuple[str, Any, dict[str, Any]]:
    source = {"source_system": d.source_system, "source_id": d.source_id}
    if d.outcome == Outcome.NEW:
        return "received", d.received_at, {
            **source, "kind": d.kind, "channel": d.channel, "row": d.row,
            # What was decided and by which stage version; reasons stay on the case.
            "decisions": {k: [a.value, a.source] for k, a in d.annotations.items()},
        }
    if d.outcome == Outcome.MERGED:
        return "merged", d.received_at, {
            **source, "channel": d.channel, "row": d.row,
            "received_at": d.received_at.isoformat() if d.received_at else None,
            "text": d.text_masked[:500],
        }
    return "source_updated", ctx.now, {**source, "row": d.row, "changed": changed}


def _write_intake_records(
    stored: list[Draft], updated: list[Draft], ctx: IntakeContext
) -> None:
    if stored:
        bulk_insert(ctx.db, IntakeRecord, [
            {"source_system": d.source_system, "source_id": d.source_id,
             "content_hash": d.content_hash, "case_id": d.case_id, "outcome": d.outcome,
             "created_at": ctx.now, "updated_at": ctx.now}
            for d in stored
        ])
    for d in updated:
        ctx.db.execute(
            update(IntakeRecord)
            .where(IntakeRecord.source_system == d.source_system,
                   IntakeRecord.source_id == d.source_id)
            .values(content_hash=d.content_hash, updated_at=ctx.now))


def attach_references(drafts: list[Draft], ctx: IntakeContext) -> None:
    missing = {d.case_id for d in drafts if d.reference is None and d.case_id is not None}
    if not missing:
        return
    found = dict(ctx.db.execute(
        select(Case.id, Case.reference).where(Case.id.in_(missing))).all())
    for d in drafts:
        if d.reference is None and d.case_id is not None:
            d.reference = found.get(d.case_id)
