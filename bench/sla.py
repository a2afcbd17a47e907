"""SLA sweep benchmark: one sweep over N open cases, timed alone.

    python bench/sla.py [--cases N] [--database URL] [--behind MINUTES] [--days D]

The database (SQLite in a temporary folder by default; for a PostgreSQL URL a fresh database
beside the one named) is filled with N open cases (default 1,000,000) received over the last D
days (default 30), in every open status, kind, severity and channel mix, each with its
timeline's first events and its staff (the demo org tree, a handler, team lead and branch
manager per branch, head-office consumer protection, all with e-mail addresses). Each case's
deadline plan is computed by the product's own planner from its clocks (statutory days on the
State Council calendar, the bank's targets); the alarms due more than `--behind` minutes ago
(default 60) count as fired by earlier sweeps, and the cases received within those minutes are
left unplanned, as intake leaves them. So the sweep does what a sweep does after the scheduler
has been stopped for that long: it finds the due cases among the N, plans the new ones, fires
every alarm due in the window (events on the hash-chained timelines, notifications in the
outbox) and stores the plans. A steady sweep every minute is `--behind 1`.

The last line is one JSON object: {"cases", "seconds", "claimed", "planned", "warnings",
"escalations", "notifications", "behind_minutes", "database"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from bankvoc.cases.events import GENESIS_HASH, event_row
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.cases.workflow.alarms import Plan, plan_for
from bankvoc.cases.workflow.clock import MEETS
from bankvoc.cases.workflow.sweep import sweep
from bankvoc.core.db import (
    build_engine,
    bulk_insert,
    bulk_insert_ids,
    session_factory,
    unit_of_work,
)
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.sla import clocks as sla
from bankvoc.sla import service as sla_service
from bankvoc.sla.policy import load_policy
from ingest import fresh_database, log

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
SLOT = dt.timedelta(minutes=10)  # receipts fall on 10-minute marks, so plans can be shared
KINDS = (("complaint", 0.85), ("suggestion", 0.1), ("hard_question", 0.05))
SEVERITIES = (("general", 0.8), ("major", 0.15), ("urgent", 0.05))
CHANNELS = (("hotline", 0.5), ("branch", 0.3), ("app", 0.2))
# Open statuses, and the steps each has taken (which meet the bank's targets).
STATUSES = (("received", 0.05, ()), ("accepted", 0.1, ("accept",)),
            ("assigned", 0.2, ("accept",)), ("investigating", 0.5, ("accept",)),
            ("solution_proposed", 0.15, ("accept", "propose")))
BATCH = 20_000


def pick(rng: random.Random, options: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    weights = [o[1] for o in options]
    return rng.choices(options, weights=weights)[0]


def staff(url: str) -> list[tuple[int, int]]:
    """Staff for every branch; returns (org id, handler id) for each org cases go to."""
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        orgs = list(session.scalars(select(Org).order_by(Org.path)))
        root = next(o for o in orgs if o.parent_id is None)
        cpo = org_service.create_user(session, username="hq_cpo", display_name="消保",
                                      org=root, roles=["cpo"])
        cpo.email = "cpo@bank.example"
        targets: list[tuple[int, int]] = []
        for org in orgs:
            if org.parent_id is None:
                continue
            handler = org_service.create_user(
                session, username=f"{org.code}_handler", display_name=org.code, org=org,
                roles=["handler"])
            handler.email = f"{org.code.lower()}.handler@bank.example"
            if org.parent_id == root.id:
                for role in ("team_lead", "branch_manager"):
                    user = org_service.create_user(
                        session, username=f"{org.code}_{role}", display_name=role, org=org,
                        roles=[role])
                    user.email = f"{org.code.lower()}.{role}@bank.example"
            session.flush()
            targets.append((org.id, handler.id))
    engine.dispose()
    return targets


def plans(rows: list[dict[str, Any]], cache: dict[tuple[Any, ...], Plan],
          behind: dt.datetime) -> Iterator[tuple[dict[str, Any] | None, dt.datetime | None]]:
    """Each case's plan as the sweeps before `behind` left it (None: not planned yet)."""
    policy = load_policy()
    for row in rows:
        received: dt.datetime = row["received_at"]
        if received > behind:
            yield None, received
            continue
        key = (row["kind"], row["channel"], row["severity"], row["_steps"], received)
        if key not in cache:
            steps = dict((s[0], s[2]) for s in STATUSES)[row["status"]]
            events = [sla.ClockMet(at=received + dt.timedelta(minutes=5 * (i + 1)), clock=name)
                      for i, step in enumerate(steps) for name in MEETS[step]
                      if name in ("first_contact", "response", "solution")
                      and received + dt.timedelta(minutes=5 * (i + 1)) <= behind]
            clocks = sla_service.case_clocks(
                kind=row["kind"], received_at=received, now=behind, events=events,
                channel=row["channel"], severity=row["severity"])
            plan = plan_for(clocks, policy)
            cache[key] = plan.after_firing(a.key for a in plan.due(behind))
        found = cache[key]
        yield found.as_json(), found.next_at


