"""Staff suggestions (建言献策): any employee proposes an improvement, linked to the problems it
addresses; the improvement committee (consumer protection, `suggestion.review`) reviews it, and
an adopted one credits its author with points. Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.core.errors import Conflict, Forbidden, NotFound
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp import pii
from bankvoc.orgs.models import User
from bankvoc.orgs.service import Actor
from bankvoc.problems.enums import SuggestionStatus
from bankvoc.problems.models import Problem, Suggestion, SuggestionProblem
from bankvoc.problems.schemas import CreditRead, SuggestionCreate, SuggestionRead, SuggestionReview

# Points an adopted suggestion earns when the reviewer gives none.
DEFAULT_POINTS = 10
# A decision is final: only a suggestion still open may be reviewed.
OPEN = (SuggestionStatus.submitted.value, SuggestionStatus.under_review.value)


def submit(session: Session, *, actor: Actor, data: SuggestionCreate,
           now: datetime | None = None) -> Suggestion:
    actor.require("suggestion.create")
    ids = list(dict.fromkeys(data.problems))
    if ids:
        found = set(session.scalars(select(Problem.id).where(Problem.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no problem {', '.join(map(str, missing))}", field="problems")
    suggestion = Suggestion(author_id=actor.user_id, title=pii.mask_text(data.title),
                            text=pii.mask_text(data.text),
                            status=SuggestionStatus.submitted.value, credit_points=0,
                            created_at=now or utcnow())
    session.add(suggestion)
    session.flush()
    session.add_all(SuggestionProblem(suggestion_id=suggestion.id, problem_id=i) for i in ids)
    session.flush()
    return suggestion


def get(session: Session, *, actor: Actor, suggestion_id: int) -> Suggestion:
    """A suggestion: its author's own, or any one for a reviewer; another's is as good as
    absent."""
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or not (suggestion.author_id == actor.user_id
                                  or actor.can("suggestion.review")):
        raise NotFound(f"no suggestion {suggestion_id}", field="suggestion")
    return suggestion


def list_suggestions(session: Session, *, actor: Actor, status: SuggestionStatus | None = None,
                     limit: int = 200) -> list[Suggestion]:
    """Reviewers see every suggestion, anyone else their own; newest first."""
    actor.require("suggestion.create")
    stmt = select(Suggestion)
    if not actor.can("suggestion.review"):
        stmt = stmt.where(Suggestion.author_id == actor.user_id)
    if status is not None:
        stmt = stmt.where(Suggestion.status == status.value)
    return list(session.scalars(stmt.order_by(Suggestion.created_at.desc(),
                                              Suggestion.id.desc()).limit(limit)))


def review(session: Session, *, actor: Actor, suggestion_id: int, data: SuggestionReview,
           now: datetime | None = None) -> Suggestion:
    """Take a suggestion under review, adopt it (crediting its author) or reject it (with
    the reason). Nobody reviews their own."""
    actor.require("suggestion.review")
    suggestion = get(session, actor=actor, suggestion_id=suggestion_id)
    if suggestion.author_id == actor.user_id:
        raise Forbidden("nobody reviews their own suggestion")
    if suggestion.status not in OPEN:
        raise Conflict(f"suggestion {suggestion_id} is {suggestion.status} already",
                       field="status")
    suggestion.status = data.status.value
    suggestion.reviewer_id = actor.user_id
    suggestion.review_note = pii.mask_text(data.note) if data.note else None
    suggestion.reviewed_at = now or utcnow()
    if data.status == SuggestionStatus.adopted:
        suggestion.credit_points = DEFAULT_POINTS if data.credit_points is None \
            else data.credit_points
    session.flush()
    return suggestion


def credits(session: Session, *, actor: Actor) -> list[CreditRead]:
    """Adopted suggestions and points per employee, most points first (the reviewers' view;
    anyone else sees their own line)."""
    actor.require("suggestion.create")
    adopted = Suggestion.status == SuggestionStatus.adopted.value
    stmt = (select(User.username, func.count(), func.sum(Suggestion.credit_points))
            .join(Suggestion, Suggestion.author_id == User.id).where(adopted)
            .group_by(User.username))
    if not actor.can("suggestion.review"):
        stmt = stmt.where(User.id == actor.user_id)
    rows = [CreditRead(user=name, adopted=int(count), points=int(points or 0))
            for name, count, points in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r.points, r.user))


def to_read(session: Session, suggestions: Sequence[Suggestion]) -> list[SuggestionRead]:
    ids = [s.id for s in suggestions]
    problems: dict[int, list[int]] = {i: [] for i in ids}
    for suggestion_id, problem_id in session.execute(
            select(SuggestionProblem.suggestion_id, SuggestionProblem.problem_id)
            .where(SuggestionProblem.suggestion_id.in_(ids))
            .order_by(SuggestionProblem.problem_id)):
        problems[suggestion_id].append(problem_id)
    users = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(
        {s.author_id for s in suggestions} | {s.reviewer_id for s in suggestions
                                              if s.reviewer_id is not None})))}
    return [SuggestionRead(id=s.id, author=users[s.author_id], title=s.title, text=s.text,
                           status=SuggestionStatus(s.status), problems=problems[s.id],
                           reviewer=users.get(s.reviewer_id) if s.reviewer_id else None,
                           review_note=s.review_note, reviewed_at=s.reviewed_at,
                           credit_points=s.credit_points, created_at=s.created_at)
            for s in suggestions]
