"""The alerts once stored: who is told of a new one, and reading, acknowledging and showing
them within the actor's org scope."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bankvoc.alerts.enums import AlertKind, AlertStatus
from bankvoc.alerts.models import Alert
from bankvoc.alerts.service.common import Orgs
from bankvoc.cases.models import Case
from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.core.i18n import t
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp import pii
from bankvoc.notify import service as notify
from bankvoc.notify.service import Outgoing, Recipient
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor

log = logging.getLogger(__name__)

TEMPLATE = "hot_issue_alert"
MAX_NOTE = 2000


# --- telling -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Person:
    id: int
    username: str
    org_id: int
    email: str | None
    mobile: str | None


def _officers(session: Session, orgs: Orgs) -> dict[int, list[_Person]]:
    """The active consumer-protection officers by org."""
    found: dict[int, list[_Person]] = defaultdict(list)
    for user in session.scalars(select(User).where(User.active.is_(True))):
        if Role.cpo.value in (user.roles or []):
            found[user.org_id].append(_Person(user.id, user.username, user.org_id, user.email,
                                              user.mobile))
    return found


def _recipients(org_id: int | None, officers: dict[int, list[_Person]],
                orgs: Orgs) -> list[_Person]:
    people = [p for root in sorted(orgs.root_ids) for p in officers.get(root, [])]
    if org_id is not None and org_id in orgs.by_id:
        for above in reversed(orgs.by_id[org_id].chain):
            if above in orgs.root_ids:
                break
            if officers.get(above):
                people += officers[above]
                break
    return people


def _address(person: _Person) -> tuple[str, str] | None:
    for channel, address in (("email", person.email), ("sms", person.mobile)):
        if address:
            try:
                # Checked here, not by the outbox: one bad address must not fail the batch.
                return channel, notify.normalise_address(channel, address)
            except Invalid:
                continue
    return None


def _context(row: dict[str, Any], references: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {"kind": t(f"alert_kind.{row['kind']}", "zh"),
                               "kind_code": row["kind"], "title": row["label"],
                               "day": row["day"], "observed": row["observed"]}
    if row["expected"] is not None:
        context["expected"] = f"{row['expected']:.1f}"
    if row["ratio"] is not None:
        context["ratio"] = f"{row['ratio']:.1f}"
    if row["p_value"] is not None:
        context["p_value"] = f"{row['p_value']:.2g}"
    if references:
        context["references"] = "、".join(references)
    return context


def plan_notifications(session: Session, rows: list[dict[str, Any]], orgs: Orgs
                        ) -> dict[str, list[Outgoing]]:
    """Per alert (by dedupe key): the messages to its officers. Who is told and who could not
    be (no work address) is written into the alert's detail."""
    if not rows:
        return {}
    officers = _officers(session, orgs)
    ids = sorted({c for row in rows for c in row["case_ids"]})
    references = {int(r.id): r.reference for r in session.execute(
        select(Case.id, Case.reference).where(Case.id.in_(ids)))} if ids else {}
    planned: dict[str, list[Outgoing]] = {}
    for row in rows:
        digest = hashlib.sha256(row["dedupe_key"].encode()).hexdigest()[:32]
        context = _context(row, [references[c] for c in row["case_ids"][:5] if c in references])
        outgoing = planned[row["dedupe_key"]] = []
        notified, unreachable = [], []
        for person in _recipients(row["org_id"], officers, orgs):
            found = _address(person)
            if found is None:
                unreachable.append(person.username)
                continue
            channel, address = found
            outgoing.append(Outgoing(
                template=TEMPLATE, channel=channel,
                recipient=Recipient.user(address, ref=person.username), language="zh",
                context=context, dedupe_key=f"alert:{digest}:{person.id}"))
            notified.append(person.username)
        row["detail"] = {**row["detail"], "notified": notified, "unreachable": unreachable}
    return planned


# --- reading and acknowledging -------------------------------------------------------------------

def visible(actor: Actor) -> ColumnElement[bool]:
    """The alerts an actor may see: of an org in their subtree; whole-bank alerts only for
    those whose subtree is the whole bank (the head office). Scoped by orgs' choke point."""
    root = select(Org.id).where(Org.parent_id.is_(None)).order_by(Org.id).limit(1)
    return or_(org_service.in_scope(actor, Alert.org_id),
               and_(Alert.org_id.is_(None),
                    org_service.in_scope(actor, root.scalar_subquery())))


