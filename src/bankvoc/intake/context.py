"""What the intake stages may consult: the actor, configuration and batch look-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.settings import Settings
from bankvoc.customers.crypto import KeyRing
from bankvoc.nlp.grading import GradingRules
from bankvoc.nlp.keywords import TaxonomyClassifiers
from bankvoc.nlp.taxonomy import Taxonomy
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

if TYPE_CHECKING:
    from bankvoc.intake.draft import Draft


@dataclass(frozen=True)
class OrgRef:
    id: int
    code: str
    path: str


class OrgDirectory:
    """Every org by code and by name, read once per run (a bank has thousands at most)."""

    def __init__(self, session: Session) -> None:
        self._by_key: dict[str, OrgRef] = {}
        for org_id, code, name, path in session.execute(
            select(Org.id, Org.code, Org.name, Org.path).where(Org.active.is_(True))
        ):
            ref = OrgRef(org_id, code, path)
            self._by_key.setdefault(name, ref)
            self._by_key[code] = ref

    def find(self, key: str) -> OrgRef | None:
        return self._by_key.get(key.strip())


@dataclass
class IntakeContext:
    session: Session
    actor: Actor
    settings: Settings
    ring: KeyRing
    taxonomy: Taxonomy
    classifiers: TaxonomyClassifiers
    orgs: OrgDirectory
    now: datetime
    source_system: str
    default_channel: str | None = None
    # "content": a row without a source id is keyed by its content (files, re-runs are no-ops);
    # "unique": every such row is new (API calls without an idempotency key).
    implicit_source_id: str = "content"
    grading_rules: GradingRules = field(default_factory=GradingRules)
    # Look-ups filled per batch by the stages' prefetch steps.
    known_sources: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    batch_sources: dict[tuple[str, str], Draft] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    open_cases: dict[tuple[int, str], tuple[int, datetime]] = field(default_factory=dict)
    batch_new_cases: dict[tuple[str, str], Draft] = field(default_factory=dict)

    def start_batch(self) -> None:
        self.known_sources.clear()
        self.batch_sources.clear()
        self.customers.clear()
        self.open_cases.clear()
        self.batch_new_cases.clear()
