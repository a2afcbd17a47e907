"""The notification outbox: enqueue with the change, dispatch after commit.

`enqueue` renders a template and writes one outbox row in the caller's transaction (it never
commits): the message leaves only if the change it announces is committed. A `dedupe_key`
makes it idempotent: the insert is `ON CONFLICT DO NOTHING`, so the same key is stored once
however many transactions race for it, and the losers get None.

`dispatch_due` is the dispatcher (a job, `notify.dispatch`): it owns its units of work.
1. Claim, in one short transaction, up to `limit` due rows: pending or failed rows whose time
   has come, and "sending" rows whose claim expired (a dispatcher died). One UPDATE … RETURNING
   sets them `sending`, counts the attempt and stamps a lease (`next_attempt_at = now +
   sending_timeout`). On PostgreSQL the rows are chosen with `FOR UPDATE SKIP LOCKED`, so
   dispatchers running at once take disjoint rows without waiting; SQLite runs the whole UPDATE
   under its single write lock, so only one claimer can win a row.
2. Send each row through its channel's adapter, outside any transaction.
3. Record each result in its own transaction, guarded by (status = sending, attempts = the
   claimed attempt): a dispatcher whose lease was taken over records nothing.
   Sent → `sent`. A retryable failure → `failed`, retried after base * 2^(attempt-1) (capped).
   A permanent failure, or the last allowed attempt → `dead` (the dead letter; `requeue`
   revives it).

Delivery is at least once. A crash (or a lost database) between a send and its record leaves
the row `sending`; once its lease expires another dispatch sends it again. So a message is
never lost, and is duplicated only when the channel accepted it and the result was not
recorded. Receivers drop such repeats by the delivery id, which is the same on every attempt
(the webhook's X-BankVOC-Delivery header, the e-mail's Message-ID and X-BankVOC-Delivery). A
dispatcher stops sending once half its lease has passed and hands the rest back, so a slow
batch is not taken over while it is still being sent.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import (
    bulk_insert,
    database_unavailable,
    insert_skipping_taken,
    session_factory,
    transaction,
)
from bankvoc.core.errors import BankvocError, ConfigurationError, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.customers import service as customer_service
from bankvoc.customers.crypto import KeyRing
from bankvoc.jobs.enqueue import enqueue_job
from bankvoc.notify.adapters import Adapter, Message, adapters_from_settings, mask_address
from bankvoc.notify.enums import DUE_STATUSES, Channel, Language, RecipientKind, Status
from bankvoc.notify.errors import DeliveryError
from bankvoc.notify.models import Notification
from bankvoc.notify.templates import TemplateSet, current_templates

log = logging.getLogger(__name__)

# Associated data of the recipient's ciphertext: it decrypts only as this field.
RECIPIENT_FIELD = "notification.recipient"
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_MAX_ERROR = 500


@dataclass(frozen=True)
class Recipient:
    """Who gets a notification: a customer or a staff member, at an address of the channel
    (mobile number, e-mail address, WeChat openid or webhook URL). `ref` is a non-personal
    reference kept for audit (a customer id, a username)."""

    kind: str
    address: str
    ref: str | None = None

    @classmethod
    def customer(cls, address: str, *, ref: str | int | None = None) -> Recipient:
        return cls(RecipientKind.customer, address, None if ref is None else str(ref))

    @classmethod
    def user(cls, address: str, *, ref: str | int | None = None) -> Recipient:
        return cls(RecipientKind.user, address, None if ref is None else str(ref))


def _choice(enum: type[Channel] | type[Language], value: str, field: str) -> str:
    allowed = [member.value for member in enum]
    if value not in allowed:
        raise Invalid(f"unknown {field} {value!r}: one of {', '.join(allowed)}", field=field)
    return value


def normalise_address(channel: str, address: str) -> str:
    """The address as the channel wants it, or Invalid (the message never shows it)."""
    address = address.strip()
    if channel == Channel.sms:
        phone = masking.normalise_phone(address)
        if not masking.valid_mobile(phone):
            raise Invalid("an SMS goes to a mainland mobile number", field="recipient")
        return phone
    if channel == Channel.email:
        if not masking.valid_email(masking.normalise_email(address)):
            raise Invalid("not an e-mail address", field="recipient")
        return address
    if channel == Channel.wechat:
        if not _OPENID.match(address):
            raise Invalid("not a WeChat openid", field="recipient")
        return address
    if not re.match(r"^https?://[^/\s]+", address) or len(address) > 2000:
        raise Invalid("a webhook address is an http(s) URL", field="recipient")
    return address


@dataclass(frozen=True)
class Outgoing:
    """One notification to queue: a template rendered for a recipient (see `enqueue`)."""

    template: str
    channel: str
    recipient: Recipient
    language: str
    context: Mapping[str, Any]
    case_id: int | None = None
    dedupe_key: str | None = None
    not_before: datetime | None = None


def enqueue(
    session: Session,
    *,
    template: str,
    channel: str,
    recipient: Recipient,
    language: str,
    context: Mapping[str, Any],
    case_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Render `template` and add it to the outbox in the caller's transaction.

    Returns the new row, or None when a notification with `dedupe_key` exists already (sent or
    not): the same key is never enqueued twice, even by transactions racing each other.
    `not_before` holds the message back until then (e.g. out of the night hours). Raises
    `UnknownTemplate`, `TemplateError` (a context variable missing) or `Invalid` (a bad
    channel, language, recipient or key) before anything is written.
    """
    values = _row(Outgoing(template, channel, recipient, language, context, case_id,
                           dedupe_key, not_before), now or utcnow(), current_templates(),
                  customer_service.current_keyring())
    stmt: Any = (insert(Notification) if dedupe_key is None
                 else insert_skipping_taken(session, Notification, ["dedupe_key"]))
    row = session.scalars(stmt.values(**values).returning(Notification)).first()
    if row is None:
        log.info("notification %s already enqueued; not again", dedupe_key)
    else:
        _dispatch_after_commit(session)
    return cast(Notification | None, row)


