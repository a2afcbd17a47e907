"""What the templates show: service results turned into display strings in one language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from bankvoc.cases.enums import CLOSED_STATUSES
from bankvoc.cases.events import ChainCheck
from bankvoc.cases.schemas import CaseRead, CustomerMasked, EventRead
from bankvoc.cases.service import AWAITING_DECISION
from bankvoc.core.i18n import Lang
from bankvoc.core.timeutil import to_local
from bankvoc.nlp.taxonomy import Taxonomy, Term
from bankvoc.web.i18n import label, ui

SUMMARY_MAX = 160
ENUM_KEYS = frozenset({"kind", "channel", "status", "severity"})
# Countdown colours: green while more than half the period is left, amber under half, red
# under a fifth, dark red once overdue.
AMPLE_ABOVE = 0.5
URGENT_BELOW = 0.2
ANNOTATION_ORDER = ("product", "category", "severity", "handling_org", "org", "pii")


@dataclass(frozen=True)
class Labeller:
    """Labels and formats in one language and time zone."""

    lang: Lang
    tz: ZoneInfo
    taxonomy: Taxonomy

    def __call__(self, key: str, **params: object) -> str:
        return ui(key, self.lang, **params)

    def enum(self, namespace: str, code: str | None) -> str:
        return label(namespace, code, self.lang)

    def term(self, dimension: str, code: str | None) -> str:
        if not code:
            return ui("none", self.lang)
        found: Term | None = (self.taxonomy.product(code) if dimension == "product"
                              else self.taxonomy.category(code))
        return found.label(self.lang) if found else code

    def when(self, value: datetime | None) -> str:
        if value is None:
            return ui("none", self.lang)
        return to_local(value, self.tz).strftime("%Y-%m-%d %H:%M")

    def deadline(self, value: datetime | None) -> str:
        """A deadline at local midnight is the end of the day before (Civil Code art. 203)."""
        if value is None:
            return ui("none", self.lang)
        local = to_local(value, self.tz)
        if local.time() == time.min:
            return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
        return local.strftime("%Y-%m-%d %H:%M")

    def money(self, amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return ui("none", self.lang)
        if self.lang == "zh" and currency == "CNY":
            return f"{amount:,.2f} 元"
        return f"{currency} {amount:,.2f}"

    def customer(self, customer: CustomerMasked | None) -> str:
        shown = (customer.name, customer.phone, customer.id_number,
                 customer.email) if customer else ()
        parts = [p for p in shown if p]
        return " · ".join(parts) or ui("none", self.lang)


# --- the decision deadline ---------------------------------------------------------------------

@dataclass(frozen=True)
class Countdown:
    """How a case's decision deadline stands, in words and as a colour class.

    `level`: ok (green), warn (amber), danger (red), overdue (dark red), paused, or none (no
    clock runs: decided, closed, or a kind without one).
    """

    level: str
    text: str
    due: str

    @property
    def css(self) -> str:
        return f"due-{self.level}"


def _span(delta: timedelta, lab: Labeller) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return lab("span.days_hours", d=days, h=hours)
    if hours:
        return lab("span.hours", h=hours)
    return lab("span.minutes", m=max(1, minutes))


def countdown(*, status: str, due_at: datetime | None, received_at: datetime, paused: bool,
              now: datetime, lab: Labeller) -> Countdown:
    """The countdown to the decision deadline: the share of the period left picks the colour."""
    due = lab.deadline(due_at)
    if due_at is None or status not in AWAITING_DECISION:
        return Countdown("none", lab("none"), due)
    if paused:
        return Countdown("paused", lab("due.paused"), due)
    return running_countdown(due_at=due_at, started_at=received_at, now=now, lab=lab, due=due)


def running_countdown(*, due_at: datetime, started_at: datetime, now: datetime, lab: Labeller,
                      due: str) -> Countdown:
    """A running clock from `started_at` to `due_at` (`due` in words): the share of the period
    left picks the colour. The callback queue's clocks use it as the decision deadline does."""
    left = due_at - now
    if left <= timedelta(0):
        return Countdown("overdue", lab("due.overdue", span=_span(-left, lab)), due)
    period = due_at - started_at
    share = left / period if period > timedelta(0) else 0.0
    level = "ok" if share > AMPLE_ABOVE else "warn" if share > URGENT_BELOW else "danger"
    return Countdown(level, lab(f"due.{level}", span=_span(left, lab)), due)


