"""Pick lists for the workflow forms: who can work cases, and which orgs, in the viewer's scope.

Read-only and org-scoped through `orgs.service.in_scope`. The org feature has no user listing
yet; when it gets one (`orgs.service.list_users`), this module should call it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.permissions import allowed
from bankvoc.orgs.service import Actor


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    org_code: str
    org_name: str


@dataclass(frozen=True)
class OrgGroup:
    """People of one org, for an `<optgroup>`."""

    label: str
    people: list[Person]


def case_workers(session: Session, *, actor: Actor, within: str | None = None) -> list[Person]:
    """Active users of the actor's subtree whose roles may work cases, by org then name;
    only those of the org `within` (a code) and below it when given."""
    actor.require("case.read")
    stmt = (select(User).join(Org, Org.id == User.org_id)
            .where(org_service.in_scope(actor, User.org_id), User.active.is_(True))
            .order_by(Org.path, User.username))
    if within:
        root = session.scalar(select(Org).where(Org.code == within))
        if root is None:
            return []
        stmt = stmt.where(Org.path.startswith(root.path, autoescape=True))
    return [Person(u.username, u.display_name, u.org.code, u.org.name)
            for u in session.scalars(stmt) if allowed(frozenset(u.roles), "case.work")]


def by_org(people: list[Person]) -> list[OrgGroup]:
    groups: dict[str, OrgGroup] = {}
    for person in people:
        label = f"{person.org_name} ({person.org_code})"
        groups.setdefault(person.org_code, OrgGroup(label, [])).people.append(person)
    return list(groups.values())


def org_codes(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the orgs in the actor's scope, in tree order."""
    return [(org.code, org.name) for org in org_service.list_orgs(session, actor=actor)]
