"""The findings beside the hot issues: emerging topics, possible mass complaints and the
open complaints most likely to reach the regulator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scipy import stats
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bankvoc.alerts.config import AlertRules, load_rules
from bankvoc.alerts.enums import AlertKind
from bankvoc.alerts.models import Alert
from bankvoc.alerts.risk import CaseFacts, Risk, Scorer
from bankvoc.alerts.service.common import (
    COUNTED_KINDS,
    Orgs,
    alert_row,
    counted,
    day_bounds,
    pick_typical,
)
from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import OPEN_STATUSES
from bankvoc.cases.models import Case
from bankvoc.core.timeutil import ensure_aware
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.nlp.topics import cluster_topics
from bankvoc.orgs.service import Actor

# --- emerging topics -----------------------------------------------------------------------------

def _texts(session: Session, start: datetime, end: datetime, limit: int
           ) -> list[tuple[int, str, int, str]]:
    rows = session.execute(
        select(Case.id, Case.text_masked, Case.org_id, Case.severity).where(*counted(start, end))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)).all()
    return [(int(r.id), r.text_masked, int(r.org_id), r.severity) for r in rows]


def _recent_alerts(session: Session, kind: AlertKind, day: date, days: int) -> list[Alert]:
    return list(session.scalars(select(Alert).where(
        Alert.kind == kind.value, Alert.day >= day - timedelta(days=days), Alert.day < day)))


def emerging_topics(session: Session, day: date, rules: AlertRules, orgs: Orgs,
                     tz: ZoneInfo) -> list[dict[str, Any]]:
    er = rules.emerging_topics
    recent_first = day - timedelta(days=er.recent_days - 1)
    recent_start, _ = day_bounds(recent_first, tz)
    _, end = day_bounds(day, tz)
    reference_start, _ = day_bounds(recent_first - timedelta(days=er.reference_days), tz)
    recent = _texts(session, recent_start, end, er.max_texts)
    older = _texts(session, reference_start, recent_start, er.max_texts)
    if len(recent) < er.min_recent:
        return []
    texts = recent + older
    base = len(recent) / len(texts)
    earlier = [set(a.words[:3]) for a in _recent_alerts(session, AlertKind.emerging_topic, day,
                                                         er.suppress_days)]
    topics = cluster_topics([text for _, text, _, _ in texts], min_size=er.min_recent)
    rows = []
    for topic in topics:
        members = [i for i in topic.members if i < len(recent)]
        share = len(members) / topic.size
        p_value = float(stats.binom.sf(len(members) - 1, topic.size, base))
        if len(members) < er.min_recent or share < er.min_recent_share or p_value > er.alpha:
            continue
        top = topic.label_words[:3]
        if any(len(seen & set(top)) >= min(2, len(top)) for seen in earlier):
            continue
        chosen = pick_typical([recent[i][1] for i in members], [recent[i][3] for i in members],
                              rules.spikes.typical_cases)
        key = "+".join(top)[:120] or "topic"
        org_id = orgs.common(recent[i][2] for i in members)
        rows.append(alert_row(
            AlertKind.emerging_topic, "topic", key, org_id, day, observed=len(members),
            expected=topic.size * base, ratio=share / base if base else None, p_value=p_value,
            score=share, case_ids=[recent[members[i]][0] for i in chosen],
            words=topic.label_words, label=" / ".join(top) or "topic",
            detail={"method": "topics+binomial@1", "rules": rules.version, "size": topic.size,
                    "recent_share_of_all": round(base, 4), "recent_days": er.recent_days,
                    "reference_days": er.reference_days}))
    return rows


# --- possible mass complaints --------------------------------------------------------------------

def mass_complaints(session: Session, day: date, rules: AlertRules, orgs: Orgs,
                     tz: ZoneInfo) -> list[dict[str, Any]]:
    mr = rules.mass_complaints
    start, _ = day_bounds(day - timedelta(days=mr.window_days - 1), tz)
    _, end = day_bounds(day, tz)
    cases = session.execute(
        select(Case.id, Case.similar_key, Case.org_id, Case.customer_id, Case.product,
               Case.text_masked, Case.severity)
        .where(*counted(start, end)).order_by(Case.received_at, Case.id)).all()
    earlier = _recent_alerts(session, AlertKind.mass_complaint, day, mr.window_days)
    told_keys = {a.key for a in earlier if a.dimension == "similar_key"}
    told_cases = {c for a in earlier if a.dimension == "wording" for c in a.case_ids}
    rows = []
    by_key: dict[str, list[Any]] = defaultdict(list)
    for case in cases:
        if case.similar_key:
            by_key[case.similar_key].append(case)
    for similar_key, group in sorted(by_key.items()):
        customers = {c.customer_id if c.customer_id is not None else -c.id for c in group}
        if len(customers) < mr.min_similar or similar_key in told_keys:
            continue
        org_id = orgs.common(c.org_id for c in group)
        chosen = pick_typical([c.text_masked for c in group], [c.severity for c in group],
                              rules.spikes.typical_cases)
        rows.append(alert_row(
            AlertKind.mass_complaint, "similar_key", similar_key[:120], org_id, day,
            observed=len(group), case_ids=[int(group[i].id) for i in chosen],
            label=f"同一模板文本{len(group)}件（{len(customers)}名客户） · {orgs.name(org_id)}",
            detail={"method": "similar_key@1", "rules": rules.version,
                    "customers": len(customers), "window_days": mr.window_days}))
    pattern = mr.wording().pattern()
    grouped: dict[tuple[int, str], list[tuple[int, list[str]]]] = defaultdict(list)
    for case in cases if pattern is not None else ():
        assert pattern is not None
        if case.id in told_cases:
            continue
        words = sorted({m.group(0) for m in pattern.finditer(case.text_masked)})
        if words:
            grouped[(int(case.org_id), case.product or "unknown")].append((int(case.id), words))
    for (org_id, product), found in sorted(grouped.items()):
        term = load_taxonomy().product(product)
        rows.append(alert_row(
            AlertKind.mass_complaint, "wording", product, org_id, day, observed=len(found),
            case_ids=[case_id for case_id, _ in found],
            words=sorted({w for _, ws in found for w in ws}),
            label=f"群体投诉措辞 · {term.label('zh') if term else product} · "
                  f"{orgs.name(org_id)}",
            detail={"method": "group_wording@1", "rules": rules.version,
                    "window_days": mr.window_days}))
    return rows


# --- regulator risk ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskyCase:
    case_id: int
    reference: str
    org_id: int
    status: str
    severity: str
    due_at: datetime | None
    risk: Risk


def regulator_risks(session: Session, *, now: datetime, rules: AlertRules | None = None,
                    actor: Actor | None = None, at_least: int = 1,
                    limit: int | None = None) -> list[RiskyCase]:
    """Open complaints by regulator-risk score, highest first, each with its reasons; only the
    actor's cases when an actor is given."""
    rules = rules or load_rules()
    rr = rules.regulator_risk
    where: list[ColumnElement[bool]] = [
        Case.status.in_([s.value for s in OPEN_STATUSES]), Case.kind.in_(COUNTED_KINDS)]
    if actor is not None:
        actor.require("alert.read")
        where.append(cases_service.visible(actor))
    cases = session.execute(
        select(Case.id, Case.reference, Case.org_id, Case.status, Case.text_masked,
               Case.severity, Case.origin, Case.reopen_count, Case.escalation_level,
               Case.sentiment, Case.due_at, Case.customer_id, Case.received_at)
        .where(*where)).all()
    earlier = _earlier_complaints(session, cases, timedelta(days=rr.repeat_within_days))
    scorer = Scorer(rr)
    found = []
    for case in cases:
        facts = CaseFacts(text=case.text_masked, severity=case.severity, origin=case.origin,
                          reopen_count=case.reopen_count,
                          escalation_level=case.escalation_level, sentiment=case.sentiment,
                          due_at=ensure_aware(case.due_at) if case.due_at else None,
                          earlier_complaints=earlier.get(case.id, 0))
        risk = scorer.score(facts, now=now)
        if risk.score >= at_least:
            found.append(RiskyCase(case.id, case.reference, case.org_id, case.status,
                                   case.severity, facts.due_at, risk))
    found.sort(key=lambda r: (-r.risk.score, r.case_id))
    return found[:limit] if limit is not None else found


