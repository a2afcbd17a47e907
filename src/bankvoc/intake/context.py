"""What the intake stages may consult.

`StageContext` is what the stages that need no database may use; `IntakeContext` adds the
session and the per-batch look-ups that the database stages fill in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases.workflow.config import WorkflowConfig, load_config
from bankvoc.core import configstore
from bankvoc.core.settings import Settings
from bankvoc.customers.crypto import KeyRing, keyring
from bankvoc.nlp.grading import GradingRules, load_grading_rules
from bankvoc.nlp.keywords import KeywordClassifier, classifier_for
from bankvoc.nlp.pipeline import default_matcher, default_sentiment
from bankvoc.nlp.sentiment import SentimentScorer
from bankvoc.nlp.similarity import DuplicateMatcher
from bankvoc.nlp.taxonomy import Taxonomy, load_taxonomy
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

if TYPE_CHECKING:
    from bankvoc.intake.draft import Draft


@dataclass(frozen=True)
class OrgRef:
    id: int
    code: str
    path: str


@dataclass
class OrgDirectory:
    """Every active org by code and by name, read once per run (a bank has thousands at most)."""

    by_key: dict[str, OrgRef]

    @classmethod
    def load(cls, session: Session) -> OrgDirectory:
        by_key: dict[str, OrgRef] = {}
        for org_id, code, name, path in session.execute(
            select(Org.id, Org.code, Org.name, Org.path).where(Org.active.is_(True))
        ):
            ref = OrgRef(org_id, code, path)
            by_key.setdefault(name, ref)
            by_key[code] = ref
        return cls(by_key)

    def find(self, key: str) -> OrgRef | None:
        return self.by_key.get(key.strip())

    @cached_property
    def by_id(self) -> dict[int, OrgRef]:
        return {ref.id: ref for ref in self.by_key.values()}

    @cached_property
    def paths(self) -> dict[str, str]:
        """Materialised path by org code."""
        return {ref.code: ref.path for ref in self.by_key.values()}


@dataclass(frozen=True)
class OpenCase:
    case_id: int
    text_hash: str
    text_masked: str
    received_at: datetime


@dataclass
class StageContext:
    actor: Actor
    settings: Settings
    orgs: OrgDirectory
    now: datetime
    source_system: str
    default_channel: str | None = None
    # "content": a row without a source id is keyed by its content (files, re-runs are no-ops);
    # "unique": every such row is new (API calls without an idempotency key).
    implicit_source_id: str = "content"
    grading_rules: GradingRules = field(default_factory=load_grading_rules)
    # The trained model active for each field (product, category, sentiment, duplicates);
    # fields without one use the shipped lexicons and rules. Sent to worker processes as is.
    models: dict[str, Any] = field(default_factory=dict)
    model_refs: dict[str, str] = field(default_factory=dict)  # field -> NAME@VERSION
    # The versions of configuration in force when the context was made (taxonomy, workflow):
    # one run, and its worker processes, use the same ones throughout.
    config: configstore.Snapshot = field(default_factory=configstore.current)

    # Derived helpers, compiled once per process and configuration.
    @property
    def ring(self) -> KeyRing:
        return keyring(self.settings.effective_pii_key)

    @property
    def workflow(self) -> WorkflowConfig:
        """The workflow configuration in force (cached by version, or by file)."""
        return load_config(snapshot=self.config)

    @property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(snapshot=self.config)

    @property
    def sentiment(self) -> SentimentScorer:
        trained: SentimentScorer | None = self.models.get("sentiment")
        return trained or default_sentiment()

    @property
    def classifier(self) -> KeywordClassifier:
        return classifier_for(self.taxonomy)

    def pure(self) -> StageContext:
        """Just the plain data, to hand to a worker process (no session, no caches)."""
        return StageContext(**{f.name: getattr(self, f.name) for f in fields(StageContext)})


@dataclass
class IntakeContext(StageContext):
    session: Session | None = None
    # Look-ups filled per batch by the database stages' prefetch steps.
    # (source system, source id) -> (content hash, case id, accepted | merged)
    known_sources: dict[tuple[str, str], tuple[str, int, str]] = field(default_factory=dict)
    batch_sources: dict[tuple[str, str], Draft] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    # customer id -> their open cases within the window; customer key -> new drafts of theirs
    open_cases: dict[int, list[OpenCase]] = field(default_factory=dict)
    # customer id -> receipt times of their cases; (local day, similar key) -> cases that day
    recent_receipts: dict[int, list[datetime]] = field(default_factory=dict)
    same_text_on_day: dict[tuple[str, str], int] = field(default_factory=dict)
    # Whether this batch's customers' open cases and receipt times are loaded (one query
    # fills both, for whichever of dedupe and contextual grading asks first).
    history_loaded: bool = False
    batch_new_cases: dict[str, list[Draft]] = field(default_factory=dict)

    @property
    def duplicate_matcher(self) -> DuplicateMatcher:
        trained: DuplicateMatcher | None = self.models.get("duplicates")
        return trained or default_matcher()

    def warm_up(self) -> None:
        """Load what the database stages will need (the matcher's word segmenter takes about
        a second), e.g. while worker processes prepare the first batches."""
        self.duplicate_matcher.similarity("信用卡年费扣错了", "信用卡的年费扣错")

    @property
    def db(self) -> Session:
        assert self.session is not None, "database stages need a session"
        return self.session

    def start_batch(self) -> None:
        self.known_sources.clear()
        self.batch_sources.clear()
        self.customers.clear()
        self.open_cases.clear()
        self.recent_receipts.clear()
        self.same_text_on_day.clear()
        self.history_loaded = False
        self.batch_new_cases.clear()
