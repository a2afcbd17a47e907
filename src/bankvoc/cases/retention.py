"""Retention: a finished case is kept at least `retention_years` (3 by default, never fewer)
after its closure, then anonymised, unless it is under legal hold.

The rule: complaint records are kept at least 3 years from closure (PBoC 2020 No. 5 art. 44);
once the purpose and the keeping period are over, personal information is deleted (PIPL art.
47), and anonymised information is no longer personal information (PIPL art. 73).

Anonymised, not deleted. The bank keeps counting its complaints after the records are gone:
monthly and yearly statistics by channel, business type and cause (JR/T 0169), complaints per
outlet and per 10 million customers, trends over more than three years. Deleting the rows would
rewrite those numbers, break what refers to the case (intake records that make re-imports
harmless, callbacks, merged cases, traced root causes), and let an old source row
re-imported create the case again. So the case row stays as a statistical skeleton (kind,
channel, org, product, category, severity, origin, status, amounts, dates, decision type,
handling figures) and everything that could identify the customer or tell their story goes:

- on the case: the customer link, the title, the text (masked and encrypted), its hash and
  similarity key, the automatic decisions' reasons, the employee complained about;
- the timeline: removed whole, so no altered chain is left behind. A new chain starts with one
  `retention_anonymised` event (the purge's record, 销毁记录): how many events the old chain had,
  whether it verified, and its last hash, which still proves an earlier dossier export genuine;
- evidence: the attachment rows, and their stored files once no other attachment uses them;
- the other complainants of a group complaint, the handlers' label corrections (masked text),
  the notifications (the customer's encrypted address), the callback and survey comments and
  the survey's customer link (the scores stay), and the sender addresses of channel messages
  (the message rows stay: they keep a redelivered message from making a new case);
- the problem library's part: the texts of the case's root cause (its 5W1H; the cause
  category stays) and the case's links to known problems;
- a social-media mention that became the case: its author (masked and encrypted), its link
  and its masked text. The mention row stays with its date, sentiment and verdict for the
  monitoring trends, and its post id keeps the post from coming back as a new mention.

The customer record itself is left to the customers feature: a customer of the bank is kept
for the banking relationship, not for one complaint.

What is purged: a case in a finished status (closed, archived, not accepted, withdrawn, merged:
all of them end the complaint and set its closure time) closed before the cut-off, never one
under legal hold, never an open case, never one anonymised already. The cut-off is counted in
whole local days: a case closed on day D is kept through the day D + N years.

Safe to run twice at once: each batch claims its cases with one UPDATE that re-checks every
condition on the case row itself and marks it anonymised (an empty text hash; a real case's
text always has one) and bumps its version, so a concurrent edit or legal hold of the same case
is refused as stale rather than lost. On PostgreSQL the rows are chosen with FOR UPDATE SKIP
LOCKED, so two purges take disjoint batches; SQLite runs the UPDATE under its single write lock.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bankvoc.cases import attachments
from bankvoc.cases.enums import CLOSED_STATUSES
from bankvoc.cases.events import GENESIS_HASH, append_event, event_row, verify_chains
from bankvoc.cases.models import Attachment, Case, CaseEvent, LabelCorrection
from bankvoc.cases.workflow.models import CaseComplainant
from bankvoc.core.db import bulk_insert, is_write_conflict, session_factory, transaction
from bankvoc.core.errors import Conflict, Invalid
from bankvoc.core.i18n import register
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.intake.channels.models import ChannelMessage, MonitoredMention
from bankvoc.notify import service as notify_service
from bankvoc.orgs.service import Actor
from bankvoc.problems import service as problems_service
from bankvoc.surveys import service as surveys_service

# Every finished status ends the complaint and sets `closed_at`: each is kept, then purged.
PURGEABLE = frozenset(CLOSED_STATUSES)
ANONYMISED_TITLE = "（已匿名化 anonymised）"
# The row-level mark of an anonymised case: a real case's text always has its hash.
ANONYMISED_HASH = ""
EVENT_ANONYMISED = "retention_anonymised"
EVENT_HOLD_PLACED = "legal_hold_placed"
EVENT_HOLD_LIFTED = "legal_hold_lifted"
BASIS = "PBoC 2020 No. 5 art. 44; PIPL art. 47, 73"

register("event", {
    EVENT_ANONYMISED: ("保存期满匿名化", "Anonymised after retention"),
    EVENT_HOLD_PLACED: ("设置法律保全", "Legal hold placed"),
    EVENT_HOLD_LIFTED: ("解除法律保全", "Legal hold lifted"),
})


class AlreadyAnonymised(Conflict):
    code = "anonymised"


def is_anonymised(case: Case) -> bool:
    return case.text_hash == ANONYMISED_HASH


# --- the keeping period ---------------------------------------------------------------------------

def _shift_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def keep_until(closed_at: dt.datetime, *, years: int | None = None) -> dt.date:
    """The last local day a case closed at `closed_at` is certainly kept."""
    settings = get_settings()
    closed_on = ensure_aware(closed_at).astimezone(settings.tz).date()
    return _shift_years(closed_on, years if years is not None else settings.retention_years)


def cutoff(now: dt.datetime, *, years: int | None = None) -> dt.datetime:
    """Cases closed before this instant (UTC) have been kept long enough at `now`: the start
    of the local day `years` before today."""
    settings = get_settings()
    today = ensure_aware(now).astimezone(settings.tz).date()
    day = _shift_years(today, -(years if years is not None else settings.retention_years))
    return dt.datetime.combine(day, dt.time(), tzinfo=settings.tz).astimezone(dt.UTC)


def _past_retention(before: dt.datetime) -> ColumnElement[bool]:
    """Finished, closed before `before`, not anonymised yet (legal hold aside)."""
    return and_(Case.status.in_([s.value for s in PURGEABLE]), Case.closed_at.is_not(None),
                Case.closed_at < before, Case.text_hash != ANONYMISED_HASH)


# --- legal hold -----------------------------------------------------------------------------------

def set_legal_hold(session: Session, *, actor: Actor, case: Case, hold: bool, reason: str,
                   now: dt.datetime | None = None) -> CaseEvent:
    """Place (`hold`) or lift a legal hold on a case, with the reason, as an event on its
    timeline. A held case is never purged, whatever its age; holding is not a status change,
    so the workflow's table is not involved."""
    actor.require("case.manage")
    reason = reason.strip()
    if not reason:
        raise Invalid("a legal hold is placed or lifted with its reason", field="reason")
    if is_anonymised(case):
        raise AlreadyAnonymised(f"case {case.reference} was anonymised when its keeping period "
                                "ended: there is nothing left to hold", field="hold")
    if case.legal_hold == hold:
        state = "on legal hold already" if hold else "not on legal hold"
        raise Conflict(f"case {case.reference} is {state}", field="hold",
                       code="legal_hold_unchanged")
    now = now or utcnow()
    reference = case.reference
    case.legal_hold = hold
    case.updated_at = now
    try:
        session.flush()  # the case's version guards against a purge or edit at the same time
    except (StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_write_conflict(exc):
            raise
        raise Conflict(f"case {reference} was changed by someone else at the same time: reload "
                       "it and try again", field="hold", code="stale_version") from None
    try:
        return append_event(session, case=case,
                            type=EVENT_HOLD_PLACED if hold else EVENT_HOLD_LIFTED,
                            actor_user_id=actor.user_id, data={"reason": reason}, at=now)
    except IntegrityError:
        raise Conflict(f"case {reference} was changed by someone else at the same time: reload "
                       "it and try again", field="hold", code="stale_version") from None


# --- what is due ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionPreview:
    """What a purge at `now` would do (nothing is changed to find out)."""

    now: dt.datetime
    cutoff: dt.datetime
    retention_years: int
    due: int  # would be anonymised
    by_status: dict[str, int]
    held: int  # past the keeping period, but under legal hold

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": True, "now": self.now.isoformat(), "cutoff": self.cutoff.isoformat(),
                "retention_years": self.retention_years, "due": self.due,
                "by_status": self.by_status, "held": self.held}


