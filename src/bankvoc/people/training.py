"""Training sessions, their attendees' assessment results and the pass-rate KPI. Never commits.

A training file has one row per attendee: the session's code, topic, date, trainer, org (its
code), the QA rule categories it covered (separated by `;`, `,` or `|`), its pass mark (default
60), then the attendee's username and assessment score (empty: attended, not assessed). A
session is keyed by its code and a result by (session, attendee), so a re-import stores nothing
twice; a corrected score updates the result.

Pass rate (培训考核通过率) = assessed attendees scoring at least the session's pass mark ÷
assessed attendees, for sessions held in the month in the org's subtree; target ≥ 90%.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.contact import rules as qa_rules
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.rowimport import ImportCounts, OnReject
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.people.models import DEFAULT_PASS_MARK, TrainingResult, TrainingSession

PASS_RATE_TARGET = 90.0  # %
COLUMNS = ("session", "topic", "date", "trainer", "org", "categories", "pass_mark",
           "attendee", "score")
_SPLIT = re.compile(r"[;,|，；、\s]+")

Outcome = Literal["accepted", "updated", "unchanged"]


@dataclass(frozen=True)
class TrainingRow:
    session: str
    topic: str
    day: date
    trainer: str
    org: str
    categories: tuple[str, ...]
    pass_mark: float
    attendee: str
    score: float | None


def _text(values: dict[str, Any], name: str, *, required: bool = True, limit: int = 64) -> str:
    raw = values.get(name)
    text = "" if raw is None else str(raw).strip()
    if required and not text:
        raise Invalid(f"{name}: missing", field=name)
    if len(text) > limit:
        raise Invalid(f"{name}: longer than {limit} characters", field=name)
    return text


def _number(values: dict[str, Any], name: str) -> float | None:
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        number = float(str(raw).strip())
    except ValueError:
        raise Invalid(f"{name}: {raw!r} is not a number", field=name) from None
    if not 0 <= number <= 100:
        raise Invalid(f"{name}: {number:g} is not between 0 and 100", field=name)
    return number


def _day(values: dict[str, Any]) -> date:
    raw = values.get("date")
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(values, "date")
    try:
        return date.fromisoformat(text.replace("/", "-")[:10])
    except ValueError:
        raise Invalid(f"date: {text!r} is not a date (YYYY-MM-DD)", field="date") from None


def parse(values: dict[str, Any], *, known_categories: Iterable[str] | None = None
          ) -> TrainingRow:
    """One row of a training file, or Invalid naming the field and the reason."""
    values = {str(k).strip().lower(): v for k, v in values.items() if k is not None}
    known = set(known_categories if known_categories is not None
                else (r.category for r in qa_rules.load_ruleset().rules))
    categories = tuple(c for c in _SPLIT.split(_text(values, "categories", required=False,
                                                      limit=500)) if c)
    for category in categories:
        if category not in known:
            raise Invalid(f"categories: {category!r} is not a QA rule category (known: "
                          f"{', '.join(sorted(known))})", field="categories")
    pass_mark = _number(values, "pass_mark")
    return TrainingRow(session=_text(values, "session"), topic=_text(values, "topic", limit=200),
                       day=_day(values), trainer=_text(values, "trainer"),
                       org=_text(values, "org", limit=32), categories=categories,
                       pass_mark=DEFAULT_PASS_MARK if pass_mark is None else pass_mark,
                       attendee=_text(values, "attendee"), score=_number(values, "score"))


def store(session: Session, *, actor: Actor, row: TrainingRow) -> Outcome:
    """Store a row's session (once, by its code) and its attendee's result (once per session);
    a session's details must match what is stored, a changed score updates the result."""
    org = session.scalar(select(Org).where(Org.code == row.org))
    if org is None:
        raise Invalid(f"org: no org with code {row.org!r}", field="org")
    if not org_service.org_visible(actor, org):
        raise Invalid(f"org: {row.org} is outside your organisation", field="org")
    found = session.scalar(select(TrainingSession).where(TrainingSession.code == row.session))
    if found is None:
        found = TrainingSession(code=row.session, topic=row.topic, session_date=row.day,
                                trainer=row.trainer, org_id=org.id,
                                categories=list(row.categories), pass_mark=row.pass_mark)
        session.add(found)
        session.flush()
    else:
        if not org_service.org_visible(actor, org_service.get_org_by_id(
                session, org_id=found.org_id)):
            raise Invalid(f"session: {row.session} belongs to an org outside yours",
                          field="session")
        for name, stored, given in (("topic", found.topic, row.topic),
                                    ("date", found.session_date, row.day),
                                    ("trainer", found.trainer, row.trainer),
                                    ("org", found.org_id, org.id),
                                    ("categories", list(found.categories),
                                     list(row.categories)),
                                    ("pass_mark", found.pass_mark, row.pass_mark)):
            if stored != given:
                raise Invalid(f"{name}: differs from session {row.session}'s earlier rows",
                              field=name)
    result = session.scalar(select(TrainingResult).where(
        TrainingResult.session_id == found.id, TrainingResult.attendee == row.attendee))
    if result is None:
        session.add(TrainingResult(session_id=found.id, attendee=row.attendee, score=row.score))
        session.flush()
        return "accepted"
    if result.score == row.score:
        return "unchanged"
    result.score = row.score
    session.flush()
    return "updated"


