"""One way in for every channel adapter: a message becomes a case through the intake pipeline,
with its files as evidence and its sender's address kept (encrypted, with a blind index).

The sender's address is what the flood guard counts by and what finds a sender's messages; its
ciphertext is kept for the people who review a held message and release it, who answer on the
same channel. The case's own notifications do not read it: they go to the customer's address
in the customers feature (an e-mail's sender is made the customer known by that address).

Adapters (e-mail, IMAP, webhooks) turn what they receive into an `InboundMessage` and call
`register_inbound` inside the unit of work their caller owns (the SMTP handler's per-mail
transaction, the API's request). Registration is idempotent on (source system, source id): a
message delivered twice is stored once, and its files are never attached twice.

A message that must not become a case is kept as a `channel_message` row without one
(`record_unregistered`): ignored when no person wrote it (see `channels.autoreply`), held when
its sender floods (`flood_reason`: more than BANKVOC_INBOUND_MAIL_MAX_PER_HOUR within the hour,
counted in the database, so every process running an adapter sees the same count).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases import attachments
from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.cases.events import append_event
from bankvoc.cases.models import Case
from bankvoc.core.errors import BankvocError, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc, utcnow
from bankvoc.customers import disclosure, masking
from bankvoc.customers import service as customer_service
from bankvoc.customers.disclosure import DIRECT, Via
from bankvoc.intake import service as intake_service
from bankvoc.intake.channels.enums import MessageStatus
from bankvoc.intake.channels.models import ChannelMessage
from bankvoc.intake.channels.schemas import ChannelMessageIn
from bankvoc.intake.draft import Outcome
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.stages import FUTURE_TOLERANCE
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

CONTACT_EMAIL = "email"
CONTACT_CHANNEL_USER = "channel_user"
# What a case made from a webhook message is called when it is refused: the webhook's own names.
WEBHOOK_FIELD_NAMES = {"received_at": "sent_at", "customer_name": "customer.name",
                       "customer_phone": "customer.phone"}

# The flood guard: a sender's messages beyond BANKVOC_INBOUND_MAIL_MAX_PER_HOUR within this
# window are held, not made cases.
FLOOD_WINDOW = timedelta(hours=1)


class ChannelUnavailable(BankvocError):
    """The adapters cannot work (their user is missing or inactive): try again later."""

    status = 503
    code = "channel_unavailable"


@dataclass(frozen=True)
class InboundFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class InboundMessage:
    """A message as an adapter understood it, ready to register."""

    channel: Channel
    source_system: str
    source_id: str
    text: str
    kind: CaseKind = CaseKind.complaint
    title: str | None = None
    received_at: datetime | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    # The customer's own e-mail address (an e-mail's valid sender address): it finds the
    # customer by its blind index, or makes a new customer known by it.
    customer_email: str | None = None
    # The sender's address on the channel: an e-mail address or the channel's user id.
    contact: str | None = None
    contact_kind: str | None = None
    contact_name: str | None = None
    attachments: list[InboundFile] = field(default_factory=list)
    # Facts worth a line on the case's timeline (a date header that could not be used, a text
    # cut at the size limit); never personal data.
    notes: list[dict[str, Any]] = field(default_factory=list)


def from_webhook(message: ChannelMessageIn, *, channel: Channel, source_system: str,
                 kind: CaseKind = CaseKind.complaint,
                 notes: list[dict[str, Any]] | None = None) -> InboundMessage:
    """A message the webhook received (WeChat, chat, or a social post judged a complaint),
    ready to register on `channel`; register it with `field_names=WEBHOOK_FIELD_NAMES`."""
    customer = message.customer
    return InboundMessage(
        channel=channel, source_system=source_system, source_id=message.id, text=message.text,
        kind=kind, received_at=message.sent_at,
        customer_name=customer.name if customer else None,
        customer_phone=customer.phone if customer else None,
        contact=message.channel_user, contact_kind=CONTACT_CHANNEL_USER,
        attachments=[InboundFile(a.filename, a.content_type, a.data)
                     for a in message.attachments],
        notes=list(notes or []))


@dataclass(frozen=True)
class Receipt:
    """What became of one message."""

    # accepted | merged | updated | unchanged (the intake outcomes), or ignored | held (no
    # case: see `MessageStatus`, and `reason` for why).
    outcome: str
    reference: str | None
    case_id: int | None
    attachments_added: int = 0
    attachments_refused: int = 0
    reason: str | None = None


def channel_actor(session: Session) -> Actor:
    """The configured user (BANKVOC_CHANNEL_USER) every channel adapter registers cases as."""
    username = get_settings().channel_user
    try:
        user = org_service.get_user(session, username=username)
    except NotFound:
        raise ChannelUnavailable(f"the channel user {username!r} does not exist",
                                 field="BANKVOC_CHANNEL_USER") from None
    if not user.active:
        raise ChannelUnavailable(f"the channel user {username!r} is not active",
                                 field="BANKVOC_CHANNEL_USER")
    return org_service.actor_for(user)


def check_not_future(moment: datetime | None, *, field_name: str) -> None:
    if moment is None:
        return
    if as_utc(moment, get_settings().tz) > utcnow() + FUTURE_TOLERANCE:
        raise Invalid(f"{field_name}: is in the future", field=field_name)


def register_inbound(
    session: Session,
    *,
    actor: Actor,
    message: InboundMessage,
    field_names: Mapping[str, str] | None = None,
) -> Receipt:
    """Register the message as a case (or find it registered already) and keep its evidence.

    A message the pipeline refuses raises `Invalid`, naming the field in the adapter's own
    words when `field_names` maps the case's field names to them.
    """
    names = dict(field_names or {})
    data = _case_data(message, names)
    draft = intake_service.register_case(session, actor=actor, data=data)
    if draft.rejected:
        where = names.get(draft.error_field or "", draft.error_field or "text")
        raise Invalid(f"{where}: {draft.error}", field=where)
    if draft.outcome == Outcome.UNCHANGED or draft.case_id is None:
        return Receipt(draft.outcome, draft.reference, draft.case_id)
    case = session.get(Case, draft.case_id)
    assert case is not None
    assert draft.received_at is not None
    _remember_sender(session, message=message, case_id=case.id, received_at=draft.received_at)
    added, refused = attach_files(session, actor=actor, case=case, files=message.attachments,
                                  source=message.source_system)
    for note in message.notes:
        append_event(session, case=case, type="channel_note", actor_user_id=actor.user_id,
                     data={"source": message.source_system, **note})
    return Receipt(draft.outcome, case.reference, case.id, added, refused)


def _case_data(message: InboundMessage, names: Mapping[str, str]) -> CaseCreate:
    try:
        return CaseCreate(
            text=message.text, kind=message.kind, channel=message.channel,
            received_at=message.received_at, title=message.title,
            customer_name=message.customer_name, customer_phone=message.customer_phone,
            customer_email=message.customer_email,
            source_system=message.source_system, source_id=message.source_id)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(p) for p in error["loc"]) or "text"
        where = names.get(name, name)
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise Invalid(f"{where}: {reason}", field=where) from None


def attach_files(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    files: list[InboundFile],
    source: str,
) -> tuple[int, int]:
    """Store each file as evidence on the case, once; a file over the size limit (or empty) is
    refused with an event on the case saying which and why. Returns (added, refused)."""
    if not files:
        return 0, 0
    limit = get_settings().attachment_max_bytes
    present = {a.sha256 for a in attachments.list_attachments(session, actor=actor, case=case)}
    added = refused = 0
    for item in files:
        reason = None
        if len(item.data) > limit:
            reason = f"larger than the limit of {limit} bytes"
        elif not item.data:
            reason = "empty"
        if reason is not None:
            refused += 1
            append_event(session, case=case, type="attachment_refused",
                         actor_user_id=actor.user_id,
                         data={"filename": attachments.clean_filename(item.filename),
                               "size": len(item.data), "reason": reason, "source": source})
            continue
        digest = hashlib.sha256(item.data).hexdigest()
        if digest in present:
            continue
        attachments.add_attachment(session, actor=actor, case=case, filename=item.filename,
                                   content_type=item.content_type, stream=io.BytesIO(item.data))
        present.add(digest)
        added += 1
    return added, refused


def _contact_field(kind: str | None, channel: str) -> str:
    """The encryption context of a sender's address of `kind` on `channel`: addresses of one
    kind share an index (e-mail addresses the customers' own, so a sender's index is their
    customer's index)."""
    if kind == CONTACT_EMAIL:
        return customer_service.EMAIL_FIELD
    return f"{channel}_user"


# The encryption context of a sender's address, for the key rotation (ops.keys).
contact_field = _contact_field


def normalise_contact(kind: str | None, contact: str) -> str:
    if kind == CONTACT_EMAIL:
        return masking.normalise_email(contact)
    return contact.strip()


def mask_contact(kind: str | None, contact: str) -> str:
    """z***@bank.example for an address; the first three characters of any other id."""
    if kind == CONTACT_EMAIL and "@" in contact:
        return masking.mask_email(contact)
    return contact[:3] + "***"


def _message_row(message: InboundMessage, *, received_at: datetime) -> ChannelMessage:
    ring = customer_service.current_keyring()
    row = ChannelMessage(channel=message.channel.value, source_system=message.source_system,
                         source_id=message.source_id, contact_kind=message.contact_kind,
                         received_at=received_at)
    if message.contact:
        contact = normalise_contact(message.contact_kind, message.contact)
        context = _contact_field(message.contact_kind, message.channel.value)
        row.contact_enc = ring.encrypt(contact, field=context)
        row.contact_bidx = ring.blind_index(contact, field=context)
        row.contact_masked = mask_contact(message.contact_kind, contact)
    if message.contact_name:
        row.contact_name_enc = ring.encrypt(message.contact_name, field="name")
    return row


def _remember_sender(session: Session, *, message: InboundMessage, case_id: int,
                     received_at: datetime) -> None:
    known = session.scalar(select(ChannelMessage.id).where(
        ChannelMessage.source_system == message.source_system,
        ChannelMessage.source_id == message.source_id))
    if known is not None:
        return
    row = _message_row(message, received_at=received_at)
    row.case_id, row.status = case_id, MessageStatus.case.value
    session.add(row)
    session.flush()


# --- messages that become no case ----------------------------------------------------------

def earlier_receipt(session: Session, *, source_system: str,
                    source_id: str) -> Receipt | None:
    """What became of a message received before: for one that became no case (ignored or
    held), the same answer again, storing nothing new; for one that is a case, a receipt with
    outcome "case" (hand it to `register_inbound`, which answers for it); None for a message
    never seen."""
    row = session.execute(select(ChannelMessage.status, ChannelMessage.reason).where(
        ChannelMessage.source_system == source_system,
        ChannelMessage.source_id == source_id)).first()
    if row is None:
        return None
    return Receipt(row.status, None, None, reason=row.reason)


def flood_reason(session: Session, *, message: InboundMessage, now: datetime | None = None,
                 limit: int | None = None) -> str | None:
    """Why the message is held: its sender sent `limit` (the setting
    inbound_mail_max_per_hour, default 20) or more
    messages that were not ignored within the last FLOOD_WINDOW; None to go ahead.

    Counted over the committed messages (under every key of the ring), so every process
    running an adapter sees one count; processes racing at the limit may each let one more
    message through, which is as exact as a guard against floods needs to be.
    """
    if not message.contact:
        return None
    limit = get_settings().inbound_mail_max_per_hour if limit is None else limit
    since = (now or utcnow()) - FLOOD_WINDOW
    indexes = customer_service.current_keyring().blind_indexes(
        normalise_contact(message.contact_kind, message.contact),
        field=_contact_field(message.contact_kind, message.channel.value))
    count = session.scalar(select(func.count()).select_from(ChannelMessage).where(
        ChannelMessage.contact_bidx.in_(indexes), ChannelMessage.created_at >= since,
        ChannelMessage.status != MessageStatus.ignored.value)) or 0
    if count < limit:
        return None
    return f"flood: more than {limit} messages from this sender within an hour"


def record_unregistered(session: Session, *, message: InboundMessage, status: MessageStatus,
                        reason: str) -> Receipt:
    """Keep a message that becomes no case, with why: its sender (encrypted, indexed, so
    floods are counted and nothing answers it by mistake) and, for a held message, its text
    (encrypted) for the person who reviews it. Nothing is queued to its sender."""
    if status == MessageStatus.case:
        raise ValueError("a message that is a case is registered with register_inbound")
    received_at = (as_utc(message.received_at, get_settings().tz) if message.received_at
                   else utcnow())
    row = _message_row(message, received_at=received_at)
    row.status, row.reason = status.value, reason[:300]
    if status == MessageStatus.held:
        row.text_enc = customer_service.current_keyring().encrypt(message.text,
                                                                  field="channel_text")
    session.add(row)
    session.flush()
    return Receipt(status.value, None, None, reason=row.reason)


@dataclass(frozen=True)
class Sender:
    """Where to answer a case that came in through a channel."""

    channel: str
    contact_kind: str | None
    contact: str | None
    name: str | None


def senders_of(session: Session, *, actor: Actor, case: Case,
               via: Via = DIRECT) -> list[Sender]:
    """The decrypted addresses of the messages a case came from (for a person answering on
    the same channel); personal data, so only for roles that may read it, and recorded as
    one disclosure through the route `via`."""
    actor.require("pii.read")
    ring = customer_service.current_keyring()
    rows = session.scalars(select(ChannelMessage).where(ChannelMessage.case_id == case.id)
                           .order_by(ChannelMessage.id))
    found = []
    for row in rows:
        context = _contact_field(row.contact_kind, row.channel)
        found.append(Sender(
            channel=row.channel, contact_kind=row.contact_kind,
            contact=ring.decrypt(row.contact_enc, field=context) if row.contact_enc else None,
            name=(ring.decrypt(row.contact_name_enc, field="name") if row.contact_name_enc
                  else None)))
    disclosure.record(session, actor=actor, subject="senders", via=via,
                      case_reference=case.reference,
                      fields=[name for sender in found for name, value in
                              (("contact", sender.contact), ("contact_name", sender.name))
                              if value is not None])
    return found


def messages_from(session: Session, *, kind: str, channel: Channel,
                  contact: str) -> list[ChannelMessage]:
    """Every registered message from one sender address (under every key of the ring)."""
    indexes = customer_service.current_keyring().blind_indexes(
        normalise_contact(kind, contact), field=_contact_field(kind, channel.value))
    return list(session.scalars(select(ChannelMessage).where(
        ChannelMessage.contact_bidx.in_(indexes)).order_by(ChannelMessage.id)))
