"""What the service-data screen needs beside the demo's cases: half a year of queue tickets,
processes and digital usage per outlet, and of head office's digital channels day by day.
Some outlets are busier and slower than others (and a few improve); one channel has outages.
Idempotent: a database with queue tickets already is left alone.

Kept small so the demo loads fast: 40 tickets per outlet and month (a real outlet issues
thousands), stored in one statement per outlet.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select

from bankvoc.branches import service as branches
from bankvoc.core.db import unit_of_work
from bankvoc.demo import generator
from bankvoc.orgs import service as org_service
from bankvoc.servicedata import service as servicedata
from bankvoc.servicedata.models import QueueTicket

MONTHS = 6
# The demo branch manager's outlet is a crowded one: their screen has targets to miss.
CROWDED = "BJ0101"
TICKETS_PER_MONTH = 40
# Mean wait (minutes) at an outlet: some are crowded, most are not.
MEAN_WAITS = (4.0, 6.0, 8.0, 12.0, 18.0)
# Business types, how often they come, and their typical handling time (minutes).
BUSINESS = (("cash", 0.35, 4.0), ("personal", 0.35, 7.0), ("corporate", 0.15, 14.0),
            ("wealth", 0.15, 12.0))
# Processes per outlet and month: type, how many, typical duration (hours), spread.
PROCESSES = (("account_opening", 10, 0.4, 0.35), ("corporate_account_opening", 2, 30.0, 0.5),
             ("loan_approval", 3, 70.0, 0.45), ("card_issuance", 3, 110.0, 0.35))
CHANNELS = (("mobile_app", 650.0, 0.002), ("online_banking", 900.0, 0.002),
            ("wechat", 800.0, 0.01), ("phone_ivr", 1500.0, 0.003))


def seed_service_data(engine: Engine, *, today: date,
                      seed: int = generator.DEFAULT_SEED) -> dict[str, int]:
    """Store the demo's service data; returns how many records of each kind were new."""
    counts: dict[str, int] = {kind: 0 for kind in servicedata.KINDS}
    rng = random.Random(seed + 8)
    first = servicedata.add_months(today.replace(day=1), 1 - MONTHS)
    with unit_of_work(engine) as session:
        if session.scalar(select(QueueTicket.id).limit(1)) is not None:
            return counts
        actor = org_service.actor_for(org_service.get_user(session, username=generator.LOADER))
        outlets = branches.outlets(session, actor=actor)
        for index, outlet in enumerate(outlets):
            mean_wait = rng.choice(MEAN_WAITS)
            if outlet.code == CROWDED:
                mean_wait = MEAN_WAITS[-1]
            improving = index % 4 == 0  # a quarter of the outlets get better month by month
            tickets: list[dict[str, Any]] = []
            processes: list[dict[str, Any]] = []
            usage: list[dict[str, Any]] = []
            mau = rng.randint(4000, 20000)
            for back in range(MONTHS):
                month = servicedata.add_months(first, back)
                factor = 1.0 - 0.08 * back if improving else 1.0
                tickets += _tickets(rng, outlet.code, month, today, mean_wait * factor)
                processes += _processes(rng, outlet.code, month, today, back)
                mau = round(mau * rng.uniform(0.99, 1.04))
                usage.append(_usage(rng, outlet.code, month, mau))
            counts["queue"] += servicedata.store_many(session, actor=actor, kind="queue",
                                                      records=tickets)
            counts["process"] += servicedata.store_many(session, actor=actor, kind="process",
                                                        records=processes)
            counts["usage"] += servicedata.store_many(session, actor=actor, kind="usage",
                                                      records=usage)
        counts["channel"] = servicedata.store_many(
            session, actor=actor, kind="channel", records=_channel_days(rng, first, today))
    return counts


def _opening(rng: random.Random, day: date) -> datetime:
    """A moment of the outlet's opening hours (09:00-16:30, the bank's local time)."""
    return datetime.combine(day, time(9)) + timedelta(minutes=rng.randint(0, 450))


def _days(month: date, today: date) -> list[date]:
    end = min(servicedata.add_months(month, 1), today)
    found, day = [], month
    while day < end:
        if day.weekday() < 6:  # outlets open on Saturdays too
            found.append(day)
        day += timedelta(days=1)
    return found or [month]


def _tickets(rng: random.Random, org: str, month: date, today: date,
             mean_wait: float) -> list[dict[str, Any]]:
    days = _days(month, today)
    rows = []
    for number in range(TICKETS_PER_MONTH):
        day = rng.choice(days)
        business, _, handling = rng.choices(BUSINESS, weights=[b[1] for b in BUSINESS])[0]
        issued = _opening(rng, day)
        row: dict[str, Any] = {"org": org, "ticket_id": f"{business[0].upper()}{number:03d}",
                               "business_type": business, "issued_at": issued}
        if rng.random() > 0.03:  # a few customers leave before they are called
            called = issued + timedelta(seconds=round(rng.expovariate(1 / mean_wait) * 60))
            row["called_at"] = called
            row["finished_at"] = called + timedelta(
                seconds=round(rng.lognormvariate(0, 0.4) * handling * 60))
        rows.append(row)
    return rows


def _processes(rng: random.Random, org: str, month: date, today: date,
               back: int) -> list[dict[str, Any]]:
    days = _days(month, today)
    rows = []
    for kind, count, hours, spread in PROCESSES:
        for number in range(count):
            started = _opening(rng, rng.choice(days))
            duration = timedelta(hours=hours * rng.lognormvariate(0, spread))
            finished = started + duration
            rows.append({"process_type": kind, "org": org,
                         "record_id": f"{org}-{month:%Y%m}-{kind[:4]}-{number:02d}",
                         "started_at": started,
                         "finished_at": finished if finished.date() < today else None})
    return rows


def _usage(rng: random.Random, org: str, month: date, mau: int) -> dict[str, Any]:
    counter = rng.randint(800, 2000)
    own = round(counter * rng.uniform(2.0, 5.0))
    sessions = rng.randint(800, 2500)
    return {"org": org, "month": month, "app_mau": mau, "self_service_txns": own,
            "counter_txns": counter, "assistant_sessions": sessions,
            "assistant_resolved": round(sessions * rng.uniform(0.70, 0.88))}


def _channel_days(rng: random.Random, first: date, today: date) -> list[dict[str, Any]]:
    rows = []
    for channel, response, outage_rate in CHANNELS:
        day = first
        while day < today:
            down = rng.random() < outage_rate * 10
            availability = 100.0 - (rng.uniform(0.2, 1.5) if down else rng.uniform(0, 0.05))
            average = response * rng.uniform(0.85, 1.25) * (1.6 if down else 1.0)
            rows.append({"channel": channel, "day": day,
                         "availability_pct": round(availability, 3),
                         "response_avg_ms": round(average), "requests": rng.randint(5000, 90000),
                         "response_p95_ms": round(average * rng.uniform(2.2, 3.0))})
            day += timedelta(days=1)
    return rows