def enqueue_many(session: Session, items: Sequence[Outgoing], *,
                 now: datetime | None = None) -> None:
    """`enqueue` for many notifications, each with its dedupe key, in one executemany; a key
    queued before is left out. Everything is checked and rendered before anything is written."""
    if any(item.dedupe_key is None for item in items):
        raise Invalid("every notification queued together needs a dedupe key",
                      field="dedupe_key")
    # Looked up once: one batch is rendered from one version of the templates.
    templates, ring = current_templates(), customer_service.current_keyring()
    moment = now or utcnow()
    bulk_insert(session, Notification, [_row(item, moment, templates, ring) for item in items],
                skip_taken=["dedupe_key"])
    if items:
        _dispatch_after_commit(session)


def _dispatch_after_commit(session: Session) -> None:
    """Send what was queued as soon as the transaction commits (the `notify.dispatch` job,
    once per transaction), rather than on the dispatcher's next periodic run."""
    enqueue_job(session, "notify.dispatch")


def _row(item: Outgoing, now: datetime, templates: TemplateSet, ring: KeyRing) -> dict[str, Any]:
    """The outbox row of `item`, rendered with `templates`, its address encrypted with
    `ring`."""
    channel = _choice(Channel, item.channel, "channel")
    language = _choice(Language, item.language, "language")
    recipient, dedupe_key = item.recipient, item.dedupe_key
    info = templates.info(item.template)
    wanted = RecipientKind.customer if info.audience == "customer" else RecipientKind.user
    if recipient.kind != wanted:
        raise Invalid(f"template {item.template!r} is for {info.audience}, not a "
                      f"{recipient.kind}", field="recipient")
    if recipient.ref is not None and len(recipient.ref) > 64:
        raise Invalid("a recipient reference has at most 64 characters", field="recipient")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= 200:
        raise Invalid("a dedupe key has 1 to 200 characters", field="dedupe_key")
    address = normalise_address(channel, recipient.address)
    rendered = templates.render(item.template, language=language, context=item.context)
    not_before = item.not_before
    return {
        "case_id": item.case_id, "recipient_kind": recipient.kind,
        "recipient_ref": recipient.ref,
        "recipient_enc": ring.encrypt(address, field=RECIPIENT_FIELD),
        "recipient_masked": mask_address(channel, address), "channel": channel,
        "template": item.template, "template_version": rendered.version, "language": language,
        "subject": rendered.subject[:300], "body": rendered.body,
        "status": Status.pending, "attempts": 0,
        "next_attempt_at": max(now, not_before) if not_before else now,
        "dedupe_key": dedupe_key, "delivery_id": uuid.uuid4().hex,
        "created_at": now, "updated_at": now,
    }


