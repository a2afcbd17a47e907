"""Who an alarm goes to: the escalation chain's levels resolved to people.

- handler: the case's assignee, else its first responder, else the team leads of its queue;
- team_lead: the team leads of the handling org (the case's own org when not routed), else of
  the nearest org above it that has one;
- branch_manager: the branch managers of the case's org, else of the nearest org above;
- head_office_consumer_protection: the consumer-protection officers (cpo) of the head office.

The directory is read once per sweep: a bank has thousands of staff, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.orgs.models import Org, User

_ROLES_BY_LEVEL = {"team_lead": "team_lead", "branch_manager": "branch_manager"}


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    email: str | None
    mobile: str | None


@dataclass(frozen=True)
class CaseParties:
    """What the directory needs to know of a case."""

    org_id: int
    handling_org_id: int | None
    assignee_id: int | None
    first_responder_id: int | None


class Directory:
    def __init__(self, session: Session) -> None:
        self._parent: dict[int, int | None] = dict(
            session.execute(select(Org.id, Org.parent_id)).all())
        self._people: dict[int, Person] = {}
        self._by_org_role: dict[tuple[int, str], list[Person]] = defaultdict(list)
        for user in session.scalars(select(User).where(User.active.is_(True))):
            person = Person(user.id, user.username, user.email, user.mobile)
            self._people[user.id] = person
            for role in user.roles:
                self._by_org_role[(user.org_id, role)].append(person)
        roots = [org_id for org_id, parent in self._parent.items() if parent is None]
        self._head_office_cpo = [p for org_id in roots
                                 for p in self._by_org_role.get((org_id, "cpo"), [])]

    def person(self, user_id: int | None) -> Person | None:
        return None if user_id is None else self._people.get(user_id)

    def _nearest(self, org_id: int | None, role: str) -> list[Person]:
        seen: set[int] = set()
        while org_id is not None and org_id not in seen:
            seen.add(org_id)
            found = self._by_org_role.get((org_id, role))
            if found:
                return found
            org_id = self._parent.get(org_id)
        return []


    def recipients(self, to: str, case: CaseParties) -> list[Person]:
        """The people level `to` of the chain names for the case (none when nobody holds it)."""
        if to == "handler":
            person = self.person(case.assignee_id) or self.person(case.first_responder_id)
            if person is not None:
                return [person]
            return self._nearest(case.handling_org_id or case.org_id, "team_lead")
        if to == "head_office_consumer_protection":
            return self._head_office_cpo
        role = _ROLES_BY_LEVEL[to]
        start = case.handling_org_id if to == "team_lead" and case.handling_org_id else case.org_id
        return self._nearest(start, role)
