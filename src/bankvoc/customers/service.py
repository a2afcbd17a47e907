"""Customers: encrypted identity, look-up by blind index, bulk resolution for intake."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bankvoc.core.db import bulk_insert_ids
from bankvoc.core.errors import Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.customers.crypto import KeyRing, keyring
from bankvoc.customers.models import Customer
from bankvoc.orgs.service import Actor


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

    @property
    def key(self) -> str | None:
        """What identifies the customer: the ID number first, else the phone."""
        return self.id_number_bidx or self.phone_bidx

    def as_row(self) -> dict[str, Any]:
        return {
            "name_enc": self.name_enc, "phone_enc": self.phone_enc,
            "id_number_enc": self.id_number_enc, "phone_bidx": self.phone_bidx,
            "id_number_bidx": self.id_number_bidx, "name_masked": self.name_masked,
            "phone_masked": self.phone_masked, "id_number_masked": self.id_number_masked,
            "birth_year": self.birth_year, "flags": [],
        }


def protect_identity(
    ring: KeyRing, *, name: str | None, phone: str | None, id_number: str | None
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
    )


def ids_by_blind_index(session: Session, *, indexes: Iterable[str]) -> dict[str, int]:
    """Map each known blind index (phone or ID number) to its customer id."""
    wanted = list({i for i in indexes if i})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = session.execute(
            select(Customer.id, Customer.phone_bidx, Customer.id_number_bidx).where(
                or_(Customer.phone_bidx.in_(chunk), Customer.id_number_bidx.in_(chunk))
            )
        )
        for cid, phone_bidx, id_bidx in rows:
            # An ID number identifies better than a phone: let it win any tie.
            if phone_bidx and phone_bidx not in found:
                found[phone_bidx] = cid
            if id_bidx:
                found[id_bidx] = cid
    return found


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
    session: Session, *, actor: Actor, phone: str | None = None, id_number: str | None = None
) -> Customer:
    """Look a customer up by phone or ID number, under every key of the ring."""
    actor.require("case.read")
    ring = current_keyring()
    indexes: list[str] = []
    if phone:
        indexes += ring.blind_indexes(masking.normalise_phone(phone), field="phone")
    if id_number:
        indexes += ring.blind_indexes(masking.normalise_id_number(id_number), field="id_number")
    found = ids_by_blind_index(session, indexes=indexes)
    if not found:
        raise NotFound("no customer with that phone or ID number", field="phone")
    customer = session.get(Customer, next(iter(found.values())))
    assert customer is not None
    return customer


def reveal(customer: Customer, *, actor: Actor) -> dict[str, str | None]:
    """Decrypted identity, for roles that may see personal data."""
    actor.require("pii.read")
    ring = current_keyring()
    return {
        "name": ring.decrypt(customer.name_enc, field="name") if customer.name_enc else None,
        "phone": ring.decrypt(customer.phone_enc, field="phone") if customer.phone_enc else None,
        "id_number": (ring.decrypt(customer.id_number_enc, field="id_number")
                      if customer.id_number_enc else None),
    }


def find_or_create(session: Session, *, name: str | None, phone: str | None,
                   id_number: str | None) -> int:
    """The id of the customer with this ID number or phone (under any key of the ring),
    stored first when there is none. Raises Invalid naming the field of a malformed value."""
    ring = current_keyring()
    phone = masking.normalise_phone(phone) if phone else None
    id_number = masking.normalise_id_number(id_number) if id_number else None
    if phone is not None and not masking.valid_phone(phone):
        raise Invalid("not a mainland mobile or landline number", field="phone")
    if id_number is not None and not masking.valid_id_number(id_number):
        raise Invalid("not a valid ID number", field="id_number")
    if phone is None and id_number is None:
        raise Invalid("a phone or an ID number is needed", field="phone")
    indexes: list[str] = []
    if id_number:
        indexes += ring.blind_indexes(id_number, field="id_number")
    if phone:
        indexes += ring.blind_indexes(phone, field="phone")
    found = ids_by_blind_index(session, indexes=indexes)
    for index in indexes:  # ID number first: it identifies better than a phone
        if index in found:
            return found[index]
    identity = protect_identity(ring, name=name, phone=phone, id_number=id_number)
    return create_customers(session, identities=[identity])[identity.key or ""]