# --- dispatch ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    sending_timeout: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls) -> DispatchPolicy:
        s = get_settings()
        return cls(max_attempts=s.notify_max_attempts,
                   backoff_base=timedelta(seconds=s.notify_backoff_base_seconds),
                   backoff_cap=timedelta(seconds=s.notify_backoff_cap_seconds),
                   sending_timeout=timedelta(seconds=s.notify_sending_timeout_seconds))

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed attempt number `attempt` (1, 2, …): base·2^(attempt-1),
        at most the cap."""
        exponent = min(max(attempt - 1, 0), 32)
        delay: timedelta = self.backoff_base * (2 ** exponent)
        return min(delay, self.backoff_cap)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    # Failed, waiting for a retry.
    retried: int = 0
    dead: int = 0
    # Of the claimed: "sending" rows taken over after their dispatcher's lease expired.
    recovered: int = 0
    # Sent, but the lease had been taken over: the result was not recorded by us.
    superseded: int = 0
    # Claimed but handed back unsent (the batch ran past half its lease).
    released: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, as far as sending it needs (read by the claim's RETURNING)."""

    id: int
    delivery_id: str
    channel: str
    recipient_enc: str
    subject: str
    body: str
    template: str
    language: str
    case_id: int | None
    attempts: int
    recovered: bool = False


_CLAIM_COLUMNS = (Notification.id, Notification.delivery_id, Notification.channel,
                  Notification.recipient_enc, Notification.subject, Notification.body,
                  Notification.template, Notification.language, Notification.case_id,
                  Notification.attempts)


def _claim(session: Session, *, statuses: Sequence[str], now: datetime, limit: int,
           policy: DispatchPolicy) -> list[Claimed]:
    due = (Notification.status.in_(statuses), Notification.next_attempt_at <= now,
           Notification.attempts < policy.max_attempts)
    # FOR UPDATE SKIP LOCKED on PostgreSQL (ignored by SQLite, whose write lock the UPDATE
    # already holds); a CTE, so PostgreSQL evaluates the locking select exactly once.
    chosen = (select(Notification.id).where(*due)
              .order_by(Notification.next_attempt_at, Notification.id).limit(limit)
              .with_for_update(skip_locked=True).cte("chosen"))
    stmt = (update(Notification)
            .where(Notification.id.in_(select(chosen.c.id)), *due)
            .values(status=Status.sending, attempts=Notification.attempts + 1,
                    next_attempt_at=now + policy.sending_timeout)
            .returning(*_CLAIM_COLUMNS)
            .execution_options(synchronize_session=False))
    recovered = statuses == (Status.sending,)
    rows = session.execute(stmt).all()
    return sorted((Claimed(**row._asdict(), recovered=recovered) for row in rows),
                  key=lambda c: c.id)


def claim_due(session: Session, *, now: datetime, limit: int,
              policy: DispatchPolicy) -> list[Claimed]:
    """Claim up to `limit` rows to send (first those whose dispatcher died, then the due).

    Rows left `sending` past their lease with no attempt left go to the dead letter. The
    caller commits before sending.
    """
    session.execute(
        update(Notification)
        .where(Notification.status == Status.sending, Notification.next_attempt_at <= now,
               Notification.attempts >= policy.max_attempts)
        .values(status=Status.dead, next_attempt_at=None,
                last_error="no result recorded for the last attempt (the dispatcher stopped)")
        .execution_options(synchronize_session=False))
    claimed = _claim(session, statuses=(Status.sending,), now=now, limit=limit, policy=policy)
    if len(claimed) < limit:
        claimed += _claim(session, statuses=DUE_STATUSES, now=now,
                          limit=limit - len(claimed), policy=policy)
    return claimed


def _guarded(claimed: Claimed, **values: Any) -> Any:
    return (update(Notification)
            .where(Notification.id == claimed.id, Notification.status == Status.sending,
                   Notification.attempts == claimed.attempts)
            .values(**values)
            .execution_options(synchronize_session=False))


