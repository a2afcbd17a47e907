"""Callbacks after resolution and satisfaction surveys. Never commits.

Every resolved case gets a callback decision for its round (a reopened case resolved again is a
new round): pending in the queue (major and urgent cases, regulator transfers, and a stable
sample of the rest) or skipped, with the reason. The answer goes through text understanding;
an unhappy or unsolved answer reopens and escalates the case, a happy one closes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, and_, select, update
from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.models import Case
from bankvoc.cases.workflow import schemas as steps
from bankvoc.cases.workflow import service as workflow
from bankvoc.cases.workflow.config import CallbackPolicy, load_config
from bankvoc.core.db import insert_new
from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc, utcnow
from bankvoc.nlp import pii
from bankvoc.nlp.pipeline import default_sentiment
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.sla.enums import Origin
from bankvoc.surveys.models import Callback, SurveyResponse
from bankvoc.surveys.schemas import CallbackResult, SurveyCreate

PENDING, DONE, UNREACHABLE, SKIPPED = "pending", "done", "unreachable", "skipped"


# How far back (at least) the scheduler looks for a resolved case without its decision. The job
# runs every minute, so a case is decided within a minute of its resolution; the window keeps
# each run to the recent resolutions instead of every case ever resolved, and still covers a
# scheduler stopped for weeks. Older ones are caught up with `since`
# (`bankvoc callbacks schedule --since`).
LOOKBACK = timedelta(days=30)


class CallbackFacts(Protocol):
    """What a callback decision depends on: a Case, or a row selected with these columns."""

    reference: str
    severity: str
    origin: str


def decide(case: CallbackFacts, policy: CallbackPolicy) -> tuple[str, str]:
    """(status, reason) of a resolved case's callback under the policy."""
    if case.severity in policy.always_severities:
        return PENDING, f"every {case.severity} case is called back"
    if policy.always_regulator_transfers and case.origin != Origin.direct:
        return PENDING, f"every regulator transfer ({case.origin}) is called back"
    # A stable choice: the same case is always in (or out of) the sample.
    bucket = int(hashlib.sha256(f"callback:{case.reference}".encode()).hexdigest()[:8], 16) % 100
    if bucket < policy.sample_percent:
        return PENDING, f"in the {policy.sample_percent}% sample"
    return SKIPPED, f"not in the {policy.sample_percent}% sample"


@dataclass(frozen=True)
class ScheduleReport:
    scheduled: int
    skipped: int

    def as_dict(self) -> dict[str, int]:
        return {"scheduled": self.scheduled, "skipped": self.skipped}


def schedule_due(session: Session, *, now: datetime, limit: int = 5_000,
                 since: datetime | None = None) -> ScheduleReport:
    """Decide the callback of every case resolved since `since` (by default LOOKBACK, or the
    policy's callback period if longer, before `now`) that has no decision for its round yet.
    Safe to run twice at once: a (case, round) is stored once."""
    policy = load_config().callbacks
    tz = get_settings().tz
    if since is None:
        since = now - max(LOOKBACK, timedelta(hours=policy.within_hours))
    cases = session.execute(
        select(Case.id, Case.reference, Case.severity, Case.origin, Case.reopen_count,
               Case.resolved_at)
        .outerjoin(Callback, and_(Callback.case_id == Case.id,
                                  Callback.round == Case.reopen_count))
        .where(Case.resolved_at >= as_utc(since, tz), Callback.id.is_(None),
               Case.status.in_([CaseStatus.resolved.value, CaseStatus.closed.value]))
        .order_by(Case.resolved_at).limit(limit)).all()
    rows, counts = [], {PENDING: 0, SKIPPED: 0}
    for case in cases:
        status, reason = decide(case, policy)
        resolved = as_utc(case.resolved_at or now, tz)
        due = resolved + timedelta(hours=policy.within_hours) if status == PENDING else None
        rows.append({"case_id": case.id, "round": case.reopen_count, "status": status,
                     "reason": reason, "due_at": due, "created_at": now})
        counts[status] += 1
    insert_new(session, Callback, rows, ["case_id", "round"])
    return ScheduleReport(counts[PENDING], counts[SKIPPED])


def callback_queue(session: Session, *, actor: Actor, status: str = PENDING,
                   limit: int = 200) -> list[tuple[Callback, Case]]:
    """The callbacks of the actor's cases, soonest due first."""
    actor.require("case.read")
    rows = session.execute(
        select(Callback, Case).join(Case, Case.id == Callback.case_id)
        .where(cases_service.visible(actor), Callback.status == status)
        .order_by(Callback.due_at, Callback.id).limit(limit))
    return [(callback, case) for callback, case in rows]


def get_callback(session: Session, *, actor: Actor, callback_id: int) -> tuple[Callback, Case]:
    """One callback of the actor's cases, with its case; anyone else's is as good as absent."""
    actor.require("case.read")
    found = session.execute(
        select(Callback, Case).join(Case, Case.id == Callback.case_id)
        .where(Callback.id == callback_id, cases_service.visible(actor))).first()
    if found is None:
        raise NotFound(f"no callback {callback_id}", field="callback")
    return found[0], found[1]


