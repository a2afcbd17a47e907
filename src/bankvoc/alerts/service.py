"""Early warning: the daily scan, the alert list and its acknowledgement. Never commits.

`scan` looks at one local day of the bank (Asia/Shanghai by default) and raises four kinds of
alerts, each stored once (a unique `dedupe_key`, inserted ON CONFLICT DO NOTHING), so re-running
the scan for a day, or two scans at once, change nothing:

- hot_issue: the day's complaints (and complaint intents; merged duplicates left out) per
  category, per product, per org (an org counts its whole subtree) and per org × category,
  each against its own seasonal baseline over the trailing weeks (alerts/detection.py); with the
  spike's size, its significance and its typical cases (the most central texts, masked);
- emerging_topic: clusters of similar texts (nlp.topics) over the last week and the weeks
  before it, whose members are mostly recent, beyond what the recent share of all texts
  explains (a binomial test);
- mass_complaint: copies of one templated text (the same similar key) from several customers
  within a few days, and cases whose words say a group complains (集体, 多名客户, 维权 …);
- regulator_risk: open complaints whose explainable score (alerts/risk.py) reaches the alert
  level, once per case.

New alerts are told to the consumer-protection officers (cpo) of the head office and of the
nearest org above the alert's org that has one, through the notification outbox, once per alert
and person; staff without a work address are recorded on the alert as unreachable. Wording and
thresholds come from alerts/rules.yaml. Nothing personal is stored or sent: cases are named by
reference, texts are the masked ones, and a note is masked before it is kept.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats
from sqlalchemy import ColumnElement, Date, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from bankvoc.alerts import detection
from bankvoc.alerts.config import AlertRules, load_rules
from bankvoc.alerts.enums import AlertKind, AlertStatus
from bankvoc.alerts.models import Alert
from bankvoc.alerts.risk import CaseFacts, Risk, Scorer
from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import OPEN_STATUSES, SEVERITY_RANK, CaseKind, CaseStatus, Severity
from bankvoc.cases.models import Case
from bankvoc.core.db import insert_skipping_taken
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.nlp import pii
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.nlp.tokens import NgramTfidf
from bankvoc.nlp.topics import cluster_topics
from bankvoc.notify import service as notify
from bankvoc.notify.service import Outgoing, Recipient
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.sla import calendar

log = logging.getLogger(__name__)

METHOD = "seasonal_overdispersed_poisson@1"
TEMPLATE = "hot_issue_alert"
COUNTED_KINDS = (CaseKind.complaint.value, CaseKind.complaint_intent.value)
# Who may run the scan by hand; acknowledging needs `case.manage` (cpo, team leads, managers).
SCAN_ROLES = frozenset({Role.admin.value, Role.cpo.value})
MAX_NOTE = 2000
_TYPICAL_SCAN = 500  # cases of a day's series looked at to pick the typical ones
_SEVERITIES = frozenset(s.value for s in Severity)


@dataclass
class ScanReport:
    day: date
    series_tested: int = 0
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AlertKind, 0))
    stored: int = 0  # new alerts (a re-run stores none)
    notifications: int = 0
    unreachable: int = 0  # staff to tell without a work address on file
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "series_tested": self.series_tested,
                **{f"{kind}s": count for kind, count in self.found.items()},
                "stored": self.stored, "notifications": self.notifications,
                "unreachable": self.unreachable, "warnings": self.warnings}


# --- days and orgs -------------------------------------------------------------------------------

def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local day."""
    start = datetime.combine(day, time(), tzinfo=tz)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(),
                                                    tzinfo=tz).astimezone(UTC)


def default_day(now: datetime, tz: ZoneInfo) -> date:
    """The day a scan at `now` looks at: yesterday in the bank's zone (the last whole day)."""
    return ensure_aware(now).astimezone(tz).date() - timedelta(days=1)


