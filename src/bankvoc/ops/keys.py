"""Rotation of the personal-data key without downtime: re-encrypt what an old key sealed.

The key ring (`customers.crypto`, BANKVOC_PII_KEY "new:…,old:…") encrypts and indexes with its
first key and decrypts and searches with every key, so the application works while the stored
data is under a mix of keys. The rotation, step by step (README "Rotating the personal-data
key"):

1. add the new key *second* everywhere ("old,new") and restart the processes one by one: every
   process can now read what the new key will write;
2. put the new key *first* ("new,old") and restart again: new data is written under it;
3. `bankvoc keys rotate`: every ciphertext and blind index still under another key is
   re-encrypted / recomputed under the first key, in committed batches;
4. `bankvoc keys status` says nothing is left under the old key: remove it from the ring.

Safe while the application runs: each row is rewritten by one UPDATE guarded by the values it
read (optimistic: a row the application changed in between is left alone, and taken again on
the next pass, since its new values are read afresh). Resumable: what remains is found by the
key id each stored value starts with, so an interrupted rotation simply runs again.

Every encrypted column and blind index of the models is listed in `TARGETS`;
tests/ops/test_keys.py fails when a model gains a `*_enc` or `*_bidx` column not listed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.cases.models import Case
from bankvoc.contact.models import InteractionTranscript
from bankvoc.contact.reviews import TEXT_FIELD as TRANSCRIPT_FIELD
from bankvoc.core.db import session_factory, transaction
from bankvoc.core.errors import Invalid
from bankvoc.customers import service as customer_service
from bankvoc.customers.crypto import KeyRing
from bankvoc.customers.models import Customer
from bankvoc.intake.channels import service as channels_service
from bankvoc.intake.channels.models import ChannelMessage, MonitoredMention
from bankvoc.notify.models import Notification
from bankvoc.notify.service import RECIPIENT_FIELD
from bankvoc.orgs.models import User
from bankvoc.orgs.totp import SECRET_FIELD

log = logging.getLogger(__name__)

Context = Callable[[Any], str]  # the encryption context ("field") of a column, from its row


def fixed(name: str) -> Context:
    return lambda _row: name


def _sender(row: Any) -> str:
    return str(channels_service.contact_field(row.contact_kind, row.channel))


@dataclass(frozen=True)
class Sealed:
    """An encrypted column, its encryption context and the blind index computed from the same
    plaintext (if any)."""

    column: str
    context: Context
    index: str | None = None


@dataclass(frozen=True)
class Target:
    model: type[Any]
    sealed: tuple[Sealed, ...]
    key: str = "id"
    reads: tuple[str, ...] = ()  # further columns the contexts read

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    def col(self, name: str) -> Any:
        return getattr(self.model, name)


TARGETS: tuple[Target, ...] = (
    Target(Customer, (
        Sealed("name_enc", fixed("name")),
        Sealed("phone_enc", fixed("phone"), index="phone_bidx"),
        Sealed("id_number_enc", fixed("id_number"), index="id_number_bidx"),
        Sealed("email_enc", fixed(customer_service.EMAIL_FIELD), index="email_bidx"),
    )),
    Target(Case, (Sealed("text_enc", fixed("case_text")),)),
    Target(Notification, (Sealed("recipient_enc", fixed(RECIPIENT_FIELD)),)),
    Target(User, (Sealed("totp_secret_enc", fixed(SECRET_FIELD)),)),
    Target(InteractionTranscript, (Sealed("texts_enc", fixed(TRANSCRIPT_FIELD)),),
           key="interaction_id"),
    Target(ChannelMessage, (
        Sealed("contact_enc", _sender, index="contact_bidx"),
        Sealed("contact_name_enc", fixed("name")),
        Sealed("text_enc", fixed("channel_text")),
    ), reads=("channel", "contact_kind")),
    Target(MonitoredMention, (Sealed("author_enc", fixed("social_author")),)),
)


def _under_other_key(column: Any, active: str) -> ColumnElement[bool]:
    # Key ids are alphanumeric (crypto.KeyRing), so the LIKE pattern holds no wildcard of
    # theirs. An empty value (an anonymised case's text) is under no key.
    return and_(column.is_not(None), column != "", ~column.like(f"{active}:%"))


def _stale(target: Target, active: str) -> ColumnElement[bool]:
    columns = [s.column for s in target.sealed] + [s.index for s in target.sealed if s.index]
    return or_(*(_under_other_key(target.col(c), active) for c in columns))


def _is_stale(value: str | None, active: str) -> bool:
    return bool(value) and not str(value).startswith(f"{active}:")


# --- status ---------------------------------------------------------------------------------------

def status(session: Session, *, ring: KeyRing | None = None) -> dict[str, Any]:
    """How many stored values each column still holds under a key other than the active one."""
    ring = ring or customer_service.current_keyring()
    active = ring.active_id
    stale: dict[str, int] = {}
    for target in TARGETS:
        for sealed in target.sealed:
            for name in (sealed.column, sealed.index):
                if name is None:
                    continue
                stale[f"{target.table}.{name}"] = session.scalar(
                    select(func.count()).select_from(target.model)
                    .where(_under_other_key(target.col(name), active))) or 0
    return {"active_key": active, "keys": ring.key_ids, "stale": stale,
            "total_stale": sum(stale.values())}


# --- rotation -------------------------------------------------------------------------------------

@dataclass
class RotationReport:
    active_key: str
    rotated: int = 0  # rows rewritten
    values: int = 0  # ciphertexts and blind indexes rewritten
    batches: int = 0
    conflicts: int = 0  # rows changed by the application meanwhile (taken again)
    unreadable: int = 0  # rows whose ciphertext failed its integrity check (left as they are)
    remaining: int = 0  # values still under another key when the rotation ended
    by_table: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchResult:
    rotated: int
    values: int
    conflicts: int
    unreadable: int
    last_key: Any  # the next batch starts after it; None when the batch found nothing


Shape = tuple[tuple[str, ...], frozenset[str]]  # (columns rewritten, of them read as NULL)


def _statement(target: Target, shape: Shape) -> Any:
    """UPDATE … SET the new values WHERE the key and every value read are unchanged (a guard
    per column; IS NULL for one read as NULL), with bound parameters: one statement for
    every row of the same shape, executed once for all of them."""
    columns, null = shape
    table = target.model.__table__
    guards = [table.c[target.key] == bindparam("k_")]
    guards += [table.c[c].is_(None) if c in null else table.c[c] == bindparam(f"o_{c}")
               for c in columns]
    return table.update().where(*guards).values({c: bindparam(f"n_{c}") for c in columns})


def rotate_batch(session: Session, *, target: Target, ring: KeyRing, after: Any,
                 limit: int) -> BatchResult:
    """Re-encrypt up to `limit` rows of `target` (keys above `after`) holding a value under
    another key than the ring's first, in the caller's transaction."""
    active = ring.active_id
    key = target.col(target.key)
    read = [key, *(target.col(c) for c in target.reads)]
    for sealed in target.sealed:
        read.append(target.col(sealed.column))
        if sealed.index:
            read.append(target.col(sealed.index))
    query = select(*read).where(_stale(target, active)).order_by(key).limit(limit)
    if after is not None:
        query = query.where(key > after)
    rows = session.execute(query).all()
    unreadable = 0
    shapes: dict[Shape, list[dict[str, Any]]] = {}
    for row in rows:
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        try:
            for sealed in target.sealed:
                token = getattr(row, sealed.column)
                stale_index = sealed.index is not None and _is_stale(
                    getattr(row, sealed.index), active)
                if not token or not (_is_stale(token, active) or stale_index):
                    continue
                context = sealed.context(row)
                plaintext = ring.decrypt(token, field=context)
                if _is_stale(token, active):
                    old[sealed.column] = token
                    new[sealed.column] = ring.encrypt(plaintext, field=context)
                if sealed.index is not None and stale_index:
                    old[sealed.index] = getattr(row, sealed.index)
                    new[sealed.index] = ring.blind_index(plaintext, field=context)
        except Invalid:
            # Logged by table and key only: never the value.
            log.warning("key rotation: %s %s=%s failed its integrity check; left as it is",
                        target.table, target.key, getattr(row, target.key))
            unreadable += 1
            continue
        if not new:
            continue
        shape = (tuple(sorted(new)), frozenset(c for c, v in old.items() if v is None))
        shapes.setdefault(shape, []).append(
            {"k_": getattr(row, target.key), **{f"o_{c}": v for c, v in old.items()},
             **{f"n_{c}": v for c, v in new.items()}})
    rotated = values = 0
    connection = session.connection()
    exact = connection.dialect.supports_sane_multi_rowcount
    for shape, params in shapes.items():
        statement = _statement(target, shape)
        if exact:
            done = cast(CursorResult[Any], connection.execute(statement, params)).rowcount
        else:  # one row at a time, to know which were written
            done = sum(cast(CursorResult[Any], connection.execute(statement, one)).rowcount
                       for one in params)
        rotated += done
        values += done * len(shape[0])
    conflicts = sum(len(params) for params in shapes.values()) - rotated
    last = getattr(rows[-1], target.key) if rows else None
    return BatchResult(rotated, values, conflicts, unreadable, last)


def rotate(sessions: sessionmaker[Session] | Engine | None = None, *, batch_size: int = 500,
           ring: KeyRing | None = None, max_passes: int = 3,
           on_batch: Callable[[str, BatchResult], None] | None = None) -> RotationReport:
    """Re-encrypt every value under an old key, one committed batch at a time (see the
    module's docstring); owns its units of work. A pass walks each table once by its key;
    rows the application changed meanwhile are taken again by the next pass, up to
    `max_passes`."""
    if batch_size < 1:
        raise Invalid("the batch size is at least 1", field="batch")
    factory = sessions if isinstance(sessions, sessionmaker) else session_factory(sessions)
    ring = ring or customer_service.current_keyring()
    report = RotationReport(active_key=ring.active_id)
    for _ in range(max_passes):
        conflicts = 0
        for target in TARGETS:
            after: Any = None
            while True:
                with transaction(factory) as session:
                    batch = rotate_batch(session, target=target, ring=ring, after=after,
                                         limit=batch_size)
                if batch.last_key is None:
                    break
                report.batches += 1
                report.rotated += batch.rotated
                report.values += batch.values
                report.unreadable += batch.unreadable
                conflicts += batch.conflicts
                report.by_table[target.table] = (report.by_table.get(target.table, 0)
                                                 + batch.rotated)
                if on_batch is not None:
                    on_batch(target.table, batch)
                after = batch.last_key
        report.conflicts += conflicts
        if not conflicts:
            break
    with transaction(factory) as session:
        report.remaining = status(session, ring=ring)["total_stale"]
    return report