def preview(session: Session, *, now: dt.datetime) -> RetentionPreview:
    years = get_settings().retention_years
    before = cutoff(now, years=years)
    rows = session.execute(select(Case.status, Case.legal_hold, func.count())
                           .where(_past_retention(before))
                           .group_by(Case.status, Case.legal_hold)).all()
    by_status = {status.value: 0 for status in sorted(PURGEABLE)}
    held = 0
    for status, on_hold, count in rows:
        if on_hold:
            held += int(count)
        else:
            by_status[str(status)] += int(count)
    return RetentionPreview(now=now, cutoff=before, retention_years=years,
                            due=sum(by_status.values()), by_status=by_status, held=held)


# --- the purge ------------------------------------------------------------------------------------

@dataclass
class PurgeReport:
    anonymised: int = 0
    batches: int = 0
    events_removed: int = 0
    attachments_removed: int = 0
    files_removed: int = 0
    held: int = 0  # past the keeping period, kept for a legal hold
    cutoff: str | None = None
    retention_years: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchResult:
    references: list[str]
    events_removed: int
    attachments_removed: int
    digests: frozenset[str]
    last_id: int  # the next batch starts after it


def _claim(session: Session, *, before: dt.datetime, now: dt.datetime, limit: int,
           after_id: int) -> list[tuple[int, str, str, dt.datetime]]:
    """Mark up to `limit` due cases anonymised and strip their own columns, in one statement
    that re-checks every condition on the row; returns (id, reference, status, closed_at).

    Cases are taken in id order from `after_id` on: the primary key walks the table once per
    run, however many batches it takes (no index on the closure time is needed)."""
    due = (_past_retention(before), Case.legal_hold.is_(False))
    # FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite ignores it: its write lock serialises the
    # UPDATE); a CTE, so PostgreSQL evaluates the locking select exactly once.
    chosen = (select(Case.id).where(Case.id > after_id, *due).order_by(Case.id).limit(limit)
              .with_for_update(skip_locked=True).cte("chosen"))
    stmt = (update(Case).where(Case.id.in_(select(chosen.c.id)), *due)
            .values(customer_id=None, title=ANONYMISED_TITLE, text_masked="", text_enc="",
                    text_hash=ANONYMISED_HASH, similar_key=None, annotations={},
                    subject_user_id=None, version=Case.version + 1, updated_at=now)
            .returning(Case.id, Case.reference, Case.status, Case.closed_at)
            .execution_options(synchronize_session=False))
    rows = session.execute(stmt).all()
    claimed = []
    for case_id, reference, status, closed_at in rows:
        assert closed_at is not None  # the WHERE asks for it
        claimed.append((int(case_id), str(reference), str(status), ensure_aware(closed_at)))
    return sorted(claimed)