def _local_day(session: Session, tz: ZoneInfo, at: datetime) -> ColumnElement[Any]:
    """The local day of `case.received_at`, computed by the database. PostgreSQL converts with
    the zone itself; SQLite knows no zones and adds the zone's offset at `at` (exact for a zone
    without daylight saving, such as Asia/Shanghai)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz.key, Case.received_at), Date)
    offset = int((tz.utcoffset(at.replace(tzinfo=None)) or timedelta()).total_seconds())
    return func.date(Case.received_at, f"{offset:+d} seconds")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class _OrgInfo:
    id: int
    code: str
    name: str
    parent_id: int | None
    chain: tuple[int, ...]  # root first, the org itself last


class _Orgs:
    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Org.id, Org.code, Org.name, Org.parent_id, Org.path)).all()
        self.by_id = {r.id: _OrgInfo(r.id, r.code, r.name, r.parent_id,
                                     tuple(int(p) for p in r.path.strip("/").split("/") if p))
                      for r in rows}
        self.root_ids = {r.id for r in rows if r.parent_id is None}

    def ancestors(self, org_id: int) -> tuple[int, ...]:
        """The org and the orgs above it, the root left out (the root is the whole bank)."""
        info = self.by_id.get(org_id)
        return tuple(o for o in info.chain if o not in self.root_ids) if info else ()

    def common(self, org_ids: Iterable[int]) -> int | None:
        """The lowest org holding all of them; None when only the whole bank does."""
        chains = [self.by_id[o].chain for o in set(org_ids) if o in self.by_id]
        if not chains:
            return None
        shared: int | None = None
        for level in zip(*chains, strict=False):
            if len(set(level)) != 1:
                break
            shared = level[0]
        return None if shared is None or shared in self.root_ids else shared

    def name(self, org_id: int | None) -> str:
        info = self.by_id.get(org_id) if org_id is not None else None
        return info.name if info else "全行"


def _key_label(dimension: str, key: str, orgs: _Orgs, org_id: int | None) -> str:
    taxonomy = load_taxonomy()
    if dimension in ("category", "org_category"):
        term = taxonomy.category(key)
    elif dimension == "product":
        term = taxonomy.product(key)
    else:
        term = None
    what = term.label("zh") if term else key
    if dimension == "org":
        return orgs.name(org_id)
    return f"{what} · {orgs.name(org_id)}" if org_id is not None else what


# --- typical cases -------------------------------------------------------------------------------

def pick_typical(texts: Sequence[str], severities: Sequence[str], count: int) -> list[int]:
    """Indexes of the `count` most typical texts: closest (cosine of character n-grams) to what
    the texts say together, the more severe first among near-equals."""
    if len(texts) <= count:
        return list(range(len(texts)))
    bonus = np.array([0.05 * SEVERITY_RANK.get(Severity(s), 0) if s in _SEVERITIES else 0.0
                      for s in severities])
    try:
        vectors = NgramTfidf(kind="char", ngram_range=(2, 3)).fit_transform(list(texts))
    except ValueError:  # no n-gram at all (empty texts)
        return list(range(count))
    centre = np.asarray(vectors.mean(axis=0)).ravel()
    closeness = np.asarray(vectors @ centre).ravel()
    order = np.lexsort((np.arange(len(texts)), -(closeness + bonus)))
    return [int(i) for i in order[:count]]


def _typical_of(session: Session, where: Sequence[ColumnElement[bool]], count: int) -> list[int]:
    rows = session.execute(
        select(Case.id, Case.text_masked, Case.severity).where(*where)
        .order_by(Case.received_at, Case.id).limit(_TYPICAL_SCAN)).all()
    chosen = pick_typical([r.text_masked for r in rows], [r.severity for r in rows], count)
    return [int(rows[i].id) for i in chosen]


def _counted(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [Case.received_at >= start, Case.received_at < end, Case.kind.in_(COUNTED_KINDS),
            Case.status != CaseStatus.merged.value]


# --- hot issues ----------------------------------------------------------------------------------

SeriesKey = tuple[str, str, int | None]  # dimension, key, org id (None: the whole bank)


def daily_series(session: Session, *, day: date, days: int, orgs: _Orgs, tz: ZoneInfo,
                 org_category: bool = True) -> dict[SeriesKey, np.ndarray]:
    """Daily counts of the `days` days ending with `day` (oldest first) per category, product,
    org (its subtree) and org × category, in one grouped query over `case.received_at`."""
    first = day - timedelta(days=days - 1)
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(day, tz)
    local = _local_day(session, tz, start).label("local_day")
    rows = session.execute(
        select(local, Case.org_id, Case.category, Case.product, func.count().label("n"))
        .where(*_counted(start, end))
        .group_by(local, Case.org_id, Case.category, Case.product)).all()
    series: dict[SeriesKey, np.ndarray] = defaultdict(lambda: np.zeros(days, dtype=np.int64))
    for row in rows:
        index = (_as_date(row.local_day) - first).days
        if not 0 <= index < days:
            continue
        n = int(row.n)
        if row.category:
            series[("category", row.category, None)][index] += n
        if row.product:
            series[("product", row.product, None)][index] += n
        for org_id in orgs.ancestors(row.org_id):
            series[("org", orgs.by_id[org_id].code, org_id)][index] += n
            if org_category and row.category:
                series[("org_category", row.category, org_id)][index] += n
    return dict(series)


def _series_filter(dimension: str, key: str, org_id: int | None,
                   orgs: _Orgs) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if dimension in ("category", "org_category"):
        where.append(Case.category == key)
    elif dimension == "product":
        where.append(Case.product == key)
    if org_id is not None:
        path = "/" + "/".join(str(o) for o in orgs.by_id[org_id].chain) + "/"
        where.append(Case.org_id.in_(select(Org.id).where(
            Org.path.startswith(path, autoescape=True))))
    return where


def _hot_issues(session: Session, day: date, rules: AlertRules, orgs: _Orgs, tz: ZoneInfo,
                report: ScanReport) -> list[dict[str, Any]]:
    spikes = rules.spikes
    days = spikes.history_days + 1
    first = day - timedelta(days=spikes.history_days)
    types = detection.day_types(first, days, calendar.is_working_day)
    for year in sorted({first.year, day.year}):
        report.warnings += calendar.calendar_warnings(year)
    rule = detection.SpikeRule(alpha=spikes.alpha, min_count=spikes.min_count,
                               min_excess=spikes.min_excess, min_ratio=spikes.min_ratio,
                               min_history_days=spikes.min_history_days)
    series = daily_series(session, day=day, days=days, orgs=orgs, tz=tz,
                          org_category=spikes.org_category)
    start, end = day_bounds(day, tz)
    rows = []
    for (dimension, key, org_id), counts in sorted(series.items(), key=lambda i: (
            i[0][0], i[0][1], i[0][2] or 0)):
        report.series_tested += 1
        verdict = detection.scan_series(counts.tolist(), types, rule)
        if not verdict.alarm:
            continue
        typical = _typical_of(session, [*_counted(start, end),
                                        *_series_filter(dimension, key, org_id, orgs)],
                              spikes.typical_cases)
        rows.append(_row(
            AlertKind.hot_issue, dimension, key, org_id, day, observed=verdict.observed,
            expected=verdict.expected, ratio=verdict.ratio, p_value=verdict.p_value,
            score=verdict.z, case_ids=typical,
            label=_key_label(dimension, key, orgs, org_id),
            detail={"method": METHOD, "rules": rules.version, "excess": round(verdict.excess, 2),
                    "dispersion": round(verdict.dispersion, 3), "reason": verdict.reason,
                    "history_days": spikes.history_days, "day_type": types[-1]}))
    return rows


# --- emerging topics -----------------------------------------------------------------------------

def _texts(session: Session, start: datetime, end: datetime, limit: int
           ) -> list[tuple[int, str, int, str]]:
    rows = session.execute(
        select(Case.id, Case.text_masked, Case.org_id, Case.severity).where(*_counted(start, end))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)).all()
    return [(int(r.id), r.text_masked, int(r.org_id), r.severity) for r in rows]


def _recent_alerts(session: Session, kind: AlertKind, day: date, days: int) -> list[Alert]:
    return list(session.scalars(select(Alert).where(
        Alert.kind == kind.value, Alert.day >= day - timedelta(days=days), Alert.day < day)))


def _emerging_topics(session: Session, day: date, rules: AlertRules, orgs: _Orgs,
                     tz: ZoneInfo, report: ScanReport) -> list[dict[str, Any]]:
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
    try:
        topics = cluster_topics([text for _, text, _, _ in texts], min_size=er.min_recent)
    except ValueError as exc:  # nlp.topics refuses some inputs (a group whose centre is zero)
        log.warning("emerging topics of %s not computed: %s", day, exc)
        report.warnings.append(f"emerging topics not computed: {exc}")
        return []
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
        rows.append(_row(
            AlertKind.emerging_topic, "topic", key, org_id, day, observed=len(members),
            expected=topic.size * base, ratio=share / base if base else None, p_value=p_value,
            score=share, case_ids=[recent[members[i]][0] for i in chosen],
            words=topic.label_words, label=" / ".join(top) or "topic",
            detail={"method": "topics+binomial@1", "rules": rules.version, "size": topic.size,
                    "recent_share_of_all": round(base, 4), "recent_days": er.recent_days,
                    "reference_days": er.reference_days}))
    return rows


# --- possible mass complaints --------------------------------------------------------------------

def _mass_complaints(session: Session, day: date, rules: AlertRules, orgs: _Orgs,
                     tz: ZoneInfo) -> list[dict[str, Any]]:
    mr = rules.mass_complaints
    start, _ = day_bounds(day - timedelta(days=mr.window_days - 1), tz)
    _, end = day_bounds(day, tz)
    cases = session.execute(
        select(Case.id, Case.similar_key, Case.org_id, Case.customer_id, Case.product,
               Case.text_masked, Case.severity)
        .where(*_counted(start, end)).order_by(Case.received_at, Case.id)).all()
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
        rows.append(_row(
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
        rows.append(_row(
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
        actor.require("case.read")
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


def _regulator_risk_alerts(session: Session, day: date, now: datetime, rules: AlertRules
                           ) -> list[dict[str, Any]]:
    rr = rules.regulator_risk
    rows = []
    for risky in regulator_risks(session, now=now, rules=rules, at_least=rr.alert_at):
        rows.append(_row(
            AlertKind.regulator_risk, "case", risky.reference, risky.org_id, day,
            observed=risky.risk.score, score=float(risky.risk.score), case_ids=[risky.case_id],
            label=f"{risky.reference} 监管投诉风险 {risky.risk.score}",
            detail={"method": "regulator_risk@1", "rules": rules.version,
                    "reasons": risky.risk.reasons, "parts": risky.risk.parts},
            dedupe_key=f"{AlertKind.regulator_risk.value}:case:{risky.case_id}"))
    return rows


# --- storing and telling -------------------------------------------------------------------------

def _row(kind: AlertKind, dimension: str, key: str, org_id: int | None, day: date, *,
         observed: int, label: str, detail: dict[str, Any], case_ids: list[int],
         expected: float | None = None, ratio: float | None = None,
         p_value: float | None = None, score: float | None = None,
         words: list[str] | None = None, dedupe_key: str | None = None) -> dict[str, Any]:
    if dedupe_key is None:
        dedupe_key = f"{kind.value}:{day.isoformat()}:{dimension}:{key}:{org_id or 'bank'}"
        if len(dedupe_key) > 200:  # a long key (topic words) is shortened to its digest
            dedupe_key = dedupe_key[:150] + ":" + hashlib.sha256(dedupe_key.encode()).hexdigest()
            dedupe_key = dedupe_key[:200]
    return {"kind": kind.value, "dimension": dimension, "key": key, "org_id": org_id,
            "day": day, "observed": int(observed), "expected": _finite(expected),
            "ratio": _finite(ratio), "p_value": _finite(p_value), "score": _finite(score),
            "case_ids": case_ids, "words": words or [], "label": label[:200], "detail": detail,
            "status": AlertStatus.open.value, "dedupe_key": dedupe_key}


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


@dataclass(frozen=True)
class _Person:
    id: int
    username: str
    org_id: int
    email: str | None
    mobile: str | None


def _officers(session: Session, orgs: _Orgs) -> dict[int, list[_Person]]:
    """The active consumer-protection officers by org."""
    found: dict[int, list[_Person]] = defaultdict(list)
    for user in session.scalars(select(User).where(User.active.is_(True))):
        if Role.cpo.value in (user.roles or []):
            found[user.org_id].append(_Person(user.id, user.username, user.org_id, user.email,
                                              user.mobile))
    return found


def _recipients(org_id: int | None, officers: dict[int, list[_Person]],
                orgs: _Orgs) -> list[_Person]:
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


def _plan_notifications(session: Session, rows: list[dict[str, Any]], orgs: _Orgs
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


def _store(session: Session, rows: list[dict[str, Any]], now: datetime) -> set[str]:
    """Insert the alerts whose dedupe key is new; returns those keys."""
    if not rows:
        return set()
    stored: set[str] = set()
    for chunk in range(0, len(rows), 200):
        batch = [{**row, "created_at": now} for row in rows[chunk:chunk + 200]]
        statement = (insert_skipping_taken(session, Alert, ["dedupe_key"]).values(batch)
                     .returning(Alert.dedupe_key))
        keys: list[str] = list(session.execute(statement).scalars())
        stored.update(keys)
    return stored


# --- the scan ------------------------------------------------------------------------------------

def scan(session: Session, *, day: date | None = None, now: datetime,
         rules: AlertRules | None = None) -> ScanReport:
    """Raise the day's alerts (see the module), store the new ones and queue their
    notifications. `day` is a local day of the bank, yesterday by default; a day that has not
    begun is refused."""
    rules = rules or load_rules()
    tz = get_settings().tz
    today = ensure_aware(now).astimezone(tz).date()
    day = day or default_day(now, tz)
    if day > today:
        raise Invalid(f"{day.isoformat()} has not begun yet (today is {today.isoformat()})",
                      field="day")
    report = ScanReport(day)
    orgs = _Orgs(session)
    rows = _hot_issues(session, day, rules, orgs, tz, report)
    rows += _emerging_topics(session, day, rules, orgs, tz, report)
    rows += _mass_complaints(session, day, rules, orgs, tz)
    rows += _regulator_risk_alerts(session, day, now, rules)
    for row in rows:
        report.found[AlertKind(row["kind"])] += 1
    existing = set(session.scalars(select(Alert.dedupe_key).where(
        Alert.dedupe_key.in_([row["dedupe_key"] for row in rows])))) if rows else set()
    fresh = [row for row in rows if row["dedupe_key"] not in existing]
    planned = _plan_notifications(session, fresh, orgs)
    stored = _store(session, fresh, now)
    report.stored = len(stored)
    outgoing = [item for key in sorted(stored) for item in planned.get(key, [])]
    notify.enqueue_many(session, outgoing, now=now)
    report.notifications = len(outgoing)
    report.unreachable = sum(len(row["detail"]["unreachable"]) for row in fresh
                             if row["dedupe_key"] in stored)
    log.info("alerts scan of %s: %d series, %d new alerts, %d notifications", day,
             report.series_tested, report.stored, report.notifications)
    return report


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
    actor.require("case.read")
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
    actor.require("case.read")
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, visible(actor)))
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert")
    return alert


def acknowledge(session: Session, *, actor: Actor, alert_id: int, note: str = "",
                now: datetime | None = None) -> Alert:
    """Record that the actor has seen the alert and taken it in hand: who, when and a note
    (masked: a note keeps no personal data). An alert is acknowledged once."""
    actor.require("case.manage")
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
    if not actor.roles & SCAN_ROLES:
        raise Forbidden(f"role(s) {', '.join(sorted(actor.roles))} may not run the alert scan")


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