def record_result(session: Session, *, claimed: Claimed, error: DeliveryError | None,
                  now: datetime, policy: DispatchPolicy) -> str | None:
    """Record one attempt's outcome; the new status, or None if the claim was taken over."""
    values: dict[str, Any]
    if error is None:
        status, values = Status.sent, {"sent_at": now, "next_attempt_at": None,
                                       "last_error": None}
    elif error.retryable and claimed.attempts < policy.max_attempts:
        status, values = Status.failed, {"next_attempt_at": now + policy.backoff(
            claimed.attempts), "last_error": error.message[:_MAX_ERROR]}
    else:
        status, values = Status.dead, {"next_attempt_at": None,
                                       "last_error": error.message[:_MAX_ERROR]}
    result = cast(CursorResult[Any],
                  session.execute(_guarded(claimed, status=status, **values)))
    return status if result.rowcount == 1 else None


def release(session: Session, *, claimed: Claimed, now: datetime) -> bool:
    """Hand an unsent claim back: due now, its attempt not counted."""
    result = cast(CursorResult[Any], session.execute(_guarded(
        claimed, status=Status.failed if claimed.attempts > 1 else Status.pending,
        attempts=claimed.attempts - 1, next_attempt_at=now)))
    return result.rowcount == 1


def _message(claimed: Claimed, address: str) -> Message:
    return Message(notification_id=claimed.id, delivery_id=claimed.delivery_id,
                   channel=claimed.channel, recipient=address, subject=claimed.subject,
                   body=claimed.body, template=claimed.template, language=claimed.language,
                   case_id=claimed.case_id, attempt=claimed.attempts)


def _send(claimed: Claimed, adapters: Mapping[str, Adapter]) -> DeliveryError | None:
    adapter = adapters.get(claimed.channel)
    if adapter is None:
        return DeliveryError(f"no adapter for the {claimed.channel} channel", retryable=True)
    try:
        address = customer_service.current_keyring().decrypt(claimed.recipient_enc,
                                                            field=RECIPIENT_FIELD)
    except ConfigurationError as exc:  # a key missing from the ring: fixable, retry
        return DeliveryError(exc.message, retryable=True)
    except BankvocError:
        return DeliveryError("the stored recipient failed its integrity check",
                             retryable=False)
    message = _message(claimed, address)
    try:
        adapter.send(message)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # an adapter's bug or an unforeseen failure: retry later
        log.warning("notification %s: %s adapter raised %s", claimed.id, claimed.channel,
                    type(exc).__name__)
        error = DeliveryError(f"{claimed.channel} adapter failed: {type(exc).__name__}",
                              retryable=True)
    else:
        return None
    # Adapters' errors may echo the address (an SMTP refusal does): store it masked.
    text = error.message.replace(address, message.recipient_masked)
    return DeliveryError(text, retryable=error.retryable)


def _sessions(target: sessionmaker[Session] | Engine | None) -> sessionmaker[Session]:
    if isinstance(target, sessionmaker):
        return target
    return session_factory(target)