def list_alerts(session: Session, *, actor: Actor, kind: str | None = None,
                status: str | None = None, since: date | None = None,
                until: date | None = None, limit: int = 100, offset: int = 0) -> list[Alert]:
    """The actor's alerts, newest day first; `since`/`until` are local days, both included."""
    actor.require("alert.read")
    where = [visible(actor)]
    if kind is not None:
        where.append(Alert.kind == _choice(AlertKind, kind, "kind"))
    if status is not None:
        where.append(Alert.status == _choice(AlertStatus, status, "status"))
    if since is not None and until is not None and since > until:
        raise Invalid("since is after until", field="since")
    if since is not None:
        where.append(Alert.day >= since)
    if until is not None:
        where.append(Alert.day <= until)
    if not 1 <= limit <= 500:
        raise Invalid("limit is 1 to 500", field="limit")
    if offset < 0:
        raise Invalid("offset is not negative", field="offset")
    return list(session.scalars(select(Alert).where(*where)
                                .order_by(Alert.day.desc(), Alert.id.desc())
                                .limit(limit).offset(offset)))


def _choice(enum: type[AlertKind] | type[AlertStatus], value: str, field: str) -> str:
    allowed = [member.value for member in enum]
    if value not in allowed:
        raise Invalid(f"unknown {field} {value!r}: one of {', '.join(allowed)}", field=field)
    return value


def get_alert(session: Session, *, actor: Actor, alert_id: int) -> Alert:
    """One of the actor's alerts; another org's is as good as absent (404, not 403)."""
    actor.require("alert.read")
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, visible(actor)))
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert")
    return alert


def acknowledge(session: Session, *, actor: Actor, alert_id: int, note: str = "",
                now: datetime | None = None) -> Alert:
    """Record that the actor has seen the alert and taken it in hand: who, when and a note
    (masked: a note keeps no personal data). An alert is acknowledged once."""
    actor.require("alert.acknowledge")
    if len(note) > MAX_NOTE:
        raise Invalid(f"a note has at most {MAX_NOTE} characters", field="note")
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status == AlertStatus.acknowledged:
        raise Conflict(f"alert {alert_id} is acknowledged already", field="alert")
    alert.status = AlertStatus.acknowledged.value
    alert.acknowledged_by = actor.user_id
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_note = pii.mask_text(note.strip()) if note.strip() else None
    session.flush()
    log.info("alert %s acknowledged by user %s", alert_id, actor.user_id)
    return alert


def require_scan(actor: Actor) -> None:
    """Running the scan by hand is for the consumer-protection office and administrators."""
    actor.require("alert.scan")


def typical_cases(session: Session, alerts: Sequence[Alert]) -> dict[int, tuple[str, str]]:
    """Case id -> (reference, masked text) of the alerts' typical cases, in one query."""
    ids = sorted({c for alert in alerts for c in alert.case_ids})
    if not ids:
        return {}
    return {int(r.id): (r.reference, r.text_masked) for r in session.execute(
        select(Case.id, Case.reference, Case.text_masked).where(Case.id.in_(ids)))}


def to_read(alert: Alert, cases: dict[int, tuple[str, str]],
            usernames: dict[int, str] | None = None) -> dict[str, Any]:
    usernames = usernames or {}
    return {
        "id": alert.id, "kind": alert.kind, "dimension": alert.dimension, "key": alert.key,
        "org_id": alert.org_id, "day": alert.day, "observed": alert.observed,
        "expected": alert.expected, "ratio": alert.ratio, "p_value": alert.p_value,
        "score": alert.score, "label": alert.label, "words": alert.words,
        "typical_cases": [{"reference": cases[c][0], "text": cases[c][1][:300]}
                          for c in alert.case_ids if c in cases],
        "reasons": list(alert.detail.get("reasons", [])) or (
            [alert.detail["reason"]] if "reason" in alert.detail else []),
        "status": alert.status,
        "acknowledged_by": usernames.get(alert.acknowledged_by)
        if alert.acknowledged_by is not None else None,
        "acknowledged_at": alert.acknowledged_at, "acknowledged_note": alert.acknowledged_note,
        "created_at": alert.created_at,
    }


def usernames_of(session: Session, alerts: Sequence[Alert]) -> dict[int, str]:
    ids = {a.acknowledged_by for a in alerts if a.acknowledged_by is not None}
    if not ids:
        return {}
    return {int(r.id): r.username for r in session.execute(
        select(User.id, User.username).where(User.id.in_(ids)))}
