"""Reading cases: detail, filtered cursor-paged lists and the timeline, always org-scoped."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.events import ChainCheck, verify_chain
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.cases.schemas import CaseFilters, CaseRead, CustomerMasked, EventRead, OrgBrief
from bankvoc.core.errors import Invalid, NotFound
from bankvoc.core.timeutil import ensure_aware
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.sla.enums import Origin

MAX_PAGE = 200
# Cases whose decision is still to be told to the customer: the decision clock runs for them.
AWAITING_DECISION = (CaseStatus.received, CaseStatus.accepted, CaseStatus.assigned,
                     CaseStatus.investigating, CaseStatus.solution_proposed)


def visible(actor: Actor) -> ColumnElement[bool]:
    """The cases an actor may see: of an org in their subtree, or handled by one (a case
    transferred to another branch or department is theirs to work)."""
    return or_(org_service.in_scope(actor, Case.org_id),
               org_service.in_scope(actor, Case.handling_org_id))


def _scoped(actor: Actor) -> Select[Case]:
    return select(Case).where(visible(actor))


def get_case(session: Session, *, actor: Actor, reference: str) -> Case:
    """A case the actor may see; another branch's case is as good as absent (404, not 403)."""
    actor.require("case.read")
    case = session.scalar(_scoped(actor).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"no case {reference}", field="reference")
    return case


def recent_cases_of_customer(session: Session, *, actor: Actor, customer_id: int,
                             limit: int = 5) -> list[Case]:
    """A customer's latest cases that the actor may see, newest first (another branch's cases
    of the same customer stay out of sight)."""
    actor.require("case.read")
    return list(session.scalars(
        _scoped(actor).where(Case.customer_id == customer_id)
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)))


def _encode_cursor(case: Case) -> str:
    raw = f"{ensure_aware(case.received_at).isoformat()}|{case.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("malformed cursor", field="cursor") from None


def _apply_filters(session: Session, stmt: Select[Case], actor: Actor,
                   filters: CaseFilters) -> Select[Case]:
    for name in ("status", "kind", "channel", "severity", "product", "category"):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(getattr(Case, name) == str(value))
    if filters.org:
        org = session.scalar(select(Org).where(Org.code == filters.org))
        if org is None or not org_service.org_visible(actor, org):
            raise NotFound(f"no org {filters.org!r} in your scope", field="org")
        subtree = select(Org.id).where(Org.path.startswith(org.path, autoescape=True))
        stmt = stmt.where(Case.org_id.in_(subtree))
    stmt = _apply_workflow_filters(session, stmt, actor, filters)
    if filters.received_from:
        stmt = stmt.where(Case.received_at >= filters.received_from)
    if filters.received_to:
        stmt = stmt.where(Case.received_at < filters.received_to)
    if filters.needs_review is not None:
        stmt = stmt.where(Case.needs_review.is_(filters.needs_review))
    if filters.q:
        pattern = f"%{filters.q}%"
        stmt = stmt.where(or_(Case.title.like(pattern), Case.text_masked.like(pattern),
                              Case.reference == filters.q))
    return stmt


def _apply_workflow_filters(session: Session, stmt: Select[Case], actor: Actor,
                            filters: CaseFilters) -> Select[Case]:
    """Who works the case, where it came from, and how its decision deadline stands."""
    if filters.assignee == "me":
        stmt = stmt.where(Case.assignee_id == actor.user_id)
    elif filters.assignee == "none":
        stmt = stmt.where(Case.assignee_id.is_(None))
    if filters.handling_org:
        # The queue itself, any org: the results are scoped to the actor anyway (a branch may
        # follow the cases of its own that head office works).
        org = session.scalar(select(Org).where(Org.code == filters.handling_org))
        if org is None:
            raise NotFound(f"no org {filters.handling_org!r}", field="handling_org")
        stmt = stmt.where(func.coalesce(Case.handling_org_id, Case.org_id) == org.id)
    if filters.origin is not None:
        stmt = stmt.where(Case.origin == filters.origin.value)
    if filters.from_regulator is not None:
        direct = Case.origin == Origin.direct.value
        stmt = stmt.where(~direct if filters.from_regulator else direct)
    if filters.due_from is not None or filters.due_before is not None:
        stmt = stmt.where(Case.status.in_([s.value for s in AWAITING_DECISION]),
                          Case.due_at.is_not(None))
        if filters.due_from is not None:
            stmt = stmt.where(Case.due_at >= filters.due_from)
        if filters.due_before is not None:
            stmt = stmt.where(Case.due_at < filters.due_before)
    return stmt


def list_cases(
    session: Session,
    *,
    actor: Actor,
    filters: CaseFilters,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Case], str | None]:
    """Newest first; the cursor is the last row's (received_at, id), stable under inserts."""
    actor.require("case.read")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    stmt = _apply_filters(session, _scoped(actor), actor, filters)
    if cursor:
        at, ident = _decode_cursor(cursor)
        stmt = stmt.where(or_(Case.received_at < at,
                              and_(Case.received_at == at, Case.id < ident)))
    rows = list(session.scalars(
        stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def count_cases(session: Session, *, actor: Actor, filters: CaseFilters,
                exclude_statuses: Sequence[str] = ()) -> int:
    """How many cases `list_cases` would page through (one COUNT, not the pages)."""
    actor.require("case.read")
    stmt = _apply_filters(session, _scoped(actor), actor, filters)
    if exclude_statuses:
        stmt = stmt.where(Case.status.not_in(list(exclude_statuses)))
    return session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Case.id).order_by(None).subquery())) or 0


