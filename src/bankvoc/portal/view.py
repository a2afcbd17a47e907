"""What a customer sees of their own case: its stage in plain words, its dates and deadline,
the decision or refusal told to them, and the steps that concern them; never internal notes,
proposals, approvals, handlers, escalations or other cases, and personal data only masked.

Built from a whitelist: a timeline event reaches the customer only if its type is listed in
`SHOWN`, and only with the text the workflow records for the customer (the decision's summary,
the reason of a refusal or an extension, the customer's own supplement). Those texts are kept
masked on the timeline, as every text there is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Attachment, Case, CaseEvent
from bankvoc.portal.models import PortalSession
from bankvoc.portal.service import SUPPLEMENT_EVENT, accepts_supplements

# Case status -> the customer's stage.
STAGES = {
    "received": "received",
    "accepted": "in_progress", "assigned": "in_progress", "investigating": "in_progress",
    "solution_proposed": "in_progress",
    "resolved": "decided",
    "closed": "closed", "archived": "closed",
    "not_accepted": "not_accepted", "withdrawn": "withdrawn", "merged": "merged",
}
# The path of a case that runs its course, as the page draws it.
PATH = ("received", "in_progress", "decided", "closed")
# Timeline event type -> (what the customer is told happened, the data key of the text they
# may read, if any).
SHOWN: dict[str, tuple[str, str | None]] = {
    "received": ("received", None),
    "accept": ("accepted", None),
    "transfer": ("transferred", None),
    "extend": ("extended", "reason"),
    "pause": ("paused", None),
    "resume": ("resumed", None),
    "resolve": ("decided", "summary"),
    "refuse": ("not_accepted", "reason"),
    "close": ("closed", None),
    "reopen": ("reopened", None),
    "withdraw": ("withdrawn", None),
    "merge": ("merged", None),
    SUPPLEMENT_EVENT: ("supplement", "text"),
}


@dataclass(frozen=True)
class Happening:
    at: datetime
    what: str
    text: str | None = None
    files: int = 0


@dataclass(frozen=True)
class PathStep:
    stage: str
    done: bool
    current: bool


@dataclass(frozen=True)
class CaseView:
    reference: str
    kind: str
    stage: str
    received_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    paused: bool
    amount_text: str | None
    text: str
    name_masked: str | None
    phone_masked: str | None
    decision: str | None
    decided_at: datetime | None
    refusal: str | None
    files: int
    path: list[PathStep]
    happenings: list[Happening]
    accepts_supplements: bool
    expires_at: datetime


def _path(stage: str) -> list[PathStep]:
    if stage not in PATH:
        return []
    reached = PATH.index(stage)
    return [PathStep(s, i <= reached, i == reached) for i, s in enumerate(PATH)]


def case_view(session: Session, *, portal_session: PortalSession) -> CaseView:
    """The session's case, as its customer sees it (nothing of any other case)."""
    case = session.get_one(Case, portal_session.case_id)
    happenings: list[Happening] = []
    decision = decided_at = refusal = None
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.seq)):
        shown = SHOWN.get(event.type)
        if shown is None:
            continue
        what, key = shown
        text = event.data.get(key) if key else None
        text = text if isinstance(text, str) and text else None
        files = event.data.get("files") if event.type == SUPPLEMENT_EVENT else 0
        happenings.append(Happening(event.at, what, text, files if isinstance(files, int)
                                    else 0))
        if what == "decided":
            decision, decided_at = text, event.at
        elif what == "not_accepted":
            refusal = text
        elif what == "reopened":
            decision = decided_at = None
    files = session.scalar(select(func.count(Attachment.id))
                           .where(Attachment.case_id == case.id)) or 0
    customer = case.customer
    stage = STAGES.get(case.status, "in_progress")
    return CaseView(
        reference=case.reference, kind=case.kind, stage=stage, received_at=case.received_at,
        due_at=case.due_at if stage in ("received", "in_progress") else None,
        closed_at=case.closed_at, paused=case.paused_since is not None,
        amount_text=f"{case.amount:,.2f}" if case.amount is not None else None,
        text=case.text_masked, name_masked=customer.name_masked if customer else None,
        phone_masked=customer.phone_masked if customer else None,
        decision=decision, decided_at=decided_at, refusal=refusal, files=files,
        path=_path(stage), happenings=list(reversed(happenings)),
        accepts_supplements=accepts_supplements(case), expires_at=portal_session.expires_at)