def record_result(session: Session, *, actor: Actor, callback_id: int,
                  result: CallbackResult, now: datetime | None = None) -> Callback:
    """Record a callback's answer and act on it: reopen and escalate when unhappy or unsolved,
    close when the customer is satisfied."""
    actor.require("case.work")
    now = now or utcnow()
    callback, case = get_callback(session, actor=actor, callback_id=callback_id)
    if callback.status != PENDING:
        raise Conflict(f"callback {callback_id} is {callback.status} already", field="callback")
    callback.completed_at, callback.completed_by = now, actor.user_id
    if not result.reached:
        callback.status = UNREACHABLE
        return callback
    callback.status = DONE
    callback.csat, callback.nps, callback.solved = result.csat, result.nps, result.solved
    if result.comment:
        callback.comment_masked = pii.mask_text(result.comment)
        callback.sentiment = default_sentiment().score(result.comment).polarity
    policy = load_config().callbacks
    unhappy = result.solved is False or (result.csat or 5) <= policy.unhappy_csat_at_most
    _act_on_answer(session, actor, case, callback, unhappy, now)
    return callback


def _act_on_answer(session: Session, actor: Actor, case: Case, callback: Callback,
                   unhappy: bool, now: datetime) -> None:
    answer = steps.CustomerAnswer(action="customer_answer", version=case.version,
                                  satisfied=not unhappy,
                                  comment=callback.comment_masked or "")
    workflow.apply(session, actor=actor, case=case, step=answer, now=now)
    if unhappy:
        why = f"callback: csat {callback.csat}, solved {callback.solved}"
        if case.status in (CaseStatus.resolved, CaseStatus.closed):
            workflow.apply(session, actor=actor, case=case, now=now, step=steps.Reopen(
                action="reopen", version=case.version, reason=why))
        workflow.apply(session, actor=actor, case=case, now=now, step=steps.Escalate(
            action="escalate", version=case.version, reason=why))
    elif case.status == CaseStatus.resolved:
        workflow.apply(session, actor=actor, case=case, now=now,
                       step=steps.Close(action="close", version=case.version))


def to_read(callback: Callback, case: Case) -> dict[str, object]:
    return {"id": callback.id, "case": case.reference, "round": callback.round,
            "status": callback.status, "reason": callback.reason, "due_at": callback.due_at,
            "csat": callback.csat, "nps": callback.nps, "solved": callback.solved,
            "comment": callback.comment_masked, "sentiment": callback.sentiment,
            "completed_at": callback.completed_at}


def answers_of_case(session: Session, *, case_id: int
                    ) -> tuple[list[Callback], list[SurveyResponse]]:
    """A case's callbacks (every round, oldest first) and the survey answers tied to it, for
    its dossier; the caller has checked that the actor may see the case."""
    callbacks = list(session.scalars(select(Callback).where(Callback.case_id == case_id)
                                     .order_by(Callback.round, Callback.id)))
    surveys = list(session.scalars(select(SurveyResponse).where(
        SurveyResponse.case_id == case_id).order_by(SurveyResponse.answered_at,
                                                    SurveyResponse.id)))
    return callbacks, surveys


def forget_cases(session: Session, *, case_ids: Sequence[int]) -> int:
    """The retention purge of cases whose keeping period is over: their callbacks' and
    surveys' comments and the surveys' link to the customer go; the scores (CSAT, NPS,
    solved) stay for the statistics. Returns how many rows were changed."""
    if not case_ids:
        return 0
    ids = list(case_ids)
    changed = 0
    for stmt in (
        update(Callback).where(Callback.case_id.in_(ids)).values(comment_masked=None),
        update(SurveyResponse).where(SurveyResponse.case_id.in_(ids))
        .values(comment_masked=None, customer_id=None),
    ):
        result = cast(CursorResult[Any], session.execute(
            stmt.execution_options(synchronize_session=False)))
        changed += result.rowcount
    return changed


# --- surveys -----------------------------------------------------------------------------------

def add_survey(session: Session, *, actor: Actor, data: SurveyCreate,
               orgs: dict[str, Org] | None = None) -> tuple[int, bool]:
    """Store one answer (a resend of its source id changes nothing): (id, stored now).
    `orgs` caches the orgs found by code across the calls of one import."""
    actor.require("case.create")
    org = orgs.get(data.org) if orgs is not None else None
    if org is None:
        org = org_service.get_org_by_code(session, code=data.org)
        if orgs is not None:
            orgs[data.org] = org
    if not org_service.org_visible(actor, org):
        raise Invalid(f"org {data.org!r} is outside your scope", field="org")
    case_id = None
    if data.case:
        case_id = cases_service.get_case(session, actor=actor, reference=data.case).id
    row = {
        "source_system": data.source_system, "source_id": data.source_id, "org_id": org.id,
        "channel": data.channel.value, "touchpoint": data.touchpoint, "case_id": case_id,
        "customer_id": None, "csat": data.csat, "nps": data.nps, "solved": data.solved,
        "comment_masked": pii.mask_text(data.comment) if data.comment else None,
        "sentiment": default_sentiment().score(data.comment).polarity if data.comment else None,
        "answered_at": as_utc(data.answered_at, get_settings().tz), "created_at": utcnow(),
    }
    stored = insert_new(session, SurveyResponse, [row], ["source_system", "source_id"]) == 1
    survey_id = session.scalar(select(SurveyResponse.id).where(
        SurveyResponse.source_system == data.source_system,
        SurveyResponse.source_id == data.source_id))
    assert survey_id is not None
    return survey_id, stored
