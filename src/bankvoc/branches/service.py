"""Outlet inspections (网点检查) and mystery-shopper visits (神秘客户暗访): recording a visit
against the service-standard checklist, its score, the findings (整改事项) its failed items
become, closing them, and the per-outlet monthly trend.

Score = 100 × Σ weight of the items passed ÷ Σ weight of the items answered pass or fail
(`na` items are left out; None when nothing applied). A failed `critical` item flags the visit
whatever its score. Every failed item becomes a finding owned by the outlet's branch manager
(if it has one) and due 14 days after the visit's (local) date.

Every list and detail query goes through `orgs.service.in_scope`: a visit outside the actor's
subtree does not exist for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bankvoc.branches import photos as photo_store
from bankvoc.branches.checklist import Checklist, load_checklist
from bankvoc.branches.enums import FindingStatus, Result, VisitKind
from bankvoc.branches.models import (
    Inspection,
    InspectionAnswer,
    InspectionFinding,
    InspectionPhoto,
)
from bankvoc.branches.schemas import AnswerIn, PhotoIn, Score, TrendRow, VisitCreate
from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import to_local, utcnow
from bankvoc.orgs.enums import OrgKind, Role
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor, in_scope, org_visible

FINDING_DAYS = 14
MAX_PHOTOS = 10
# Visits are of outlets; a sub-branch (支行) often is one.
OUTLET_KINDS = frozenset({OrgKind.outlet.value, OrgKind.sub_branch.value})
FUTURE_SKEW = timedelta(minutes=10)


# --- the score ----------------------------------------------------------------------------------

def score(checklist: Checklist, answers: Sequence[AnswerIn]) -> Score:
    """The visit's score, whether a critical item failed, and the failed items' codes."""
    passed = applicable = 0.0
    critical = False
    failed: list[str] = []
    for answer in answers:
        item = checklist.item(answer.item_code)
        if item is None or answer.result == Result.na:
            continue
        applicable += item.weight
        if answer.result == Result.passed:
            passed += item.weight
        else:
            failed.append(item.code)
            critical = critical or item.critical
    value = round(100.0 * passed / applicable, 2) if applicable else None
    return Score(score=value, critical_failed=critical, failed=tuple(failed))


def check_answers(checklist: Checklist, answers: Sequence[AnswerIn]) -> None:
    """Every checklist item answered exactly once, and nothing else; else Invalid naming the
    item (field `answers.<code>`)."""
    seen: set[str] = set()
    for answer in answers:
        if checklist.item(answer.item_code) is None:
            raise Invalid(f"{answer.item_code!r} is not an item of checklist "
                          f"{checklist.version}", field=f"answers.{answer.item_code}")
        if answer.item_code in seen:
            raise Invalid(f"item {answer.item_code!r} is answered more than once",
                          field=f"answers.{answer.item_code}")
        seen.add(answer.item_code)
    for code in checklist.codes():
        if code not in seen:
            raise Invalid(f"item {code!r} is not answered", field=f"answers.{code}")


# --- recording a visit --------------------------------------------------------------------------

def outlets(session: Session, *, actor: Actor) -> list[Org]:
    """The outlets the actor may record a visit of (their subtree's), by code."""
    return list(session.scalars(select(Org).where(
        in_scope(actor, Org.id), Org.kind.in_(OUTLET_KINDS), Org.active.is_(True))
        .order_by(Org.code)))


def branch_manager(session: Session, *, org_id: int) -> User | None:
    """The outlet's branch manager (the first active one of the org itself), if any."""
    users = session.scalars(select(User).where(User.org_id == org_id, User.active.is_(True))
                            .order_by(User.id))
    return next((u for u in users if Role.branch_manager.value in (u.roles or [])), None)


def _outlet(session: Session, *, actor: Actor, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None or not org_visible(actor, org):
        raise NotFound(f"no org {org_id} in your scope", field="org")
    if org.kind not in OUTLET_KINDS:
        raise Invalid(f"{org.code} is not an outlet (a {org.kind})", field="org")
    return org


def record_visit(session: Session, *, actor: Actor, data: VisitCreate,
                 photos: Sequence[PhotoIn] = (), checklist: Checklist | None = None,
                 now: datetime | None = None) -> Inspection:
    """Record a visit with its answer to every item, its photos, and a finding per failed
    item."""
    actor.require("inspection.record")
    checklist = checklist or load_checklist()
    now = now or utcnow()
    outlet = _outlet(session, actor=actor, org_id=data.org_id)
    if data.visited_at > now + FUTURE_SKEW:
        raise Invalid("the visit cannot be in the future", field="visited_at")
    check_answers(checklist, data.answers)
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos a visit", field="photos")
    for photo in photos:
        photo_store.check(photo.data)
        if photo.item_code is not None and checklist.item(photo.item_code) is None:
            raise Invalid(f"{photo.item_code!r} is not an item of the checklist",
                          field="photos")
    result = score(checklist, data.answers)
    visit = Inspection(org_id=outlet.id, kind=VisitKind(data.kind).value,
                       visited_at=data.visited_at, inspector_id=actor.user_id,
                       checklist_version=checklist.version,
                       checklist_checksum=checklist.checksum, score=result.score,
                       critical_failed=result.critical_failed, note=data.note, created_at=now)
    session.add(visit)
    session.flush()
    for answer in data.answers:
        session.add(InspectionAnswer(inspection_id=visit.id, item_code=answer.item_code,
                                     result=Result(answer.result).value, remark=answer.remark))
    manager = branch_manager(session, org_id=outlet.id)
    due = to_local(data.visited_at, get_settings().tz).date() + timedelta(days=FINDING_DAYS)
    remarks = {a.item_code: a.remark for a in data.answers}
    for code in result.failed:
        item = checklist.item(code)
        assert item is not None
        session.add(InspectionFinding(
            inspection_id=visit.id, item_code=code, description=remarks[code] or item.zh,
            owner_id=manager.id if manager else None, due_date=due,
            status=FindingStatus.open.value))
    for photo in photos:
        add_photo(session, actor=actor, inspection=visit, photo=photo, now=now)
    session.flush()
    return visit


def add_photo(session: Session, *, actor: Actor, inspection: Inspection, photo: PhotoIn,
              now: datetime | None = None) -> InspectionPhoto:
    """Store a photo of the visit (checked by its bytes). The file is written before the
    commit: stored by content, an unreferenced copy is harmless."""
    actor.require("inspection.record")
    content_type = photo_store.check(photo.data)
    digest = photo_store.store(photo.data)
    row = InspectionPhoto(inspection_id=inspection.id, item_code=photo.item_code,
                          content_type=content_type, size=len(photo.data), sha256=digest,
                          uploaded_by=actor.user_id, created_at=now or utcnow())
    session.add(row)
    return row


# --- reading visits -----------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitFilter:
    org: Org | None = None  # the subtree of this org (within the actor's)
    kind: VisitKind | None = None
    since: datetime | None = None  # visited at or after
    until: datetime | None = None  # visited before


def _visits(actor: Actor, cut: VisitFilter) -> Select[Inspection]:
    stmt = select(Inspection).where(in_scope(actor, Inspection.org_id))
    if cut.org is not None:
        stmt = stmt.where(Inspection.org_id.in_(select(Org.id).where(
            Org.path.startswith(cut.org.path, autoescape=True))))
    if cut.kind is not None:
        stmt = stmt.where(Inspection.kind == cut.kind.value)
    if cut.since is not None:
        stmt = stmt.where(Inspection.visited_at >= cut.since)
    if cut.until is not None:
        stmt = stmt.where(Inspection.visited_at < cut.until)
    return stmt


def list_visits(session: Session, *, actor: Actor, cut: VisitFilter | None = None,
                limit: int = 50, offset: int = 0) -> tuple[list[Inspection], int]:
    """Visits in the actor's scope, newest first; (page, total)."""
    actor.require("inspection.read")
    if not 1 <= limit <= 200:
        raise Invalid("limit must be between 1 and 200", field="limit")
    stmt = _visits(actor, cut or VisitFilter())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = list(session.scalars(stmt.order_by(Inspection.visited_at.desc(),
                                              Inspection.id.desc())
                                .limit(limit).offset(max(0, offset))))
    return page, int(total)


def get_visit(session: Session, *, actor: Actor, inspection_id: int) -> Inspection:
    actor.require("inspection.read")
    visit = session.scalar(select(Inspection).where(Inspection.id == inspection_id,
                                                    in_scope(actor, Inspection.org_id)))
    if visit is None:
        raise NotFound(f"no inspection {inspection_id}", field="inspection")
    return visit


def answers_of(session: Session, *, visit: Inspection) -> list[InspectionAnswer]:
    return list(session.scalars(select(InspectionAnswer).where(
        InspectionAnswer.inspection_id == visit.id).order_by(InspectionAnswer.id)))


def photos_of(session: Session, *, visit: Inspection) -> list[InspectionPhoto]:
    return list(session.scalars(select(InspectionPhoto).where(
        InspectionPhoto.inspection_id == visit.id).order_by(InspectionPhoto.id)))


def findings_of(session: Session, *, visit: Inspection) -> list[InspectionFinding]:
    return list(session.scalars(select(InspectionFinding).where(
        InspectionFinding.inspection_id == visit.id).order_by(InspectionFinding.id)))


def open_findings(session: Session, *, visits: Sequence[Inspection]) -> dict[int, int]:
    """How many findings of each visit are still open."""
    ids = [v.id for v in visits]
    if not ids:
        return {}
    rows = session.execute(select(InspectionFinding.inspection_id, func.count())
                           .where(InspectionFinding.inspection_id.in_(ids),
                                  InspectionFinding.status == FindingStatus.open.value)
                           .group_by(InspectionFinding.inspection_id))
    return {int(i): int(n) for i, n in rows}


def get_photo(session: Session, *, actor: Actor, photo_id: int) -> tuple[InspectionPhoto, bytes]:
    """A photo of a visit in the actor's scope, and its bytes (NotFound when the file is
    missing or fails its checksum)."""
    actor.require("inspection.read")
    photo = session.scalar(select(InspectionPhoto).join(
        Inspection, Inspection.id == InspectionPhoto.inspection_id).where(
        InspectionPhoto.id == photo_id, in_scope(actor, Inspection.org_id)))
    data = photo_store.read(photo.sha256) if photo is not None else None
    if photo is None or data is None:
        raise NotFound(f"no photo {photo_id}", field="photo")
    return photo, data


# --- findings -----------------------------------------------------------------------------------

def close_finding(session: Session, *, actor: Actor, finding_id: int,
                  now: datetime | None = None) -> InspectionFinding:
    """Mark a finding put right; closing it twice is a Conflict."""
    actor.require("inspection.record")
    finding = session.scalar(select(InspectionFinding).join(
        Inspection, Inspection.id == InspectionFinding.inspection_id).where(
        InspectionFinding.id == finding_id, in_scope(actor, Inspection.org_id)))
    if finding is None:
        raise NotFound(f"no finding {finding_id}", field="finding")
    if finding.status == FindingStatus.done.value:
        raise Conflict(f"finding {finding_id} is closed already", field="finding")
    finding.status = FindingStatus.done.value
    finding.done_at = now or utcnow()
    session.flush()
    return finding


# --- the trend ----------------------------------------------------------------------------------

def month_start(month: str) -> date:
    """The first day of a YYYY-MM month, or Invalid."""
    try:
        year, number = (int(p) for p in month.split("-"))
        return date(year, number, 1)
    except ValueError:
        raise Invalid(f"{month!r} is not a month (YYYY-MM)", field="month") from None


def period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The UTC bounds of local months `since`..`until` (both included, YYYY-MM; either may be
    absent)."""
    tz = get_settings().tz
    start = end = None
    if since:
        start = datetime.combine(month_start(since), time.min, tz).astimezone(UTC)
    if until:
        last = month_start(until)
        following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        end = datetime.combine(following, time.min, tz).astimezone(UTC)
    if start is not None and end is not None and end <= start:
        raise Invalid("the period ends before it starts", field="until")
    return start, end


def trend(session: Session, *, actor: Actor, org: Org | None = None,
          since: datetime | None = None, until: datetime | None = None) -> list[TrendRow]:
    """Per outlet and local month: visits, average score, critical failures and the open
    findings of those visits; by outlet code, then month."""
    actor.require("inspection.read")
    if org is not None and not org_visible(actor, org):
        raise NotFound(f"no org {org.code} in your scope", field="org")
    visits = list(session.scalars(_visits(actor, VisitFilter(org=org, since=since,
                                                             until=until))))
    still_open = open_findings(session, visits=visits)
    tz = get_settings().tz
    groups: dict[tuple[int, str], list[Inspection]] = defaultdict(list)
    for visit in visits:
        groups[(visit.org_id, to_local(visit.visited_at, tz).strftime("%Y-%m"))].append(visit)
    orgs = {o.id: o for o in session.scalars(select(Org).where(
        Org.id.in_({key[0] for key in groups})))} if groups else {}
    rows = []
    for (org_id, month), members in groups.items():
        scores = [v.score for v in members if v.score is not None]
        outlet = orgs[org_id]
        rows.append(TrendRow(
            org_id=org_id, org_code=outlet.code, org_name=outlet.name,
            org_name_en=outlet.name_en, month=month, visits=len(members),
            average_score=round(sum(scores) / len(scores), 2) if scores else None,
            critical_failed=sum(1 for v in members if v.critical_failed),
            open_findings=sum(still_open.get(v.id, 0) for v in members)))
    return sorted(rows, key=lambda r: (r.org_code, r.month))