def fill(url: str, count: int, days: int, behind_minutes: int, seed: int = 7) -> None:
    targets = staff(url)
    rng = random.Random(seed)
    behind = NOW - dt.timedelta(minutes=behind_minutes)
    slots = int(dt.timedelta(days=days) / SLOT)
    cache: dict[tuple[Any, ...], Plan] = {}
    engine = build_engine(url)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        for n in range(start, min(count, start + BATCH)):
            org_id, handler_id = rng.choice(targets)
            status, _, steps = pick(rng, STATUSES)
            received = NOW - SLOT * rng.randint(0, slots)
            if received > behind:
                status, steps = "received", ()
            rows.append({
                "reference": f"BENCH{n:09d}", "kind": pick(rng, KINDS)[0],
                "channel": pick(rng, CHANNELS)[0], "status": status,
                "severity": pick(rng, SEVERITIES)[0], "org_id": org_id,
                "handling_org_id": org_id, "title": "信用卡年费争议",
                "text_masked": "信用卡年费被多扣，要求退还。", "text_enc": "-",
                "text_hash": f"{n:064d}", "language": "zh", "received_at": received,
                "created_at": received, "updated_at": received, "version": 1,
                "annotations": {}, "assignee_id": handler_id if steps else None,
                "first_responder_id": handler_id if steps else None,
                "_steps": steps})
        for row, (plan, next_at) in zip(rows, plans(rows, cache, behind), strict=True):
            row["sla_plan"], row["sla_next_at"] = plan, next_at
        steps_of = [row.pop("_steps") for row in rows]
        with unit_of_work(engine) as session:
            ids = bulk_insert_ids(session, Case, rows)
            events = []
            for case_id, row, steps in zip(ids, rows, steps_of, strict=True):
                prev, at = GENESIS_HASH, row["received_at"]
                for seq, type_ in enumerate(("received", *steps), start=1):
                    event = event_row(case_id=case_id, seq=seq, type=type_, at=at,
                                      actor_user_id=None, data={}, prev_hash=prev)
                    prev, at = event["hash"], at + dt.timedelta(minutes=5)
                    events.append(event)
            bulk_insert(session, CaseEvent, events)
        log(f"  {start + len(rows):,} cases ({time.perf_counter() - started:.0f} s, "
            f"{len(cache):,} distinct plans)")
    engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--behind", type=int, default=60,
                        help="minutes since the last sweep (default 60)")
    parser.add_argument("--days", type=int, default=30, help="receipts spread over D days")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bankvoc-sla-") as tmp:
        url = fresh_database(args.database, Path(tmp), "bankvoc_bench_sla")
        log(f"filling {args.cases:,} open cases into {make_url(url).get_backend_name()} …")
        fill(url, args.cases, args.days, args.behind)
        engine = build_engine(url)
        with engine.connect() as conn:  # the statistics a live database has
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        log("sweeping …")
        started = time.perf_counter()
        result = sweep(NOW, sessions=session_factory(engine))
        seconds = time.perf_counter() - started
        engine.dispose()
    summary = {"cases": args.cases, "seconds": round(seconds, 3), **result.as_dict(),
               "behind_minutes": args.behind, "database": make_url(url).get_backend_name()}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