@dataclass(frozen=True)
class Choice:
    value: str
    text: str


@dataclass(frozen=True)
class Problem:
    """What to fix, in words: the input (`field`, None for the whole form), its label, what to
    do, and the service's own words when they say more."""

    field: str | None
    label: str
    message: str
    detail: str = ""


def decision_text(case: CaseRead, lab: Labeller) -> str:
    """The case's decision and its amount, if any."""
    if not case.decision_type:
        return lab("none")
    words = lab.enum("decision", case.decision_type)
    if case.decision_amount is not None:
        words += f" · {lab.money(case.decision_amount, case.currency)}"
    return words


@dataclass(frozen=True)
class CaseRow:
    reference: str
    received_at: str
    kind: str
    channel: str
    org: str
    product: str
    category: str
    severity: str
    severity_label: str
    status: str
    status_label: str
    title: str
    customer: str
    version: int
    assignee: str
    handling_org: str
    origin_label: str
    origin_reference: str
    countdown: Countdown
    is_open: bool


def case_row(case: CaseRead, lab: Labeller, now: datetime) -> CaseRow:
    handling = case.handling_org or case.org
    return CaseRow(
        reference=case.reference, received_at=lab.when(case.received_at),
        kind=lab.enum("kind", case.kind), channel=lab.enum("channel", case.channel),
        org=case.org.name, product=lab.term("product", case.product),
        category=lab.term("category", case.category), severity=case.severity.value,
        severity_label=lab.enum("severity", case.severity), status=case.status.value,
        status_label=lab.enum("status", case.status), title=case.title,
        customer=lab.customer(case.customer), version=case.version,
        assignee=case.assignee or lab("unassigned"), handling_org=handling.name,
        origin_label=lab.enum("origin", case.origin),
        origin_reference=case.origin_reference or lab("none"),
        countdown=countdown(status=case.status, due_at=case.due_at,
                            received_at=case.received_at, paused=case.paused, now=now,
                            lab=lab),
        is_open=case.status not in CLOSED_STATUSES,
    )


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


def case_facts(case: CaseRead, lab: Labeller) -> list[Fact]:
    rows = [
        ("kind", lab.enum("kind", case.kind)),
        ("channel", lab.enum("channel", case.channel)),
        ("org", f"{case.org.name}（{case.org.code}）" if lab.lang == "zh"
         else f"{case.org.name} ({case.org.code})"),
        ("product", lab.term("product", case.product)),
        ("category", lab.term("category", case.category)),
        ("received_at", lab.when(case.received_at)),
        ("due_at", lab.deadline(case.due_at)),
        ("closed_at", lab.when(case.closed_at)),
        ("amount", lab.money(case.amount, case.currency)),
        ("customer", lab.customer(case.customer)),
        ("merged_count", str(case.merged_count)),
    ]
    return [Fact(lab(f"field.{key}"), value) for key, value in rows]


@dataclass(frozen=True)
class Decision:
    field: str
    value: str
    confidence: str
    reason: str
    source: str