def _record_when_possible(factory: sessionmaker[Session], *, claimed: Claimed,
                          error: DeliveryError | None, clock: Callable[[], datetime],
                          policy: DispatchPolicy, until: float) -> str | None:
    """`record_result` in a transaction of its own, tried again while the database is away
    (restarting, failing over) until the monotonic time `until`: the message went out, and a
    result not recorded would have it sent again once the lease expired. Past `until`, or on
    any other error, the error is raised."""
    delay = 0.1
    while True:
        try:
            with transaction(factory) as session:
                return record_result(session, claimed=claimed, error=error, now=clock(),
                                     policy=policy)
        except Exception as exc:
            if not database_unavailable(exc) or time.monotonic() + delay > until:
                raise
            log.warning("notification %s: the database is away; recording its result again "
                        "in %.1f s", claimed.id, delay)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def dispatch_due(
    sessions: sessionmaker[Session] | Engine | None = None,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    adapters: Mapping[str, Adapter] | None = None,
    policy: DispatchPolicy | None = None,
) -> DispatchReport:
    """Send what is due (see the module's docstring); safe to run in several places at once.

    `sessions` is where the outbox lives (a session factory or an engine; default: the
    configured database). `now` is the dispatcher's clock at the start (default: the time);
    results are stamped now + the time elapsed since. Adapters default to the settings'.
    """
    factory = _sessions(sessions)
    policy = policy or DispatchPolicy.from_settings()
    adapters = adapters if adapters is not None else adapters_from_settings()
    limit = limit or get_settings().notify_batch_size
    started_at, started = now or utcnow(), time.monotonic()

    def clock() -> datetime:
        return started_at + timedelta(seconds=time.monotonic() - started)

    report = DispatchReport()
    with transaction(factory) as session:
        claimed = claim_due(session, now=started_at, limit=limit, policy=policy)
    report.claimed = len(claimed)
    report.recovered = sum(c.recovered for c in claimed)
    half_lease = policy.sending_timeout.total_seconds() / 2
    for index, item in enumerate(claimed):
        if time.monotonic() - started >= half_lease:
            with transaction(factory) as session:
                report.released += sum(release(session, claimed=rest, now=clock())
                                       for rest in claimed[index:])
            log.warning("dispatch ran past half its lease: %d claims handed back",
                        len(claimed) - index)
            break
        error = _send(item, adapters)
        try:
            status = _record_when_possible(factory, claimed=item, error=error, clock=clock,
                                           policy=policy, until=started + half_lease)
        except Exception as exc:  # the database is away: the lease brings the row back
            log.error("notification %s: result not recorded (%s); it will be retried",
                      item.id, type(exc).__name__)
            continue
        if status is None:
            report.superseded += 1
        elif status == Status.sent:
            report.sent += 1
        elif status == Status.failed:
            report.retried += 1
        else:
            report.dead += 1
        log.log(logging.INFO if status == Status.sent else logging.WARNING,
                "notification %s (%s, %s, attempt %d): %s%s", item.id, item.template,
                item.channel, item.attempts, status or "superseded",
                f" - {error.message}" if error else "")
    return report


# --- reading and the dead letter -----------------------------------------------------------------

def list_notifications(session: Session, *, status: str | None = None,
                       case_id: int | None = None, limit: int = 100) -> list[Notification]:
    """The newest notifications first, optionally of one status or case."""
    stmt = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status is not None:
        if status not in {s.value for s in Status}:
            raise Invalid(f"unknown status {status!r}: one of "
                          f"{', '.join(s.value for s in Status)}", field="status")
        stmt = stmt.where(Notification.status == status)
    if case_id is not None:
        stmt = stmt.where(Notification.case_id == case_id)
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    """How many notifications are in each status (every status listed)."""
    found = dict(session.execute(select(Notification.status, func.count())
                                 .group_by(Notification.status)).all())
    return {s.value: int(found.get(s.value, 0)) for s in Status}


def summary(notification: Notification) -> dict[str, Any]:
    """A row as lists and scripts show it: the address masked, no body."""
    return {
        "id": notification.id, "case_id": notification.case_id,
        "template": notification.template, "channel": notification.channel,
        "language": notification.language, "recipient_kind": notification.recipient_kind,
        "recipient": notification.recipient_masked, "status": notification.status,
        "attempts": notification.attempts, "next_attempt_at": notification.next_attempt_at,
        "last_error": notification.last_error, "dedupe_key": notification.dedupe_key,
        "created_at": notification.created_at, "sent_at": notification.sent_at,
    }


def requeue(session: Session, *, ids: Sequence[int], now: datetime | None = None) -> int:
    """Give dead (or failed) notifications a fresh set of attempts, due now; how many."""
    result = cast(CursorResult[Any], session.execute(
        update(Notification)
        .where(Notification.id.in_(list(ids)),
               Notification.status.in_((Status.dead, Status.failed)))
        .values(status=Status.pending, attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)))
    return result.rowcount


def forget_cases(session: Session, *, case_ids: Sequence[int]) -> int:
    """Delete every notification of these cases (their addresses are personal data): the
    retention purge of cases whose keeping period is over. Returns how many went."""
    if not case_ids:
        return 0
    result = cast(CursorResult[Any], session.execute(
        delete(Notification).where(Notification.case_id.in_(list(case_ids)))
        .execution_options(synchronize_session=False)))
    return result.rowcount
