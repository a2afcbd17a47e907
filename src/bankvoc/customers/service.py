"""Customers: encrypted identity, look-up by blind index, bulk resolution for intake.

A customer is identified by an ID number, else a phone, else an e-mail address (the order in
which each identifies a person better); each is stored encrypted, with a keyed blind index to
find it and a masked form to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.db import bulk_insert_ids
from bankvoc.core.errors import Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import disclosure, masking
from bankvoc.customers.crypto import KeyRing, keyring
from bankvoc.customers.disclosure import DIRECT, Via
from bankvoc.customers.models import Customer
from bankvoc.orgs.service import Actor

# The encryption context and blind-index field of an e-mail address; the channel adapters use
# the same one for a sender's address, so a customer's index equals their messages' index.
EMAIL_FIELD = "email"


def current_keyring() -> KeyRing:
    return keyring(get_settings().effective_pii_key)


@dataclass(frozen=True)
class ProtectedIdentity:
    """A customer's identity as it may be stored: ciphertexts, blind indexes, masked forms."""

    name_enc: str | None
    phone_enc: str | None
    id_number_enc: str | None
    phone_bidx: str | None
    id_number_bidx: str | None
    name_masked: str | None
    phone_masked: str | None
    id_number_masked: str | None
    birth_year: int | None
    email_enc: str | None = None
    email_bidx: str | None = None
    email_masked: str | None = None

    @property
    def indexes(self) -> tuple[str, ...]:
        """The blind indexes that find the customer, the one that identifies best first."""
        return tuple(i for i in (self.id_number_bidx, self.phone_bidx, self.email_bidx) if i)

    @property
    def key(self) -> str | None:
        """What identifies the customer: the ID number first, else the phone, else the
        e-mail address."""
        return next(iter(self.indexes), None)

    def as_row(self) -> dict[str, Any]:
        return {
            "name_enc": self.name_enc, "phone_enc": self.phone_enc,
            "id_number_enc": self.id_number_enc, "phone_bidx": self.phone_bidx,
            "id_number_bidx": self.id_number_bidx, "name_masked": self.name_masked,
            "phone_masked": self.phone_masked, "id_number_masked": self.id_number_masked,
            "birth_year": self.birth_year, "email_enc": self.email_enc,
            "email_bidx": self.email_bidx, "email_masked": self.email_masked, "flags": [],
        }


def protect_identity(
    ring: KeyRing, *, name: str | None, phone: str | None, id_number: str | None,
    email: str | None = None,
) -> ProtectedIdentity:
    """Encrypt and index already-normalised identity fields."""
    return ProtectedIdentity(
        name_enc=ring.encrypt(name, field="name") if name else None,
        phone_enc=ring.encrypt(phone, field="phone") if phone else None,
        id_number_enc=ring.encrypt(id_number, field="id_number") if id_number else None,
        phone_bidx=ring.blind_index(phone, field="phone") if phone else None,
        id_number_bidx=ring.blind_index(id_number, field="id_number") if id_number else None,
        name_masked=masking.mask_name(name) if name else None,
        phone_masked=masking.mask_phone(phone) if phone else None,
        id_number_masked=masking.mask_id_number(id_number) if id_number else None,
        birth_year=masking.birth_year(id_number) if id_number else None,
        email_enc=ring.encrypt(email, field=EMAIL_FIELD) if email else None,
        email_bidx=ring.blind_index(email, field=EMAIL_FIELD) if email else None,
        email_masked=masking.mask_email(email) if email else None,
    )


# The blind-index columns, in the order they are looked up: the ID number last, since it
# identifies better than a phone or an address and so wins a tie.
_INDEX_COLUMNS = {"email_bidx": Customer.email_bidx, "phone_bidx": Customer.phone_bidx,
                  "id_number_bidx": Customer.id_number_bidx}


def _ids_by_column(session: Session, wanted: dict[str, set[str]]) -> dict[str, int]:
    """Map each blind index found to its customer id, looking each up in the columns it is
    wanted in (an index is keyed by its field, so a phone's never equals an ID number's)."""
    found: dict[str, int] = {}
    for name, column in _INDEX_COLUMNS.items():
        values = list(wanted.get(name, ()))
        for start in range(0, len(values), 500):
            rows = session.connection().execute(
                select(column, Customer.id).where(column.in_(values[start:start + 500])))
            for index, customer_id in rows:
                if index is not None and (name == "id_number_bidx" or index not in found):
                    found[index] = customer_id
    return found


def ids_by_identity_indexes(session: Session, *,
                            identities: Sequence[ProtectedIdentity]) -> dict[str, int]:
    """`ids_by_blind_index` for identities protected here: each index is looked up in its own
    column only (a third of the look-ups of an index whose field is not known)."""
    return _ids_by_column(session, {
        name: {value for identity in identities if (value := getattr(identity, name))}
        for name in _INDEX_COLUMNS})


def ids_by_blind_index(session: Session, *, indexes: Iterable[str]) -> dict[str, int]:
    """Map each known blind index (phone, ID number or e-mail) to its customer id."""
    wanted = {i for i in indexes if i}
    return _ids_by_column(session, dict.fromkeys(_INDEX_COLUMNS, wanted))


