"""The customer is told at every step: the workflow steps that owe the customer a message,
and the message (a notification template) each one sends through the outbox.

Sent by SMS to the customer's phone on file (by e-mail to a customer known only by their
address), in the case's language; each step's message is
keyed by the case and the version the step made, so a retried request never sends it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bankvoc.cases.models import Case
from bankvoc.cases.workflow.table import Action
from bankvoc.customers import service as customer_service
from bankvoc.customers.models import Customer
from bankvoc.notify import service as notify
from bankvoc.notify.service import Recipient

Context = Callable[[Case, dict[str, Any], dt.datetime], dict[str, Any]]


def _base(case: Case) -> dict[str, Any]:
    return {"reference": case.reference, "received_at": case.received_at,
            "due_date": case.due_at}


def _accepted(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return _base(case)


def _not_accepted(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**_base(case), "reason": data["reason"]}


def _transferred(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    org = case.handling_org
    return {**_base(case), "org_name": org.name if org else data["to_org"]}


def _extended(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**_base(case), "reason": data["reason"]}


def _paused(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**_base(case), "paused_at": now, "reason": data["reason"]}


def _decision(case: Case, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**_base(case), "decided_at": now, "decision": data["summary"]}


# Step -> the templates it sends, in order (a decision is followed by the appeal routes).
MESSAGES: dict[Action, list[tuple[str, Context]]] = {
    Action.accept: [("accepted", _accepted)],
    Action.refuse: [("not_accepted", _not_accepted), ("appeal_route", _accepted)],
    Action.transfer: [("transferred", _transferred)],
    Action.extend: [("extended", _extended)],
    Action.pause: [("paused", _paused)],
    Action.resume: [("resumed", _accepted)],
    Action.resolve: [("decision", _decision), ("appeal_route", _accepted)],
}


def tell_customer(session: Session, *, case: Case, action: Action, data: dict[str, Any],
                  now: dt.datetime) -> int:
    """Queue the messages `action` owes the customer; returns how many were queued (none when
    the case has neither a phone nor an e-mail address on file)."""
    messages = MESSAGES.get(action)
    customer = case.customer
    # Praise has no deadline and is answered with thanks, not with the complaint letters.
    # The SLA policy says whether the customer is told of an extension or a pause.
    if (not messages or case.kind == "praise" or customer is None
            or data.get("tell_customer") is False):
        return 0
    found = address_of(customer)
    if found is None:
        return 0
    channel, address = found
    language = "en" if case.language == "en" else "zh"
    queued = 0
    for template, context in messages:
        queued_row = notify.enqueue(
            session, template=template, channel=channel,
            recipient=Recipient.customer(address, ref=str(customer.id)), language=language,
            context={**context(case, data, now), "customer_name": customer.name_masked},
            case_id=case.id, dedupe_key=f"case:{case.id}:v{case.version}:{template}", now=now)
        queued += queued_row is not None
    return queued


def address_of(customer: Customer) -> tuple[str, str] | None:
    """The customer's mobile by SMS, else their e-mail address (a customer who wrote in)."""
    ring = customer_service.current_keyring()
    if customer.phone_enc:
        return "sms", ring.decrypt(customer.phone_enc, field="phone")
    if customer.email_enc:
        return "email", ring.decrypt(customer.email_enc, field=customer_service.EMAIL_FIELD)
    return None