def import_rows(session: Session, *, actor: Actor,
                rows: Iterable[tuple[int, dict[str, Any], str | None]],
                on_reject: OnReject) -> ImportCounts:
    """Store every good row (row number, values, read error) and tell `on_reject` the row,
    field and reason of each refused one; each row in a savepoint of its own."""
    actor.require("training.import")
    counts = ImportCounts()
    known = {r.category for r in qa_rules.load_ruleset().rules}
    for number, values, error in rows:
        if error is not None:
            counts.rejected += 1
            on_reject(number, "row", error)
            continue
        try:
            row = parse(values, known_categories=known)
            with session.begin_nested():
                outcome = store(session, actor=actor, row=row)
        except BankvocError as exc:
            counts.rejected += 1
            on_reject(number, exc.field, exc.message)
            continue
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


# --- reading ---------------------------------------------------------------------------------

@dataclass
class SessionRow:
    session: TrainingSession
    org: Org
    attendees: int
    assessed: int
    passed: int

    @property
    def pass_rate(self) -> float | None:
        return None if not self.assessed else 100.0 * self.passed / self.assessed

    def as_dict(self) -> dict[str, Any]:
        s = self.session
        return {"session": s.code, "topic": s.topic, "date": s.session_date.isoformat(),
                "trainer": s.trainer, "org": self.org.code, "categories": list(s.categories),
                "pass_mark": s.pass_mark, "attendees": self.attendees,
                "assessed": self.assessed, "passed": self.passed,
                "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 2)}


@dataclass
class PassRate:
    month: str
    org: str
    sessions: list[SessionRow]
    target: float = PASS_RATE_TARGET

    @property
    def assessed(self) -> int:
        return sum(s.assessed for s in self.sessions)

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.sessions)

    @property
    def value(self) -> float | None:
        return None if not self.assessed else 100.0 * self.passed / self.assessed

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "org": self.org, "assessed": self.assessed,
                "passed": self.passed,
                "pass_rate": None if self.value is None else round(self.value, 2),
                "target": self.target, "met": self.met,
                "sessions": [s.as_dict() for s in self.sessions]}


def month_range(month: str, *, field: str = "month") -> tuple[date, date, str]:
    try:
        start = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise Invalid(f"{field}: {month!r} is not a month (YYYY-MM)", field=field) from None
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end, start.strftime("%Y-%m")


def pass_rate(session: Session, *, actor: Actor, month: str, org: str | None = None
              ) -> PassRate:
    """The month's sessions in the actor's scope (or `org`'s subtree) and their pass rate."""
    actor.require("people.read")
    start, end, label = month_range(month)
    root = (org_service.get_org_by_id(session, org_id=actor.org_id) if org is None
            else org_service.get_org_by_code(session, code=org))
    if not org_service.org_visible(actor, root):
        raise Invalid(f"org: {root.code} is outside your organisation", field="org")
    query = (select(TrainingSession, Org).join(Org, Org.id == TrainingSession.org_id)
             .where(org_service.in_scope(actor, TrainingSession.org_id),
                    Org.path.startswith(root.path, autoescape=True),
                    TrainingSession.session_date >= start, TrainingSession.session_date < end)
             .order_by(TrainingSession.session_date, TrainingSession.code))
    rows: list[SessionRow] = []
    for found in session.execute(query):
        training, unit = found[0], found[1]
        results = list(session.scalars(select(TrainingResult).where(
            TrainingResult.session_id == training.id)))
        assessed = [r for r in results if r.score is not None]
        rows.append(SessionRow(training, unit, len(results), len(assessed),
                               sum(1 for r in assessed if r.passed(training.pass_mark))))
    return PassRate(label, root.code, rows)
