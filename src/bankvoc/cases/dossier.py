"""A closed case's dossier (投诉处理档案): what a regulator asks back about a complaint.

The sections follow what a PBoC branch asks to be reported back (PBoC 2020 No. 5 art. 44):
basic facts, the dispute focus, findings and evidence, the basis of the decision, the
communication with the complainant, extensions, and the complainant's satisfaction; then the
decision itself and the whole hash-chained timeline with the result of verifying it.

Everything is read from the record: the case row, its timeline (notes, proposals, approvals,
what the customer was told and answered, extensions and pauses), the evidence with its SHA-256
(each stored file checked against it), co-handlers and co-complainants, the statutory clocks
recomputed by the SLA engine, the outbox messages to the customer, and callbacks and surveys.

Personal data is masked (the customer's identity, and free text run through the PII masker)
unless the caller asks to reveal it; revealing needs the `pii.read` permission and is itself
recorded on the case's timeline (`pii_revealed`), like any other look at personal data.
Only a closed or archived case exports: an open one is still changing (409 naming its status).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bankvoc.cases import attachments as attachments_service
from bankvoc.cases import retention
from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.events import append_event, check_chain
from bankvoc.cases.models import Attachment, Case, CaseEvent
from bankvoc.cases.workflow import clock
from bankvoc.cases.workflow.models import CaseComplainant, CaseParty
from bankvoc.core.db import is_write_conflict
from bankvoc.core.errors import BankvocError, Conflict
from bankvoc.core.i18n import register
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.customers import service as customer_service
from bankvoc.customers.disclosure import DIRECT, Via
from bankvoc.customers.models import Customer
from bankvoc.nlp import pii
from bankvoc.notify import service as notify_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.sla.policy import load_policy
from bankvoc.surveys import service as surveys_service

EXPORTABLE = frozenset({CaseStatus.closed, CaseStatus.archived})
EVENT_REVEALED = "pii_revealed"
# What a revealed dossier shows besides identities: the case's own text, and the timeline's
# free text unmasked.
REVEALED_TEXT = ("case_text", "timeline_text")
# Free text people wrote into the timeline; masked (PII) unless the dossier is revealed.
FREE_TEXT_KEYS = frozenset({"text", "summary", "comment", "reason", "basis", "note"})
FINDING_KINDS = ("investigation", "finding", "evidence")


class DossierUnavailable(Conflict):
    code = "dossier_unavailable"


# --- the dossier ----------------------------------------------------------------------------------

class OrgRef(BaseModel):
    code: str
    name: str
    name_en: str | None = None


PersonRole = Literal["complainant", "representative", "co_complainant"]


class Person(BaseModel):
    """A complainant; masked unless the dossier was revealed."""

    name: str | None
    phone: str | None
    id_number: str | None
    email: str | None = Field(description="E-mail address (a customer may be known only by "
                                           "it)")
    role: PersonRole


class CoHandler(BaseModel):
    org: OrgRef
    user: str | None
    due_at: dt.datetime | None
    done_at: dt.datetime | None


class BasicFacts(BaseModel):
    reference: str
    kind: str
    channel: str
    origin: str = Field(description="direct, or the regulator that transferred it")
    origin_reference: str | None
    status: str
    severity: str
    product: str | None
    category: str | None
    title: str
    text: str = Field(description="The complaint in the customer's words (masked unless "
                                  "revealed)")
    language: str
    amount_claimed: Decimal | None
    currency: str
    org: OrgRef
    handling_org: OrgRef | None
    subject_user: str | None = Field(description="Employee complained about (回避)")
    subject_org: OrgRef | None = Field(description="Outlet complained about (回避)")
    first_responder: str | None = Field(description="首问负责: accountable throughout")
    assignee: str | None
    complainants: list[Person]
    co_handlers: list[CoHandler]
    received_at: dt.datetime
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    transfer_count: int
    escalation_level: int
    reopen_count: int
    merged_count: int


class Note(BaseModel):
    """One entry of the timeline written by a handler (a note, a basis)."""

    seq: int
    at: dt.datetime
    actor: str | None
    kind: str
    text: str


class Evidence(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str | None
    file_check: Literal["ok", "missing", "altered"] = Field(
        description="The stored file against its SHA-256 at export time")


class Findings(BaseModel):
    notes: list[Note]
    evidence: list[Evidence]


class Proposal(BaseModel):
    seq: int
    at: dt.datetime
    actor: str | None
    decision: str
    amount: Decimal | None
    basis: str | None
    reason: str | None
    needs_approval: bool


class Approval(BaseModel):
    seq: int
    at: dt.datetime
    actor: str | None
    amount: Decimal | None
    comment: str | None


class Decision(BaseModel):
    type: str | None = Field(description="explanation, correction, refund, compensation or "
                                         "refused")
    amount: Decimal | None
    currency: str
    needs_approval: bool
    approved_by: str | None
    approvals: list[Approval]
    proposals: list[Proposal]
    told_via: str | None
    told_at: dt.datetime | None
    summary: str | None


class Contact(BaseModel):
    """A communication with the customer on the timeline."""

    seq: int
    at: dt.datetime
    actor: str | None
    kind: Literal["not_accepted", "decision", "message", "answer", "withdrawal"]
    via: str | None
    text: str | None
    satisfied: bool | None = None


class Message(BaseModel):
    """A notification sent (or queued) to the customer through the outbox."""

    template: str
    channel: str
    recipient: str = Field(description="Masked address")
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class Communication(BaseModel):
    contacts: list[Contact]
    messages: list[Message]


class ExtensionEntry(BaseModel):
    seq: int
    at: dt.datetime
    actor: str | None
    days: int
    total_days: int | None
    reason: str | None
    approved_by: str | None
    approver_title: str | None
    due_at: dt.datetime | None


class PauseEntry(BaseModel):
    reason: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    days: int
    note: str | None = None


class ClockEntry(BaseModel):
    name: str
    label_zh: str
    label_en: str
    state: str
    days: int | None
    max_days: int | None
    last_day: dt.date | None
    due_at: dt.datetime | None
    ended_at: dt.datetime | None
    overdue: bool


class Extensions(BaseModel):
    due_at: dt.datetime | None = Field(description="The decision deadline as last set")
    extensions: list[ExtensionEntry]
    pauses: list[PauseEntry]
    clocks: list[ClockEntry] = Field(description="The statutory clocks, recomputed")
    policy_version: str | None
    problem: str | None = Field(default=None, description="Why the clocks could not be "
                                                           "recomputed (e.g. a revised policy)")


class CallbackEntry(BaseModel):
    round: int
    status: str
    reason: str
    due_at: dt.datetime | None
    csat: int | None
    nps: int | None
    solved: bool | None
    comment: str | None
    completed_at: dt.datetime | None


class SurveyEntry(BaseModel):
    touchpoint: str
    channel: str
    csat: int | None
    nps: int | None
    solved: bool | None
    comment: str | None
    answered_at: dt.datetime


class Satisfaction(BaseModel):
    answers: list[Contact] = Field(description="The customer's answers to the decision")
    callbacks: list[CallbackEntry]
    surveys: list[SurveyEntry]


class TimelineEvent(BaseModel):
    seq: int
    type: str
    at: dt.datetime
    actor: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class ChainCheckResult(BaseModel):
    ok: bool
    events: int
    broken_at_seq: int | None
    reason: str | None


class DossierInfo(BaseModel):
    reference: str
    generated_at: dt.datetime
    generated_by: str
    masked: bool = Field(description="False: personal data revealed (recorded on the case)")
    timezone: str
    retention_years: int
    keep_until: dt.date | None = Field(description="Kept at least through this local day")
    legal_hold: bool


class Dossier(BaseModel):
    """投诉处理档案: a closed case as a regulator asks it back (PBoC 2020 No. 5 art. 44)."""

    info: DossierInfo
    basic_facts: BasicFacts
    dispute_focus: list[Note]
    findings: Findings
    basis: list[Note]
    decision: Decision
    communication: Communication
    extensions: Extensions
    satisfaction: Satisfaction
    timeline: list[TimelineEvent]
    chain: ChainCheckResult


# --- gathering it ---------------------------------------------------------------------------------

def check_exportable(case: Case) -> None:
    """Refuse a case that is not closed or archived (409 naming its status)."""
    if case.status not in EXPORTABLE:
        raise DossierUnavailable(
            f"case {case.reference} is {case.status}: only a closed or archived case exports "
            "as a dossier", field="status")
    if retention.is_anonymised(case):
        raise DossierUnavailable(
            f"case {case.reference} was anonymised when its retention period ended: its "
            "dossier is no longer available", field="status", code="anonymised")


def build_dossier(session: Session, *, actor: Actor, case: Case, reveal: bool = False,
                  now: dt.datetime | None = None, output: str = "json",
                  via: Via = DIRECT) -> Dossier:
    """The dossier of a closed or archived case the actor may see (the caller found it through
    `cases.service.get_case`). `reveal` shows personal data: it needs `pii.read` and is recorded
    on the case's timeline, with the `output` it was revealed for, and as one disclosure of
    the complainants' identities and the case's text through the route `via`."""
    actor.require("case.read")
    check_exportable(case)
    if reveal:
        actor.require("pii.read")
    now = ensure_aware(now or utcnow())
    if reveal:
        _record_reveal(session, actor=actor, case=case, output=output, now=now)
    gather = _Gatherer(session, actor, case, reveal)
    if reveal:
        gather.identities = customer_service.reveal_many(
            session, gather.complainants(), actor=actor, via=via, subject="dossier",
            case_reference=case.reference, fields=REVEALED_TEXT, detail=f"output {output}")
    settings = get_settings()
    return Dossier(
        info=DossierInfo(
            reference=case.reference, generated_at=now, generated_by=actor.username,
            masked=not reveal, timezone=settings.timezone,
            retention_years=settings.retention_years,
            keep_until=retention.keep_until(case.closed_at) if case.closed_at else None,
            legal_hold=case.legal_hold),
        basic_facts=gather.basic_facts(),
        dispute_focus=gather.notes("dispute_focus"),
        findings=Findings(notes=gather.notes(*FINDING_KINDS), evidence=gather.evidence()),
        basis=gather.notes("basis"),
        decision=gather.decision(),
        communication=gather.communication(),
        extensions=gather.extensions(now),
        satisfaction=gather.satisfaction(),
        timeline=gather.timeline(),
        chain=gather.chain(),
    )


def _record_reveal(session: Session, *, actor: Actor, case: Case, output: str,
                   now: dt.datetime) -> None:
    """Personal data shown is an event on the case: who, when, for what."""
    reference = case.reference
    try:
        # Serialise with other writers of the case's timeline (PostgreSQL; SQLite's single
        # writer does so already).
        session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
        append_event(session, case=case, type=EVENT_REVEALED, actor_user_id=actor.user_id,
                     data={"what": "dossier", "output": output}, at=now)
    except (IntegrityError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_write_conflict(exc):
            raise
        raise Conflict(f"case {reference} was changed while its dossier was exported: try "
                       "again", field="reference", code="stale_version") from None


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return ensure_aware(moment) if moment is not None else None


def _decimal(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return ensure_aware(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _org(org: Org | None) -> OrgRef | None:
    return OrgRef(code=org.code, name=org.name, name_en=org.name_en) if org else None


class _Gatherer:
    """Reads the case's record once and hands out the dossier's sections."""

    def __init__(self, session: Session, actor: Actor, case: Case, reveal: bool) -> None:
        self.session, self.actor, self.case, self.reveal = session, actor, case, reveal
        # The complainants' decrypted identities by customer id (a revealed dossier).
        self.identities: dict[int, dict[str, str | None]] = {}
        rows = session.execute(
            select(CaseEvent, User.username).outerjoin(User, User.id == CaseEvent.actor_user_id)
            .where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).all()
        self.events: list[tuple[CaseEvent, str | None]] = [(e, name) for e, name in rows]

    # -- helpers

    def _text(self, value: Any) -> str | None:
        """Free text as this dossier shows it: masked unless revealed."""
        if value is None:
            return None
        text = str(value)
        return text if self.reveal else pii.mask_text(text)

    def _data(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.reveal:
            return dict(data)
        return {key: self._text(value) if key in FREE_TEXT_KEYS and isinstance(value, str)
                else value for key, value in data.items()}

    def _of(self, *types: str) -> list[tuple[CaseEvent, str | None]]:
        return [(e, name) for e, name in self.events if e.type in types]

    def _username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        user = self.session.get(User, user_id)
        return user.username if user else None

    def complainants(self) -> list[Customer]:
        """The case's customer and its co-complainants, in the dossier's order."""
        found = [self.case.customer] if self.case.customer else []
        return found + [customer for _member, customer in self._co_complainants]

    @cached_property
    def _co_complainants(self) -> list[tuple[CaseComplainant, Customer]]:
        return [(member, customer) for member, customer in self.session.execute(
            select(CaseComplainant, Customer)
            .join(Customer, Customer.id == CaseComplainant.customer_id)
            .where(CaseComplainant.case_id == self.case.id).order_by(CaseComplainant.id))]

    def _person(self, customer: Customer, role: PersonRole) -> Person:
        if self.reveal:
            shown = self.identities[customer.id]
            return Person(name=shown["name"], phone=shown["phone"],
                          id_number=shown["id_number"], email=shown["email"], role=role)
        return Person(name=customer.name_masked, phone=customer.phone_masked,
                      id_number=customer.id_number_masked, email=customer.email_masked,
                      role=role)

    # -- sections

    def basic_facts(self) -> BasicFacts:
        case = self.case
        complainants = [self._person(case.customer, "complainant")] if case.customer else []
        for member, customer in self._co_complainants:
            complainants.append(self._person(
                customer, "representative" if member.representative else "co_complainant"))
        co_handlers = []
        for party, party_org, username in self.session.execute(
                select(CaseParty, Org, User.username).join(Org, Org.id == CaseParty.org_id)
                .outerjoin(User, User.id == CaseParty.user_id)
                .where(CaseParty.case_id == case.id).order_by(CaseParty.id)):
            ref = _org(party_org)
            assert ref is not None
            co_handlers.append(CoHandler(org=ref, user=username, due_at=_aware(party.due_at),
                                         done_at=_aware(party.done_at)))
        text = case.text_masked
        if self.reveal and case.text_enc:
            text = customer_service.current_keyring().decrypt(case.text_enc, field="case_text")
        org = _org(case.org)
        assert org is not None
        return BasicFacts(
            reference=case.reference, kind=case.kind, channel=case.channel, origin=case.origin,
            origin_reference=case.origin_reference, status=case.status, severity=case.severity,
            product=case.product, category=case.category, title=case.title, text=text,
            language=case.language, amount_claimed=case.amount, currency=case.currency,
            org=org, handling_org=_org(case.handling_org),
            subject_user=self._username(case.subject_user_id),
            subject_org=_org(self.session.get(Org, case.subject_org_id)
                             if case.subject_org_id else None),
            first_responder=case.first_responder.username if case.first_responder else None,
            assignee=case.assignee.username if case.assignee else None,
            complainants=complainants, co_handlers=co_handlers,
            received_at=ensure_aware(case.received_at), accepted_at=_aware(case.accepted_at),
            resolved_at=_aware(case.resolved_at), closed_at=_aware(case.closed_at),
            transfer_count=case.transfer_count, escalation_level=case.escalation_level,
            reopen_count=case.reopen_count, merged_count=case.merged_count)

    def notes(self, *kinds: str) -> list[Note]:
        found = []
        for event, actor in self._of("note"):
            kind = str(event.data.get("kind", "investigation"))
            if kind in kinds:
                found.append(Note(seq=event.seq, at=ensure_aware(event.at), actor=actor,
                                  kind=kind, text=self._text(event.data.get("text")) or ""))
        if "basis" in kinds:  # each proposal states the basis it rests on
            for event, actor in self._of("propose"):
                if event.data.get("basis"):
                    found.append(Note(seq=event.seq, at=ensure_aware(event.at), actor=actor,
                                      kind="proposal_basis",
                                      text=self._text(event.data["basis"]) or ""))
            found.sort(key=lambda note: note.seq)
        return found

    def evidence(self) -> list[Evidence]:
        rows = self.session.execute(
            select(Attachment, User.username).outerjoin(User, User.id == Attachment.uploaded_by)
            .where(Attachment.case_id == self.case.id).order_by(Attachment.id))
        return [Evidence(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size,
                         sha256=a.sha256, uploaded_at=ensure_aware(a.created_at),
                         uploaded_by=name, file_check=attachments_service.check_file(a))
                for a, name in rows]

    def decision(self) -> Decision:
        case = self.case
        proposals = [Proposal(seq=e.seq, at=ensure_aware(e.at), actor=actor,
                              decision=str(e.data.get("decision")),
                              amount=_decimal(e.data.get("amount")),
                              basis=self._text(e.data.get("basis")),
                              reason=self._text(e.data.get("reason")),
                              needs_approval=bool(e.data.get("needs_approval")))
                     for e, actor in self._of("propose")]
        approvals = [Approval(seq=e.seq, at=ensure_aware(e.at), actor=actor,
                              amount=_decimal(e.data.get("amount")),
                              comment=self._text(e.data.get("comment")))
                     for e, actor in self._of("approve")]
        told = self._of("resolve")
        last = told[-1][0].data if told else {}
        return Decision(
            type=case.decision_type, amount=case.decision_amount, currency=case.currency,
            needs_approval=case.decision_needs_approval,
            approved_by=self._username(case.decision_approved_by), approvals=approvals,
            proposals=proposals, told_via=last.get("told_via"),
            told_at=_parse_time(last.get("told_at")) or (ensure_aware(told[-1][0].at)
                                                         if told else None),
            summary=self._text(last.get("summary")))

    @cached_property
    def _contacts(self) -> list[Contact]:
        """The communications with the customer on the timeline (two sections show them)."""
        contacts = []
        for event, actor in self._of("refuse", "resolve", "tell", "customer_answer", "withdraw"):
            data, at = event.data, ensure_aware(event.at)
            if event.type == "refuse":
                contact = Contact(seq=event.seq, at=at, actor=actor, kind="not_accepted",
                                  via=None, text=self._text(data.get("reason")))
            elif event.type == "resolve":
                contact = Contact(seq=event.seq, at=_parse_time(data.get("told_at")) or at,
                                  actor=actor, kind="decision", via=data.get("told_via"),
                                  text=self._text(data.get("summary")))
            elif event.type == "tell":
                contact = Contact(seq=event.seq, at=at, actor=actor, kind="message",
                                  via=data.get("via"), text=self._text(data.get("summary")))
            elif event.type == "withdraw":
                contact = Contact(seq=event.seq, at=at, actor=actor, kind="withdrawal",
                                  via=None, text=self._text(data.get("reason")))
            else:
                contact = Contact(seq=event.seq, at=at, actor=actor, kind="answer", via=None,
                                  text=self._text(data.get("comment")),
                                  satisfied=bool(data.get("satisfied")))
            contacts.append(contact)
        return contacts

    def communication(self) -> Communication:
        notes = notify_service.list_notifications(self.session, case_id=self.case.id,
                                                  limit=10_000)
        messages = [Message(template=n.template, channel=n.channel,
                            recipient=n.recipient_masked, status=n.status,
                            created_at=ensure_aware(n.created_at), sent_at=_aware(n.sent_at))
                    for n in sorted(notes, key=lambda n: n.id)
                    if n.recipient_kind == "customer"]
        return Communication(contacts=self._contacts, messages=messages)

    def extensions(self, now: dt.datetime) -> Extensions:
        case = self.case
        entries = [ExtensionEntry(seq=e.seq, at=ensure_aware(e.at), actor=actor,
                                  days=int(e.data.get("days", 0)),
                                  total_days=e.data.get("total_days"),
                                  reason=self._text(e.data.get("reason")),
                                  approved_by=e.data.get("approved_by"),
                                  approver_title=e.data.get("approver_title"),
                                  due_at=_parse_time(e.data.get("due_at")))
                   for e, actor in self._of("extend")]
        clocks: list[ClockEntry] = []
        version: str | None = None
        problem: str | None = None
        # The clocks as the engine computes them from the timeline, once everything on it
        # has happened (a test clock or a skewed host may put events after `now`).
        latest = max([ensure_aware(e.at) for e, _ in self.events] + [now])
        steps = [(e.type, e.at, e.data) for e, _ in self.events if e.type in clock.CLOCK_STEPS]
        try:
            computed = clock.compute(case, clock.clock_events(steps, case.withdrawn_at), latest)
        except BankvocError as exc:  # e.g. a policy revised since refuses an old extension
            problem = exc.message
        else:
            version = computed.policy_version
            policy = load_policy()
            clocks = [ClockEntry(name=item.name, label_zh=policy.label(item.name, "zh"),
                                 label_en=policy.label(item.name, "en"),
                                 state=item.state.value, days=item.days,
                                 max_days=item.max_days, last_day=item.last_day,
                                 due_at=item.due_at, ended_at=item.ended_at,
                                 overdue=item.overdue(latest))
                      for item in computed if item.statutory]
        return Extensions(due_at=_aware(case.due_at), extensions=entries, pauses=self._pauses(),
                          clocks=clocks, policy_version=version, problem=problem)

    def _pauses(self) -> list[PauseEntry]:
        """Each pause of the clock with the resume that ended it, as the timeline has them."""
        pauses: list[PauseEntry] = []
        for event, _ in self._of("pause", "resume"):
            at = ensure_aware(event.at)
            if event.type == "pause":
                pauses.append(PauseEntry(reason=str(event.data.get("reason")), started_at=at,
                                         ended_at=None, days=0,
                                         note=self._text(event.data.get("note"))))
            elif pauses and pauses[-1].ended_at is None:
                pauses[-1].ended_at = at
                pauses[-1].days = int(event.data.get("paused_days", 0))
        return pauses

    def satisfaction(self) -> Satisfaction:
        callbacks, surveys = surveys_service.answers_of_case(self.session, case_id=self.case.id)
        return Satisfaction(
            answers=[c for c in self._contacts if c.kind == "answer"],
            callbacks=[CallbackEntry(round=c.round, status=c.status, reason=c.reason,
                                     due_at=_aware(c.due_at), csat=c.csat, nps=c.nps,
                                     solved=c.solved, comment=self._text(c.comment_masked),
                                     completed_at=_aware(c.completed_at)) for c in callbacks],
            surveys=[SurveyEntry(touchpoint=s.touchpoint, channel=s.channel, csat=s.csat,
                                 nps=s.nps, solved=s.solved,
                                 comment=self._text(s.comment_masked),
                                 answered_at=ensure_aware(s.answered_at)) for s in surveys])

    def timeline(self) -> list[TimelineEvent]:
        return [TimelineEvent(seq=e.seq, type=e.type, at=ensure_aware(e.at), actor=actor,
                              data=self._data(e.data), prev_hash=e.prev_hash, hash=e.hash)
                for e, actor in self.events]

    def chain(self) -> ChainCheckResult:
        """The timeline shown, verified as read (not read again)."""
        check = check_chain([event for event, _ in self.events])
        return ChainCheckResult(ok=check.ok, events=check.events,
                                broken_at_seq=check.broken_at_seq, reason=check.reason)


# --- labels (Chinese first, English beside) -------------------------------------------------------

register("dossier", {
    "title": ("投诉处理档案", "Complaint case dossier"),
    "basic_facts": ("一、基本情况", "1. Basic facts"),
    "dispute_focus": ("二、争议焦点", "2. Dispute focus"),
    "findings": ("三、调查情况及证据", "3. Findings and evidence"),
    "basis": ("四、处理依据", "4. Basis of the decision"),
    "decision": ("五、处理决定", "5. Decision"),
    "communication": ("六、与客户沟通情况", "6. Communication with the customer"),
    "extensions": ("七、延期及中止计时", "7. Extensions and clock pauses"),
    "satisfaction": ("八、客户满意度", "8. Customer satisfaction"),
    "timeline": ("九、处理记录及哈希链校验", "9. Timeline and hash-chain check"),
    "masked": ("个人信息已脱敏", "Personal data masked"),
    "revealed": ("含未脱敏个人信息，查阅已记录，仅限授权用途",
                 "Contains unmasked personal data; this export is recorded"),
    "generated": ("生成时间", "Generated"),
    "generated_by": ("生成人", "By"),
    "keep_until": ("至少保存至", "Kept at least until"),
    "legal_hold": ("法律保全", "Legal hold"),
    "none": ("无", "None"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "chain_ok": ("哈希链校验通过", "Hash chain verified"),
    "chain_broken": ("哈希链校验未通过", "Hash chain broken"),
    "events": ("事件数", "Events"),
    "reference": ("工单号", "Reference"),
    "kind": ("类型", "Kind"),
    "channel": ("渠道", "Channel"),
    "origin": ("来源", "Origin"),
    "origin_reference": ("转办编号", "Transfer reference"),
    "status": ("状态", "Status"),
    "severity": ("等级", "Severity"),
    "product": ("产品", "Product"),
    "category": ("问题类别", "Category"),
    "title_field": ("标题", "Title"),
    "text": ("投诉内容", "Complaint"),
    "amount_claimed": ("涉及金额", "Amount in dispute"),
    "org": ("被投诉机构", "Org"),
    "handling_org": ("承办机构", "Handling org"),
    "subject_user": ("被投诉员工", "Employee complained about"),
    "subject_org": ("被投诉网点", "Outlet complained about"),
    "first_responder": ("首问责任人", "First responder"),
    "assignee": ("经办人", "Handler"),
    "complainants": ("投诉人", "Complainants"),
    "co_handlers": ("协办机构", "Co-handlers"),
    "received_at": ("受理时间", "Received"),
    "accepted_at": ("受理确认时间", "Accepted"),
    "resolved_at": ("告知决定时间", "Decision told"),
    "closed_at": ("办结时间", "Closed"),
    "counts": ("转办/升级/重开/合并", "Transfers / escalations / reopenings / merges"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "id_number": ("证件号码", "ID number"),
    "email": ("电子邮箱", "E-mail"),
    "role": ("身份", "Role"),
    "due_at": ("期限", "Due"),
    "done_at": ("完成时间", "Done"),
    "seq": ("序号", "No."),
    "at": ("时间", "Time"),
    "actor": ("操作人", "By"),
    "note_kind": ("类别", "Kind"),
    "content": ("内容", "Content"),
    "evidence": ("证据材料", "Evidence"),
    "filename": ("文件名", "File"),
    "size": ("大小（字节）", "Size (bytes)"),
    "sha256": ("SHA-256 校验值", "SHA-256"),
    "file_check": ("文件校验", "File check"),
    "decision_type": ("决定类型", "Decision"),
    "amount": ("金额", "Amount"),
    "needs_approval": ("需审批", "Needs approval"),
    "approved_by": ("审批人", "Approved by"),
    "proposals": ("处理方案", "Proposals"),
    "approvals": ("审批记录", "Approvals"),
    "told": ("告知方式及时间", "Told via, at"),
    "summary": ("告知内容", "Summary"),
    "reason": ("理由", "Reason"),
    "via": ("方式", "Via"),
    "satisfied": ("是否满意", "Satisfied"),
    "messages": ("系统发送的通知", "Notifications sent"),
    "template": ("通知", "Notice"),
    "recipient": ("接收方", "To"),
    "sent_at": ("发送时间", "Sent"),
    "days": ("天数", "Days"),
    "total_days": ("累计期限（天）", "Period (days)"),
    "approver_title": ("审批层级", "Approver level"),
    "pauses": ("中止计时", "Clock pauses"),
    "started_at": ("开始", "From"),
    "ended_at": ("结束", "To"),
    "clocks": ("法定期限", "Statutory clocks"),
    "state": ("状态", "State"),
    "last_day": ("最后一日", "Last day"),
    "overdue": ("超期", "Overdue"),
    "policy_version": ("期限规则版本", "Policy version"),
    "answers": ("客户对处理决定的反馈", "Customer's answers"),
    "callbacks": ("回访", "Callbacks"),
    "surveys": ("满意度调查", "Surveys"),
    "round": ("轮次", "Round"),
    "csat": ("满意度(1-5)", "CSAT (1-5)"),
    "nps": ("推荐度(0-10)", "NPS (0-10)"),
    "solved": ("问题是否解决", "Solved"),
    "comment": ("意见", "Comment"),
    "touchpoint": ("触点", "Touchpoint"),
    "type": ("事件", "Event"),
    "details": ("内容", "Details"),
    "hash": ("哈希", "Hash"),
    "page": ("第 {page} 页", "Page {page}"),
})
register("contact", {
    "not_accepted": ("不予受理告知", "Not accepted"),
    "decision": ("告知处理决定", "Decision told"),
    "message": ("沟通", "Contact"),
    "answer": ("客户反馈", "Customer's answer"),
    "withdrawal": ("客户撤回", "Withdrawal"),
})
register("note_kind", {
    "investigation": ("调查记录", "Investigation"),
    "dispute_focus": ("争议焦点", "Dispute focus"),
    "finding": ("调查结论", "Finding"),
    "basis": ("处理依据", "Basis"),
    "evidence": ("证据", "Evidence"),
    "proposal_basis": ("方案依据", "Basis of a proposal"),
})
register("person_role", {
    "complainant": ("投诉人", "Complainant"),
    "representative": ("代表人", "Representative"),
    "co_complainant": ("共同投诉人", "Co-complainant"),
})
register("file_check", {
    "ok": ("一致", "Matches"),
    "missing": ("文件缺失", "Missing"),
    "altered": ("校验不符", "Altered"),
})
register("via", {
    "phone": ("电话", "Phone"), "sms": ("短信", "SMS"), "letter": ("信函", "Letter"),
    "email": ("电子邮件", "E-mail"), "in_person": ("当面", "In person"),
    "wechat": ("微信", "WeChat"), "app": ("手机银行", "Mobile app"),
})
register("approver_title", {
    "superior_office": ("上级机构", "Superior office"),
    "head_office_senior_manager": ("总行高级管理人员", "Head-office senior manager"),
    "complaint_head": ("投诉处理负责人", "Head of complaint handling"),
})
register("pause_reason", {
    "appraisal": ("鉴定", "Appraisal"), "testing": ("检测", "Testing"),
    "evaluation": ("评估", "Evaluation"),
})
register("callback_status", {
    "pending": ("待回访", "Pending"), "done": ("已回访", "Done"),
    "unreachable": ("未联系上", "Unreachable"), "skipped": ("按规则免回访", "Skipped"),
})
register("event", {
    "received": ("登记", "Registered"), "merged": ("重复投诉合并", "Repeat merged"),
    "source_updated": ("来源记录更新", "Source record updated"),
    "accept": ("受理", "Accepted"), "refuse": ("不予受理", "Not accepted"),
    "assign": ("分派", "Assigned"), "investigate": ("开始调查", "Investigation started"),
    "note": ("调查记录", "Note"), "propose": ("提出处理方案", "Decision proposed"),
    "approve": ("审批通过", "Decision approved"), "resolve": ("告知处理决定", "Decision told"),
    "tell": ("与客户沟通", "Customer contacted"),
    "customer_answer": ("客户反馈", "Customer answered"), "close": ("办结", "Closed"),
    "archive": ("归档", "Archived"), "reopen": ("重新处理", "Reopened"),
    "transfer": ("转办", "Transferred"), "add_cohandler": ("增加协办", "Co-handler added"),
    "add_complainant": ("增加投诉人", "Complainant added"), "escalate": ("升级", "Escalated"),
    "extend": ("延期", "Extended"), "pause": ("中止计时", "Clock paused"),
    "resume": ("恢复计时", "Clock resumed"), "merge": ("合并", "Merged"),
    "merged_in": ("并入重复工单", "Case merged in"), "withdraw": ("撤回", "Withdrawn"),
    "corrected": ("更正判定", "Decision corrected"),
    "attachment_added": ("上传附件", "Attachment added"),
    EVENT_REVEALED: ("查阅未脱敏个人信息", "Personal data revealed"),
})
