"""The record of every view or export of unmasked personal data (PIPL arts. 28 and 51: access
to sensitive personal information is controlled and traceable).

Each path that lets unmasked personal data leave the system (a revealed dossier, a customer's
identity, a case's channel senders, an attachment's file, a call's transcript) writes one
`pii_access` row here, in the transaction of the look itself: who (the user, and the API
token when one was used), when, what (which case, which customers, the names of the fields
shown, never their values) and through which route (`Via`). Masked views write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import PiiAccess
from bankvoc.orgs.service import Actor

ViaKind = Literal["api", "page", "cli", "job", "service"]
Subject = Literal["dossier", "customer", "senders", "attachment", "transcript"]


@dataclass(frozen=True)
class Via:
    """Through which route the data left: the kind of interface and the route itself
    ("GET /api/v1/cases/{reference}/dossier", "bankvoc cases dossier")."""

    kind: ViaKind
    route: str

    @classmethod
    def cli(cls, command: str) -> Via:
        return cls("cli", f"bankvoc {command}")


# A service called directly (scripts, tests): said so, rather than left out.
DIRECT = Via("service", "")


def record(session: Session, *, actor: Actor, subject: Subject, via: Via,
           case_reference: str | None = None, customer_ids: Iterable[int] = (),
           fields: Iterable[str] = (), detail: str = "",
           now: datetime | None = None) -> PiiAccess:
    """Write down one disclosure; the caller has checked that the actor may see it."""
    row = PiiAccess(at=now or utcnow(), user_id=actor.user_id, username=actor.username[:64],
                    token_id=actor.token_id, via=via.kind, route=via.route[:200],
                    subject=subject, case_reference=case_reference,
                    customer_ids=sorted(set(customer_ids)), fields=sorted(set(fields)),
                    detail=detail[:200])
    session.add(row)
    return row


def accesses(session: Session, *, case_reference: str | None = None,
             user_id: int | None = None) -> list[PiiAccess]:
    """The record, oldest first (of one case, or one user)."""
    query = select(PiiAccess).order_by(PiiAccess.id)
    if case_reference is not None:
        query = query.where(PiiAccess.case_reference == case_reference)
    if user_id is not None:
        query = query.where(PiiAccess.user_id == user_id)
    session.flush()
    return list(session.scalars(query))