def _run(session: Session, stmt: Any) -> int:
    """Execute a bulk DELETE or UPDATE; how many rows it touched."""
    result = cast(CursorResult[Any], session.execute(
        stmt.execution_options(synchronize_session=False)))
    return result.rowcount


def anonymise_due(session: Session, *, now: dt.datetime, limit: int,
                  years: int | None = None, after_id: int = 0) -> BatchResult:
    """Anonymise one batch of due cases (of ids above `after_id`) in the caller's transaction
    (see the module's docstring); the files of removed attachments are the caller's to remove
    after commit."""
    years = years if years is not None else get_settings().retention_years
    claimed = _claim(session, before=cutoff(now, years=years), now=now, limit=limit,
                     after_id=after_id)
    if not claimed:
        return BatchResult([], 0, 0, frozenset(), after_id)
    ids = [case_id for case_id, _, _, _ in claimed]
    for obj in list(session.identity_map.values()):  # what this session holds is stale now
        if isinstance(obj, Case) and obj.id in ids:
            session.expire(obj)
    checks = verify_chains(session, case_ids=ids)
    files: Counter[int] = Counter()
    digests: set[str] = set()
    for case_id, digest in session.execute(
            select(Attachment.case_id, Attachment.sha256).where(Attachment.case_id.in_(ids))):
        files[case_id] += 1
        digests.add(digest)
    events_removed = _run(session, delete(CaseEvent).where(CaseEvent.case_id.in_(ids)))
    attachments_removed = _run(session, delete(Attachment).where(Attachment.case_id.in_(ids)))
    _run(session, delete(CaseComplainant).where(CaseComplainant.case_id.in_(ids)))
    _run(session, delete(LabelCorrection).where(LabelCorrection.case_id.in_(ids)))
    notify_service.forget_cases(session, case_ids=ids)
    surveys_service.forget_cases(session, case_ids=ids)
    problems_service.forget_cases(session, case_ids=ids)
    # The channel adapters' rows (intake.channels) keep the message, not its sender; a
    # mention keeps its date, sentiment and verdict, not its author, link or words.
    _run(session, update(ChannelMessage).where(ChannelMessage.case_id.in_(ids)).values(
        contact_enc=None, contact_bidx=None, contact_masked=None, contact_name_enc=None,
        text_enc=None))
    _run(session, update(MonitoredMention).where(MonitoredMention.case_id.in_(ids)).values(
        author=None, author_enc=None, url=None, text_masked=""))
    bulk_insert(session, CaseEvent, [
        event_row(case_id=case_id, seq=1, type=EVENT_ANONYMISED, at=now, actor_user_id=None,
                  prev_hash=GENESIS_HASH,
                  data={"retention_years": years, "status": status,
                        "closed_at": closed_at.isoformat(), "basis": BASIS,
                        "removed_events": checks[case_id].events,
                        "removed_chain_tip": checks[case_id].last_hash,
                        "removed_chain_ok": checks[case_id].ok,
                        "removed_attachments": files[case_id]})
        for case_id, _, status, closed_at in claimed])
    return BatchResult([reference for _, reference, _, _ in claimed], events_removed,
                       attachments_removed, frozenset(digests), last_id=max(ids))