def _decision_value(name: str, value: Any, lab: Labeller, org_names: dict[int | str, str]) -> str:
    if name in ("product", "category"):
        return lab.term(name, str(value) if value else None)
    if name in ENUM_KEYS:
        return lab.enum(name, str(value) if value else None)
    if name in ("org", "handling_org") and isinstance(value, int | str):
        return org_names.get(value, str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or lab("none")
    return lab("none") if value is None else str(value)


def _confidence(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "—"


def decisions(annotations: dict[str, Any], lab: Labeller,
              org_names: dict[int | str, str]) -> list[Decision]:
    """Each automatic decision with its value, confidence, reason and source stage."""
    order = {name: i for i, name in enumerate(ANNOTATION_ORDER)}
    rows = []
    for name in sorted(annotations, key=lambda n: (order.get(n, len(order)), n)):
        item = annotations[name] if isinstance(annotations[name], dict) else {}
        rows.append(Decision(
            field=lab(f"field.{name}"),
            value=_decision_value(name, item.get("value"), lab, org_names),
            confidence=_confidence(item.get("confidence")),
            reason=str(item.get("reason") or lab("none")),
            source=str(item.get("source") or lab("none")),
        ))
    return rows


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: str
    type: str
    actor: str
    summary: str
    code: str = ""


# Event data keys whose label or values depend on the event: (event type, key) -> label key
# under `ui.field.*`, and -> the namespace of its coded values.
EVENT_FIELD_LABELS = {
    ("note", "kind"): "note_kind", ("note", "text"): "note_text",
    ("pause", "reason"): "pause_reason", ("pause", "note"): "note_text",
    ("corrected", "from"): "old_value", ("corrected", "to"): "new_value",
    ("corrected", "field"): "corrected_field",
    ("propose", "amount"): "decision_amount", ("approve", "amount"): "decision_amount",
    ("sla_warning", "to"): "alarm_to", ("sla_escalation", "to"): "alarm_to",
}
EVENT_VALUE_NAMESPACES = {
    ("note", "kind"): "note_kind", ("pause", "reason"): "pause_reason",
    ("sla_warning", "to"): "chain", ("sla_escalation", "to"): "chain",
    ("sla_warning", "clock"): "sla_clock", ("sla_escalation", "clock"): "sla_clock",
}
VALUE_NAMESPACES = {"decision": "decision", "told_via": "via", "via": "via", "how": "how",
                    "from": "status", "to": "status", "origin": "origin"}
MONEY_KEYS = frozenset({"amount", "authority"})


def _summary_value(key: str, value: Any, lab: Labeller, event: str = "",
                   data: dict[str, Any] | None = None) -> str:
    namespace = EVENT_VALUE_NAMESPACES.get((event, key))
    if namespace and isinstance(value, str):
        return lab(f"{namespace}.{value}")
    if event == "corrected" and key in ("from", "to") and data:
        field = str(data.get("field") or "")
        return lab.term(field, str(value)) if field in ("product", "category") else str(value)
    if event == "corrected" and key == "field" and isinstance(value, str):
        return lab(f"field.{value}")
    if key == "superseded" and isinstance(value, list):
        return str(len(value))
    if isinstance(value, bool):
        return lab("yes") if value else lab("no")
    if key in VALUE_NAMESPACES and isinstance(value, str):
        namespace = VALUE_NAMESPACES[key]
        return lab.enum(namespace, value) if namespace in ("decision", "status", "origin") \
            else lab(f"{namespace}.{value}")
    if key in ENUM_KEYS and isinstance(value, str):
        return lab.enum(key, value)
    if key in MONEY_KEYS and isinstance(value, str | int | float):
        try:
            return lab.money(Decimal(str(value)), "CNY")
        except InvalidOperation:
            return str(value)
    if key.endswith("_at") and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return lab.deadline(moment) if key == "due_at" else lab.when(moment)
    if isinstance(value, dict):
        return lab("case.items", n=len(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _field_label(event: str, key: str, lab: Labeller) -> str:
    return lab(f"field.{EVENT_FIELD_LABELS.get((event, key), key)}")


def summarise(data: dict[str, Any], lab: Labeller, event: str = "") -> str:
    """One line for an event's data: `label: value` pairs, long values cut short."""
    parts = [f"{_field_label(event, key, lab)}{lab('colon')}"
             f"{_summary_value(key, value, lab, event, data)}"
             for key, value in data.items() if value not in (None, "", [], {})]
    line = "；".join(parts) if lab.lang == "zh" else "; ".join(parts)
    return line if len(line) <= SUMMARY_MAX else line[:SUMMARY_MAX - 1] + "…"


def timeline_entry(event: EventRead, lab: Labeller) -> TimelineEntry:
    return TimelineEntry(seq=event.seq, at=lab.when(event.at), type=lab(f"event.{event.type}"),
                         actor=event.actor or lab("system"),
                         summary=summarise(event.data, lab, event.type), code=event.type)


@dataclass(frozen=True)
class ChainView:
    ok: bool
    text: str


def chain_view(check: ChainCheck, lab: Labeller) -> ChainView:
    if check.ok:
        return ChainView(True, lab("chain.ok", n=check.events))
    return ChainView(False, lab("chain.broken", seq=check.broken_at_seq, reason=check.reason))

