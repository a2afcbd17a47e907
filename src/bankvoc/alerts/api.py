"""REST routes of early warning: the alert list, acknowledgement, regulator risk, the scan."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from bankvoc.alerts import service
from bankvoc.alerts.schemas import AcknowledgeBody, AlertRead, RiskRead, ScanBody, ScanRead
from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.core.models import RowId
from bankvoc.core.timeutil import utcnow

router = APIRouter(tags=["early warning"])


@router.get("/alerts", response_model=list[AlertRead], responses=errors(401, 403, 422))
def list_alerts(
    session: DbSession, actor: CurrentActor,
    kind: Annotated[str | None, Query(
        description="hot_issue, emerging_topic, mass_complaint or regulator_risk")] = None,
    status: Annotated[str | None, Query(description="open or acknowledged")] = None,
    since: Annotated[date | None, Query(description="First local day, included")] = None,
    until: Annotated[date | None, Query(description="Last local day, included")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlertRead]:
    """Alerts of your org subtree, newest day first, with their typical cases (masked)."""
    alerts = service.list_alerts(session, actor=actor, kind=kind, status=status, since=since,
                                 until=until, limit=limit, offset=offset)
    cases = service.typical_cases(session, alerts)
    users = service.usernames_of(session, alerts)
    return [AlertRead.model_validate(service.to_read(a, cases, users)) for a in alerts]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead,
             responses=errors(401, 403, 404, 409, 422))
def acknowledge(session: DbSession, actor: CurrentActor, alert_id: RowId,
                body: AcknowledgeBody) -> AlertRead:
    """Acknowledge an alert of your subtree: who and when are recorded, with your note."""
    alert = service.acknowledge(session, actor=actor, alert_id=alert_id, note=body.note)
    return AlertRead.model_validate(service.to_read(
        alert, service.typical_cases(session, [alert]), service.usernames_of(session, [alert])))


@router.get("/alerts/regulator-risk", response_model=list[RiskRead],
            responses=errors(401, 403, 422))
def regulator_risk(session: DbSession, actor: CurrentActor,
                   limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[RiskRead]:
    """Your open complaints most likely to reach the regulator, with the reasons of each."""
    found = service.regulator_risks(session, now=utcnow(), actor=actor, limit=limit)
    return [RiskRead(reference=r.reference, org_id=r.org_id, status=r.status,
                     severity=r.severity, due_at=r.due_at, score=r.risk.score,
                     reasons=r.risk.reasons) for r in found]


@router.post("/alerts/scan", response_model=ScanRead, responses=errors(401, 403, 422))
def scan(session: DbSession, actor: CurrentActor, body: ScanBody) -> ScanRead:
    """Run the day's early-warning scan now (consumer protection and administrators)."""
    service.require_scan(actor)
    return ScanRead.model_validate(service.scan(session, day=body.day, now=utcnow()).as_dict())