def create_customers(
    session: Session, *, identities: Sequence[ProtectedIdentity]
) -> dict[str, int]:
    """Store new customers (each with a distinct key); returns key -> customer id."""
    if not identities:
        return {}
    now = utcnow()
    ids = bulk_insert_ids(session, Customer,
                          [{**i.as_row(), "created_at": now} for i in identities])
    return {i.key: customer_id for i, customer_id in zip(identities, ids, strict=True) if i.key}


def find_customer(
    session: Session, *, actor: Actor, phone: str | None = None, id_number: str | None = None,
    email: str | None = None,
) -> Customer:
    """Look a customer up by ID number, phone or e-mail address (in any written form: an
    address in any letter case), under every key of the ring; the ID number wins when more
    than one is given and they name different customers."""
    actor.require("case.read")
    indexes = _indexes(
        current_keyring(),
        id_number=masking.normalise_id_number(id_number) if id_number else None,
        phone=masking.normalise_phone(phone) if phone else None,
        email=masking.normalise_email(email) if email else None)
    found = ids_by_blind_index(session, indexes=indexes)
    customer_id = next((found[i] for i in indexes if i in found), None)
    if customer_id is None:
        given = "phone" if phone else "id_number" if id_number else "email"
        raise NotFound("no customer with that phone, ID number or e-mail address",
                       field=given)
    customer = session.get(Customer, customer_id)
    assert customer is not None
    return customer


def reveal(session: Session, customer: Customer, *, actor: Actor, via: Via = DIRECT,
           case_reference: str | None = None) -> dict[str, str | None]:
    """Decrypted identity, for roles that may see personal data; recorded as one disclosure
    (`customers.disclosure`) naming the route `via`."""
    return reveal_many(session, [customer], actor=actor, via=via,
                       case_reference=case_reference)[customer.id]


def reveal_many(session: Session, customers: Sequence[Customer], *, actor: Actor, via: Via,
                subject: disclosure.Subject = "customer", case_reference: str | None = None,
                fields: Iterable[str] = (), detail: str = "") -> dict[int, dict[str, str | None]]:
    """The decrypted identities of `customers` (by id), shown together and recorded as one
    disclosure: the identity fields that had a value, plus `fields` shown with them."""
    actor.require("pii.read")
    ring = current_keyring()
    shown = {customer.id: _identity(ring, customer) for customer in customers}
    disclosure.record(
        session, actor=actor, subject=subject, via=via, case_reference=case_reference,
        customer_ids=shown, detail=detail,
        fields=[*fields, *(name for identity in shown.values()
                           for name, value in identity.items() if value is not None)])
    return shown


def _identity(ring: KeyRing, customer: Customer) -> dict[str, str | None]:
    return {
        "name": ring.decrypt(customer.name_enc, field="name") if customer.name_enc else None,
        "phone": ring.decrypt(customer.phone_enc, field="phone") if customer.phone_enc else None,
        "id_number": (ring.decrypt(customer.id_number_enc, field="id_number")
                      if customer.id_number_enc else None),
        "email": (ring.decrypt(customer.email_enc, field=EMAIL_FIELD)
                  if customer.email_enc else None),
    }


def _indexes(ring: KeyRing, *, id_number: str | None, phone: str | None,
             email: str | None) -> list[str]:
    """The blind indexes of normalised identity fields under every key of the ring, the ID
    number's first (it identifies better than a phone or an address)."""
    indexes: list[str] = []
    if id_number:
        indexes += ring.blind_indexes(id_number, field="id_number")
    if phone:
        indexes += ring.blind_indexes(phone, field="phone")
    if email:
        indexes += ring.blind_indexes(email, field=EMAIL_FIELD)
    return indexes


def _cleaned(clean: Callable[[str], str], value: str | None, *, field: str) -> str | None:
    """`value` in its normal form by `clean` (the rule intake applies too), or Invalid naming
    the field."""
    if not value:
        return None
    try:
        return clean(value)
    except ValueError as exc:
        raise Invalid(f"{field}: {exc}", field=field) from None


def find_or_create(session: Session, *, name: str | None, phone: str | None,
                   id_number: str | None, email: str | None = None) -> int:
    """The id of the customer with this ID number, phone or e-mail address (under any key of
    the ring), stored first when there is none. Raises Invalid naming the field of a malformed
    value (by the rule intake applies: an ID number must pass its checksum)."""
    phone = _cleaned(masking.clean_phone, phone, field="phone")
    id_number = _cleaned(masking.clean_id_number, id_number, field="id_number")
    email = _cleaned(masking.clean_email, email, field="email")
    if phone is None and id_number is None and email is None:
        raise Invalid("a phone, an ID number or an e-mail address is needed", field="phone")
    ring = current_keyring()
    indexes = _indexes(ring, id_number=id_number, phone=phone, email=email)
    found = ids_by_blind_index(session, indexes=indexes)
    for index in indexes:  # ID number first: it identifies better than a phone or an address
        if index in found:
            return found[index]
    identity = protect_identity(ring, name=name, phone=phone, id_number=id_number, email=email)
    return create_customers(session, identities=[identity])[identity.key or ""]
