"""Loading the demo: the org tree, one user per role with a stable token, and a year of cases.

Everything is idempotent: orgs and users that exist are kept, tokens are derived from the
secret key and the user name (so they are the same on every run), and the records carry fixed
source ids, so the intake pipeline leaves a second load unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import Forbidden
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import to_local
from bankvoc.demo import generator
from bankvoc.demo.contact import ContactReport, seed_contact_centre
from bankvoc.demo.people import seed_training
from bankvoc.demo.quality import seed_inspections
from bankvoc.demo.servicedata import seed_service_data
from bankvoc.demo.voc import VocReport, seed_voc
from bankvoc.demo.workflow import work_cases
from bankvoc.intake import service as intake_service
from bankvoc.intake.context import IntakeContext
from bankvoc.intake.draft import Outcome
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import User

log = logging.getLogger(__name__)

TOKEN_PREFIX = "bv_demo_"
# Every demo user logs in to the pages with this password (README, `bankvoc demo load`).
DEMO_PASSWORD = "demo-password-2026"
TOKEN_LABEL = "demo"
DEFAULT_CASES = 20_000
# At most this many demo cases are worked through the loop (each step is a real service call).
WORKED_CASES = 5_000  # about 20 ms each through the real workflow
# The phone-banking centre's calls of the half year: about 1.5 ms each through the contact
# import on an idle laptop core (4.5 s for the default; 10 s on a busy 2-core machine), a fifth
# of the cases unless asked, at most DEFAULT_CALLS and never fewer than MIN_CALLS.
DEFAULT_CALLS = 3_000
MIN_CALLS = 400


def calls_for(cases: int) -> int:
    return min(DEFAULT_CALLS, max(MIN_CALLS, cases // 5))


class DemoModeRequired(Forbidden):
    code = "demo_mode_required"


@dataclass
class DemoReport:
    cases: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    today: date | None = None
    orgs_created: int = 0
    users_created: int = 0
    users: dict[str, str] = field(default_factory=dict)
    workflow: dict[str, int] = field(default_factory=dict)
    voc: VocReport | None = None
    inspections: int = 0
    training: int = 0
    service_data: dict[str, int] = field(default_factory=dict)
    service_data_seconds: float = 0.0
    contact: ContactReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "accepted": self.counts[Outcome.NEW],
            "merged": self.counts[Outcome.MERGED], "updated": self.counts[Outcome.UPDATED],
            "unchanged": self.counts[Outcome.UNCHANGED],
            "rejected": self.counts[Outcome.REJECTED], "seconds": round(self.seconds, 2),
            "today": self.today.isoformat() if self.today else None, "users": self.users,
            "workflow": self.workflow,
            "voc": None if self.voc is None else {
                "org_stats": self.voc.stats, "targets": self.voc.targets,
                "problems": self.voc.problems, "linked_cases": self.voc.links,
                "rollup_rows": self.voc.rollup_rows, "alerts": self.voc.alerts},
            "inspections": self.inspections,
            "training": self.training,
            "service_data": self.service_data,
            "service_data_seconds": round(self.service_data_seconds, 2),
            "contact": None if self.contact is None else self.contact.as_dict(),
        }


def demo_token(secret_key: str, username: str) -> str:
    """A demo user's API token: the same on every run, unguessable without the secret key."""
    digest = hmac.new(secret_key.encode(), username.encode(), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest[:32]


def require_demo_mode(*, force: bool) -> None:
    if not (get_settings().demo or force):
        raise DemoModeRequired(
            "demo data goes into demonstration databases only: set BANKVOC_DEMO=1, "
            "or pass --force to load it into this database anyway", field="BANKVOC_DEMO")


# --- orgs and users ------------------------------------------------------------------------------

def ensure_orgs(session: Session) -> int:
    """Create the demo org tree under head office; returns how many orgs were new."""
    root, _ = org_service.ensure_root(session)
    known = org_service.find_orgs_by_code(
        session, codes=[s.code for s in generator.ORG_SPECS] + [root.code])
    created = 0
    for spec in generator.ORG_SPECS:  # parents come before their children
        if spec.code in known:
            continue
        known[spec.code] = org_service.create_org(
            session, code=spec.code, name=spec.name, name_en=spec.name_en, kind=spec.kind,
            parent=known[spec.parent])
        created += 1
    return created


def ensure_users(session: Session, *, secret_key: str) -> tuple[dict[str, str], int]:
    """Create the demo users and their stable tokens; returns (username -> token, created)."""
    names = [s.username for s in generator.USER_SPECS]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    created = 0
    for spec in generator.USER_SPECS:
        if spec.username not in users:
            users[spec.username] = org_service.create_user(
                session, username=spec.username, display_name=spec.display_name,
                org=org_service.get_org_by_code(session, code=spec.org),
                roles=[r.value for r in spec.roles],
                # Deadline alarms reach them through the demo's file adapter.
                email=f"{spec.username}@demo.bankvoc.example")
            created += 1
    tokens = {name: demo_token(secret_key, name) for name in names}
    for name, token in tokens.items():
        org_service.register_token(session, user=users[name], token=token, label=TOKEN_LABEL)
    # The demo users and the head office's administrator log in with the known password
    # (one they changed is kept); nobody browses the pages without logging in.
    _, admin = org_service.ensure_root(session)
    auth.set_missing_passwords(session, users=[admin, *(users[name] for name in names)],
                               password=DEMO_PASSWORD, by="demo")
    return tokens, created


# --- cases ---------------------------------------------------------------------------------------

def earlier_today(session: Session) -> date | None:
    """The `today` of an earlier demo load, read back from its anchor record (row 1)."""
    received = intake_service.received_at_of(
        session, source_system=generator.SOURCE_SYSTEM,
        source_id=generator.source_id(generator.ANCHOR_ROW))
    if received is None:
        return None
    return generator.today_from_anchor(to_local(received, get_settings().tz).date())


def count_demo_records(session: Session) -> int:
    """Demo source rows stored, whether they created a case or joined one."""
    return intake_service.count_records(session, source_system=generator.SOURCE_SYSTEM)


def load_demo(
    engine: Engine,
    *,
    cases: int = DEFAULT_CASES,
    seed: int = generator.DEFAULT_SEED,
    today: date | None = None,
    force: bool = False,
    batch_size: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    calls: int | None = None,
) -> DemoReport:
    """Load the demo org tree, users and `cases` records, each batch its own transaction.

    `today` ends the demo year; by default the one of an earlier load, else the current date,
    so loading again on a later day changes nothing. `calls`: the contact centre's calls of the
    half year (`calls_for(cases)` unless given).
    """
    require_demo_mode(force=force)
    settings = get_settings()
    started = time.perf_counter()
    report = DemoReport(cases=cases)
    with unit_of_work(engine) as session:
        report.orgs_created = ensure_orgs(session)
        report.users, report.users_created = ensure_users(
            session, secret_key=settings.effective_secret_key)
        if today is None:
            today = earlier_today(session) or datetime.now(settings.tz).date()
        actor = org_service.actor_for(org_service.get_user(session, username=generator.LOADER))
    report.today = today
    log.info("demo: %d orgs and %d users created; loading %d records for the year to %s",
             report.orgs_created, report.users_created, cases, today)
    size = batch_size or settings.import_batch_size
    records = generator.generate_records(cases, seed, today)
    ctx: IntakeContext | None = None
    done = 0
    while batch := list(islice(records, size)):
        with unit_of_work(engine) as session:
            if ctx is None:
                ctx = intake_service.build_context(
                    session, actor=actor, source_system=generator.SOURCE_SYSTEM)
            drafts = intake_service.register_many(
                session, actor=actor, records=batch, source_system=generator.SOURCE_SYSTEM,
                ctx=ctx)
        report.counts.update(d.outcome for d in drafts)
        for draft in drafts:
            if draft.rejected:  # never expected: the generator makes valid records
                log.warning("demo row %d rejected: %s %s", draft.row, draft.error_field,
                            draft.error)
        done += len(batch)
        if on_progress is not None:
            on_progress(done, cases)
    # Before the workflow and the VOC figures: calls that voice a complaint become cases too.
    report.contact = seed_contact_centre(
        engine, today=today, seed=seed, calls=calls_for(cases) if calls is None else calls)
    report.workflow = work_cases(engine, limit=min(max(cases // 4, 1), WORKED_CASES))
    report.voc = seed_voc(engine, today=today)
    report.inspections = seed_inspections(engine, today=today, seed=seed)
    report.training = seed_training(engine, today=today, seed=seed)
    service_started = time.perf_counter()
    report.service_data = seed_service_data(engine, today=today, seed=seed)
    report.service_data_seconds = time.perf_counter() - service_started
    report.seconds = time.perf_counter() - started
    return report
