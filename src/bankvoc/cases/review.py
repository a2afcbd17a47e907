"""The review queue: cases whose automatic product or category decision was unsure, and the
handlers' corrections, which are kept as training data for the next model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.events import append_event
from bankvoc.cases.models import Case, LabelCorrection
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs.service import Actor

REVIEWED_FIELDS = ("product", "category")


def needs_review(annotations: dict[str, dict[str, object]], threshold: float) -> bool:
    """True when a reviewed field was decided automatically with less than `threshold`."""
    for name in REVIEWED_FIELDS:
        decision = annotations.get(name)
        if decision is None or decision.get("source") in ("input", "handler"):
            continue
        confidence = decision.get("confidence")
        if isinstance(confidence, int | float) and confidence < threshold:
            return True
    return False


def correct(session: Session, *, actor: Actor, case: Case, field: str, value: str) -> Case:
    """Set a product or category by hand; the correction is recorded and kept for training."""
    actor.require("case.correct")
    if field not in REVIEWED_FIELDS:
        raise Invalid(f"only {', '.join(REVIEWED_FIELDS)} can be corrected", field="field")
    term = load_taxonomy().find(field, value)
    if term is None:
        raise Invalid(f"{value!r} is not a {field} of the taxonomy", field="value")
    old = getattr(case, field)
    session.add(LabelCorrection(case_id=case.id, field=field, old_value=old, new_value=term.code,
                                text=case.text_masked, corrected_by=actor.user_id))
    setattr(case, field, term.code)
    case.annotations = {**case.annotations, field: {
        "value": term.code, "confidence": 1.0, "reason": f"corrected by {actor.username}",
        "source": "handler"}}
    # Still in the queue while the other field remains an unsure automatic decision.
    case.needs_review = needs_review(case.annotations, get_settings().review_confidence)
    session.flush()
    append_event(session, case=case, type="corrected", actor_user_id=actor.user_id,
                 data={"field": field, "from": old, "to": term.code})
    return case


@dataclass(frozen=True)
class TrainingExample:
    text: str
    label: str


def training_examples(session: Session, *, actor: Actor, field: str) -> Iterator[TrainingExample]:
    """The latest correction of each case for `field`, within the actor's scope."""
    actor.require("model.manage")
    if field not in REVIEWED_FIELDS:
        raise Invalid(f"only {', '.join(REVIEWED_FIELDS)} are corrected", field="field")
    rows = session.execute(
        select(LabelCorrection.case_id, LabelCorrection.text, LabelCorrection.new_value)
        .join(Case, Case.id == LabelCorrection.case_id)
        .where(LabelCorrection.field == field, cases_service.visible(actor))
        .order_by(LabelCorrection.case_id, LabelCorrection.id))
    latest: dict[int, TrainingExample] = {}
    for case_id, text, label in rows:
        latest[case_id] = TrainingExample(text, label)
    yield from latest.values()