def timeline(session: Session, *, actor: Actor, case: Case) -> list[EventRead]:
    return timelines(session, actor=actor, cases=[case])[case.id]


def timelines(session: Session, *, actor: Actor, cases: Sequence[Case],
              types: Sequence[str] | None = None) -> dict[int, list[EventRead]]:
    """The events of each case (by case id, in seq order; only those of `types` when given), in
    one query per 500 cases. The cases were loaded through the actor's scope."""
    actor.require("case.read")
    chunk = 500  # ids a query binds: well under SQLite's and PostgreSQL's limits
    ids = list(dict.fromkeys(c.id for c in cases))
    found: dict[int, list[EventRead]] = {i: [] for i in ids}
    for start in range(0, len(ids), chunk):
        stmt = (select(CaseEvent, User.username)
                .outerjoin(User, User.id == CaseEvent.actor_user_id)
                .where(CaseEvent.case_id.in_(ids[start:start + chunk])))
        if types is not None:
            stmt = stmt.where(CaseEvent.type.in_(list(types)))
        for e, name in session.execute(stmt.order_by(CaseEvent.case_id, CaseEvent.seq)):
            found[e.case_id].append(EventRead(seq=e.seq, type=e.type, at=e.at, actor=name,
                                              data=e.data, hash=e.hash))
    return found


def check_chain(session: Session, *, actor: Actor, case: Case) -> ChainCheck:
    actor.require("case.read")
    return verify_chain(session, case_id=case.id)


def _brief(org: Org | None) -> OrgBrief | None:
    return OrgBrief(code=org.code, name=org.name, name_en=org.name_en) if org else None


def to_read(case: Case) -> CaseRead:
    customer = case.customer
    masked = CustomerMasked(name=customer.name_masked, phone=customer.phone_masked,
                            email=customer.email_masked,
                            id_number=customer.id_number_masked) if customer else None
    data: dict[str, Any] = {
        "reference": case.reference, "kind": case.kind, "channel": case.channel,
        "status": case.status, "severity": case.severity, "sentiment": case.sentiment,
        "org": OrgBrief(code=case.org.code, name=case.org.name,
                        name_en=case.org.name_en), "product": case.product,
        "category": case.category, "title": case.title, "text": case.text_masked,
        "language": case.language, "amount": case.amount, "currency": case.currency,
        "customer": masked, "received_at": case.received_at, "due_at": case.due_at,
        "closed_at": case.closed_at, "merged_count": case.merged_count,
        "needs_review": case.needs_review,
        "annotations": case.annotations, "version": case.version,
        "origin": case.origin, "origin_reference": case.origin_reference,
        "handling_org": _brief(case.handling_org),
        "assignee": case.assignee.username if case.assignee else None,
        "first_responder": case.first_responder.username if case.first_responder else None,
        "transfer_count": case.transfer_count, "escalation_level": case.escalation_level,
        "reopen_count": case.reopen_count, "decision_type": case.decision_type,
        "decision_amount": case.decision_amount,
        "decision_needs_approval": case.decision_needs_approval,
        "paused": case.paused_since is not None, "legal_hold": case.legal_hold,
        "created_at": case.created_at, "updated_at": case.updated_at,
    }
    return CaseRead.model_validate(data)


def recent_texts(session: Session, *, actor: Actor, since: datetime,
                 limit: int = 5_000) -> list[tuple[str, str]]:
    """(reference, masked text) of the actor's cases received since `since`, newest first."""
    actor.require("case.read")
    rows = session.execute(
        select(Case.reference, Case.text_masked)
        .where(visible(actor), Case.received_at >= since)
        .order_by(Case.received_at.desc()).limit(limit))
    return [(reference, text) for reference, text in rows]


def similar_groups(session: Session, *, actor: Actor, since: datetime, until: datetime,
                   min_size: int = 2, limit: int = 50,
                   examples: int = 5) -> list[tuple[int, list[str]]]:
    """Groups of the actor's cases received in [since, until) whose texts are copies of one
    template (the same similar key): (size, first references), biggest first. Possible mass
    complaints (群体性投诉) show up here across customers and branches of the actor's scope."""
    actor.require("case.read")
    window = and_(visible(actor), Case.received_at >= since,
                  Case.received_at < until, Case.similar_key.is_not(None))
    size = func.count().label("size")
    groups = session.execute(
        select(Case.similar_key, size).where(window).group_by(Case.similar_key)
        .having(size >= min_size).order_by(size.desc(), Case.similar_key).limit(limit)).all()
    found = []
    for key, count in groups:
        references = session.scalars(
            select(Case.reference).where(window, Case.similar_key == key)
            .order_by(Case.received_at, Case.id).limit(examples))
        found.append((int(count), list(references)))
    return found
