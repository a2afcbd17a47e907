"""Tables of the problem library: root causes traced at closure (溯源整改), the known problems
(投诉问题库) and the cases linked to them, improvement actions with their pilot orgs, and staff
suggestions (建言献策) with the problems they address.

Texts staff type here (5W1H, descriptions, suggestions, review notes) are stored with personal
data masked, as the case timeline is: screens, exports and reports show them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class RootCause(Base):
    """Why a case happened, recorded by its handler at closure: one cause category of the
    fishbone (people, process, system, product, policy, environment) and the 5W1H."""

    __tablename__ = "root_cause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    category: Mapped[str] = mapped_column(String(12))  # people|process|system|product|…
    what: Mapped[str] = mapped_column(Text)  # what went wrong
    why: Mapped[str] = mapped_column(Text)  # why it went wrong (the cause itself)
    where: Mapped[str] = mapped_column(Text, default="")  # which process step, system, outlet
    when: Mapped[str] = mapped_column(Text, default="")  # when it happens
    who: Mapped[str] = mapped_column(Text, default="")  # which role (not a person's name)
    how: Mapped[str] = mapped_column(Text, default="")  # how it is to be fixed
    recorded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Problem(Base):
    """An entry of the known-problem library: a problem many cases may share."""

    __tablename__ = "problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    product: Mapped[str | None] = mapped_column(String(40))  # taxonomy product code
    category: Mapped[str | None] = mapped_column(String(40))  # taxonomy category code
    cause_category: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), index=True)  # open|fixing|fixed|closed
    fixed_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseProblem(Base):
    """A case linked to a known problem (a case may show several)."""

    __tablename__ = "case_problem"
    __table_args__ = (
        UniqueConstraint("case_id", "problem_id"),
        Index("ix_case_problem_problem_id", "problem_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    linked_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImprovementAction(Base):
    """What is changed to fix a problem, who owns it, where it was piloted and from when, and
    what it cost (CNY), so its measured effect stands beside its price."""

    __tablename__ = "improvement_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # planned|in_progress|done|cancelled
    started_on: Mapped[date | None] = mapped_column(Date)
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActionPilotOrg(Base):
    """An org where an improvement action was piloted (its effect is measured there against
    comparable orgs that were not)."""

    __tablename__ = "action_pilot_org"

    action_id: Mapped[int] = mapped_column(ForeignKey("improvement_action.id"),
                                           primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)


class Suggestion(Base):
    """An employee's improvement proposal (建言献策), reviewed by the improvement committee;
    an adopted one earns its author credit points."""

    __tablename__ = "suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(14), index=True)  # submitted|under_review|…
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    credit_points: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuggestionProblem(Base):
    """A problem a suggestion addresses."""

    __tablename__ = "suggestion_problem"

    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestion.id"), primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), primary_key=True)
