"""The demo's cases in every stage of the loop: a share of them is worked through the real
workflow service (accepted, assigned, investigated, decided, resolved, called back, closed), so
the inbox, the case pages, the callback queue and the deadlines look like a working bank's.

Deterministic: which case reaches which stage follows from its reference; once any demo case
has been worked, a later run works none.
"""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_right
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Engine, select

from bankvoc.cases.models import Case
from bankvoc.cases.workflow import schemas, service
from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import BankvocError
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.demo import generator
from bankvoc.orgs import service as org_service
from bankvoc.surveys import service as surveys
from bankvoc.surveys.schemas import CallbackResult

log = logging.getLogger(__name__)

STEP = schemas.STEP_ADAPTER

# The loop in order; a case stops after as many steps as its stage says.
LOOP: tuple[dict[str, Any], ...] = (
    {"action": "accept"},
    {"action": "assign"},
    {"action": "investigate"},
    {"action": "note", "kind": "dispute_focus", "text": "核实业务办理过程与收费依据"},
    {"action": "propose", "decision": "explanation", "basis": "依据业务规定与合同条款向客户说明"},
    {"action": "resolve", "told_via": "phone", "summary": "已电话向客户说明处理结果"},
)
# Hours after receipt each step is taken: a working bank accepts within hours, decides within
# days, and now and then misses the 15-day limit (the on-time rate is not 100%).
STEP_HOURS = (2, 6, 24, 48)
DECISION_DAYS = (2, 4, 6, 9, 12, 14, 20)
# (percent of the worked cases, steps taken), adding up to 100: every worked case takes at
# least one step; the demo cases past `work_cases`'s limit are the ones left as received.
STAGES = ((10, 1), (10, 2), (15, 4), (15, 5), (50, 6))
_BOUNDS = tuple(accumulate(share for share, _ in STAGES))  # 10, 20, 35, 50, 100


def _steps_for(reference: str) -> int:
    bucket = int(hashlib.sha256(f"demo-stage:{reference}".encode()).hexdigest()[:8], 16) % 100
    return STAGES[bisect_right(_BOUNDS, bucket)][1]


def _step_times(case: Case, steps: int, now: datetime) -> list[datetime]:
    """When each step is taken: hours after receipt for the first ones, the decision days
    later (deterministic per reference), never after `now`."""
    digest = int(hashlib.sha256(f"demo-days:{case.reference}".encode()).hexdigest()[:8], 16)
    decided = ensure_aware(case.received_at) + timedelta(
        days=DECISION_DAYS[digest % len(DECISION_DAYS)], hours=digest % 7)
    times = [ensure_aware(case.received_at) + timedelta(hours=h) for h in STEP_HOURS]
    times += [decided - timedelta(hours=4), decided]
    return [min(moment, now) for moment in times[:steps]]


def _spread(session: Any, *, limit: int, before: datetime) -> list[Case]:
    """`limit` untouched demo cases spread evenly over the year, so every month has cases at
    every stage (the oldest alone would leave the recent months untouched)."""
    ids = session.scalars(
        select(Case.id).where(Case.status == "received",
                              Case.source_system == generator.SOURCE_SYSTEM,
                              Case.received_at < before).order_by(Case.received_at)).all()
    step = max(1, len(ids) // max(limit, 1))
    chosen = ids[::step][:limit]
    return list(session.scalars(select(Case).where(Case.id.in_(chosen))
                                .order_by(Case.received_at)))


def work_cases(engine: Engine, *, limit: int, now: datetime | None = None) -> dict[str, int]:
    """Take `limit` untouched demo cases, spread over the year, through the loop at the times
    a working bank would; resolved ones get their callback decided and half of the due
    callbacks answered."""
    now = now or utcnow()
    worked = steps_taken = 0
    with unit_of_work(engine) as session:
        if session.scalar(select(Case.id).where(Case.source_system == generator.SOURCE_SYSTEM,
                                                Case.status != "received").limit(1)):
            return {"worked": 0, "steps": 0, "callbacks": 0, "answered": 0}  # worked before
        actor = org_service.actor_for(org_service.get_user(session, username=generator.LOADER))
        for case in _spread(session, limit=limit, before=now - timedelta(days=3)):
            steps = _steps_for(case.reference)
            taken = _work(session, actor, case, _step_times(case, steps, now))
            worked += taken > 0
            steps_taken += taken
        scheduled = surveys.schedule_due(session, now=now, since=now - timedelta(days=400))
        answered = 0
        for index, (callback, _) in enumerate(surveys.callback_queue(session, actor=actor,
                                                                    limit=limit)):
            if index % 2 == 0:
                score = 5 if index % 8 else 2  # one in four answered calls is unhappy
                surveys.record_result(session, actor=actor, callback_id=callback.id, now=now,
                                      result=CallbackResult(csat=score, nps=score * 2,
                                                            solved=score > 2))
                answered += 1
    return {"worked": worked, "steps": steps_taken, "callbacks": scheduled.scheduled,
            "answered": answered}


def _work(session: Any, actor: org_service.Actor, case: Case, times: list[datetime]) -> int:
    taken = 0
    for payload, at in zip(LOOP, times, strict=False):
        try:
            with session.begin_nested():
                service.apply(session, actor=actor, case=case, now=at,
                              step=STEP.validate_python({**payload, "version": case.version}))
        except BankvocError as exc:  # e.g. nobody to assign to in a small org tree
            log.info("demo case %s stops at %s: %s", case.reference, payload["action"], exc)
            break
        taken += 1
    return taken