def _earlier_complaints(session: Session, cases: Sequence[Any], window: timedelta
                        ) -> dict[int, int]:
    """Per case: the same customer's complaints received in `window` before it."""
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for case in cases:
        if case.customer_id is not None:
            by_customer[case.customer_id].append(case)
    if not by_customer:
        return {}
    since = min(ensure_aware(c.received_at) for c in cases if c.customer_id is not None) - window
    history: dict[int, list[datetime]] = defaultdict(list)
    customer_ids = list(by_customer)
    for chunk in range(0, len(customer_ids), 500):
        for customer_id, received in session.execute(
                select(Case.customer_id, Case.received_at).where(
                    Case.customer_id.in_(customer_ids[chunk:chunk + 500]),
                    Case.kind.in_(COUNTED_KINDS), Case.received_at >= since)):
            if customer_id is not None:
                history[int(customer_id)].append(ensure_aware(received))
    counts = {}
    for customer_id, own in by_customer.items():
        times = history[customer_id]
        for case in own:
            at = ensure_aware(case.received_at)
            counts[case.id] = sum(1 for r in times if at - window <= r < at)
    return counts


def regulator_risk_alerts(session: Session, day: date, now: datetime, rules: AlertRules
                           ) -> list[dict[str, Any]]:
    rr = rules.regulator_risk
    rows = []
    for risky in regulator_risks(session, now=now, rules=rules, at_least=rr.alert_at):
        rows.append(alert_row(
            AlertKind.regulator_risk, "case", risky.reference, risky.org_id, day,
            observed=risky.risk.score, score=float(risky.risk.score), case_ids=[risky.case_id],
            label=f"{risky.reference} 监管投诉风险 {risky.risk.score}",
            detail={"method": "regulator_risk@1", "rules": rules.version,
                    "reasons": risky.risk.reasons, "parts": risky.risk.parts},
            dedupe_key=f"{AlertKind.regulator_risk.value}:case:{risky.case_id}"))
    return rows