def purge_due(sessions: sessionmaker[Session] | Engine | None = None, *,
              now: dt.datetime | None = None, batch_size: int | None = None,
              max_batches: int | None = None) -> PurgeReport:
    """Anonymise every case past its keeping period, one committed batch at a time; owns its
    units of work (the job `cases.retention` and `bankvoc cases purge` call it). Idempotent,
    and safe to run in several places at once."""
    factory = sessions if isinstance(sessions, sessionmaker) else session_factory(sessions)
    settings = get_settings()
    now = ensure_aware(now or utcnow())
    size = batch_size or settings.retention_batch_size
    years = settings.retention_years
    report = PurgeReport(cutoff=cutoff(now, years=years).isoformat(), retention_years=years)
    after_id = 0
    while max_batches is None or report.batches < max_batches:
        with transaction(factory) as session:
            batch = anonymise_due(session, now=now, limit=size, years=years,
                                  after_id=after_id)
        if not batch.references:
            break
        after_id = batch.last_id
        report.batches += 1
        report.anonymised += len(batch.references)
        report.events_removed += batch.events_removed
        report.attachments_removed += batch.attachments_removed
        if batch.digests:
            with transaction(factory) as session:
                report.files_removed += attachments.remove_unreferenced_files(
                    session, digests=batch.digests)
        if len(batch.references) < size:
            break
    with transaction(factory) as session:
        report.held = preview(session, now=now).held
    return report
