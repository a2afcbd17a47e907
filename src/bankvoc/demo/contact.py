"""The phone-banking centre of the demo: its teams and agents, and half a year of calls.

`generate_calls(n, seed, today)` yields interaction rows as the bank's ACD exports them (the
fields `contact.interactions` reads), without a database; `seed_contact_centre` creates the
agents and team leads who are missing and stores the rows through the contact import service
(`interactions.import_rows`), so the import's own rules apply (org and agent found, the caller's
phone kept only as the customer it finds, each row stored once).

What the numbers look like, and why:
- volume by weekday (Monday the busiest, Sunday the quietest) and by hour (08:00-22:00, peaks
  at 09-11 and 14-16); the end of a month brings card bills and a few more calls;
- waits grow with the load of the hour and the staffing of the team, so the service level
  drops and abandonment rises at the peaks; callers hang up when their patience runs out;
- teams differ: the first credit-card team is well staffed and resolves most calls, the
  general-service team less so (its callers come back more often and are less satisfied);
- callers are a pool of customers who come back on the same issue within a few days when it
  was not resolved (so first-contact resolution is meaningful), and about a third of the
  answered calls carry a satisfaction score (1-5);
- some calls never leave the IVR (self-service), some are transferred;
- a sample of the answered calls carries its transcript (`turns`, from `contact.corpus`), with
  the call's talk time taken from it.

Same seed and same `today`, same rows; rows carry fixed source ids, so loading again stores
nothing twice.
"""

from __future__ import annotations

import logging
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bankvoc.contact import corpus, interactions
from bankvoc.contact.models import Interaction
from bankvoc.core.db import unit_of_work
from bankvoc.demo.generator import CONTACT_CENTRE, LOADER, make_mobile
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.models import User

log = logging.getLogger(__name__)

SOURCE_SYSTEM = "demo_acd"
DAYS = 182  # half a year, ending the day before `today`
TRANSCRIPT_SHARE = 0.04  # of the answered calls
TRANSCRIPT_POOL = 240  # generated transcripts the sample is drawn from
SURVEYED = 0.35  # answered calls whose caller rated the service
IVR_ONLY = 0.12  # calls served by the IVR alone (never routed to a person)
NO_PHONE = 0.08  # calls whose number was withheld
CUSTOMERS_PER_CALL = 0.3  # the pool of callers, against the number of calls


def source_id(number: int) -> str:
    return f"DEMO-CC-{number:07d}"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    share: float
    talk_s: int  # median talk time
    transfer: float
    topics: tuple[str, ...]
    corpus_queues: tuple[str, ...]  # the corpus's queues whose transcripts fit


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("信用卡", 0.34, 230, 0.05,
              ("账单分期", "额度调整", "年费", "盗刷争议", "还款失败", "积分兑换"), ("信用卡",)),
    QueueSpec("借记卡", 0.2, 170, 0.05, ("挂失补卡", "转账限额", "账户冻结", "短信通知费"),
              ("借记卡",)),
    QueueSpec("贷款", 0.15, 320, 0.08, ("提前还款", "房贷利率", "还款计划", "征信异议"),
              ("个人贷款",)),
    QueueSpec("理财", 0.1, 350, 0.06, ("产品净值", "赎回到账", "风险评估", "收益疑问"),
              ("理财",)),
    QueueSpec("综合", 0.21, 190, 0.12, ("手机银行登录", "网点预约", "外汇业务", "投诉建议"),
              ("支付结算", "电子银行")),
)
_QUEUES = {q.name: q for q in QUEUES}


@dataclass(frozen=True)
class TeamSpec:
    name: str
    lead: str
    queues: tuple[str, ...]
    staffing: float  # mean wait at an ordinary load, seconds: lower is better staffed
    resolve: float  # share of answered calls resolved on the spot
    csat: float  # how a resolved call is rated, on average
    handling: float  # talk time against the queue's median
    agents: tuple[tuple[str, str], ...] = field(default=())  # (username, display name)


def _agents(prefix: str, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i + 1:02d}", f"{name}（演示）") for i, name in enumerate(names))


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("信用卡一组", "demo_team_lead", ("信用卡",), 5.0, 0.88, 4.8, 0.95,
             (("demo_agent", "赵坐席（演示）"), ("demo_agent2", "吴坐席（演示）"),
              *_agents("rbc_cc1_", ("钱晓", "孙悦", "李蕾", "周航")))),
    TeamSpec("信用卡二组", "rbc_lead_cc2", ("信用卡",), 7.5, 0.8, 4.65, 1.05,
             _agents("rbc_cc2_", ("郑瑶", "冯涛", "陈洁", "褚亮", "卫敏"))),
    TeamSpec("借记卡组", "rbc_lead_dc", ("借记卡", "综合"), 6.5, 0.83, 4.7, 1.0,
             _agents("rbc_dc_", ("蒋琳", "沈超", "韩雪", "杨帆", "朱婷"))),
    TeamSpec("贷款理财组", "rbc_lead_lw", ("贷款", "理财"), 9.0, 0.76, 4.6, 1.1,
             _agents("rbc_lw_", ("秦峰", "尤佳", "许诺", "何欣", "吕明"))),
    TeamSpec("综合服务组", "rbc_lead_gs", ("综合", "借记卡"), 12.0, 0.68, 4.4, 1.0,
             _agents("rbc_gs_", ("施颖", "张弛", "孔洁", "曹阳", "严冬", "华丽"))),
)
LEADS: dict[str, str] = {
    "rbc_lead_cc2": "郑组长（演示）", "rbc_lead_dc": "蒋组长（演示）",
    "rbc_lead_lw": "秦组长（演示）", "rbc_lead_gs": "施组长（演示）",
}


def staff() -> list[tuple[str, str, Role]]:
    """(username, display name, role) of everyone the centre needs, leads first."""
    people = [(username, name, Role.team_lead) for username, name in LEADS.items()]
    for team in TEAMS:
        people += [(username, name, Role.agent) for username, name in team.agents]
    return people


# Calls by hour of the day (local time), and by weekday (Monday first).
HOURS = {8: 0.5, 9: 1.4, 10: 1.7, 11: 1.4, 12: 0.8, 13: 0.9, 14: 1.4, 15: 1.5, 16: 1.2,
         17: 0.9, 18: 0.6, 19: 0.6, 20: 0.5, 21: 0.3}
WEEKDAYS = (1.3, 1.1, 1.05, 1.05, 1.1, 0.65, 0.55)
PATIENCE_S = 150.0  # how long a caller waits, on average, before hanging up


def _day_weight(day: date) -> float:
    weight = WEEKDAYS[day.weekday()]
    if day.day >= 25 or day.day <= 2:  # card bills fall due
        weight *= 1.15
    return weight


def _daily_counts(n: int, first: date) -> list[int]:
    """`n` calls spread over the DAYS days from `first`, by their weights (summing to n)."""
    weights = [_day_weight(first + timedelta(days=d)) for d in range(DAYS)]
    total = sum(weights)
    counts, given, running = [], 0, 0.0
    for weight in weights:
        running += weight * n / total
        count = round(running) - given
        counts.append(count)
        given += count
    return counts


_HOUR_KEYS = tuple(HOURS)
_HOUR_WEIGHTS = tuple(HOURS.values())
_MEAN_HOUR = sum(_HOUR_WEIGHTS) / len(_HOUR_WEIGHTS)


@dataclass
class _Pending:
    """A caller who will come back on the same issue."""

    phone: str
    queue: str
    issue: str


class _Transcripts:
    """Generated call transcripts by queue, to attach to a sample of the calls."""

    def __init__(self, seed: int) -> None:
        self.by_queue: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
        for call in corpus.generate(TRANSCRIPT_POOL, seed=seed):
            self.by_queue[call.record["queue"]].append(call.record["turns"])

    def pick(self, rng: random.Random, queue: QueueSpec) -> list[dict[str, Any]] | None:
        found = [t for name in queue.corpus_queues for t in self.by_queue.get(name, [])]
        return rng.choice(found) if found else None


def generate_calls(n: int, seed: int, today: date) -> Iterator[dict[str, Any]]:
    """`n` calls of the DAYS days before `today`, in time order, as ACD rows."""
    rng = random.Random(seed * 7 + 1)
    first = today - timedelta(days=DAYS)
    customers = [make_mobile(rng) for _ in range(max(20, round(n * CUSTOMERS_PER_CALL)))]
    transcripts = _Transcripts(seed)
    queue_weights = [q.share for q in QUEUES]
    comebacks: dict[date, list[_Pending]] = defaultdict(list)
    number = 0
    for offset, count in enumerate(_daily_counts(n, first)):
        day = first + timedelta(days=offset)
        load_day = _day_weight(day)
        hours = rng.choices(_HOUR_KEYS, weights=_HOUR_WEIGHTS, k=count)
        starts = sorted(datetime.combine(day, time(h, rng.randrange(60), rng.randrange(60)))
                        for h in hours)
        due = comebacks.pop(day, [])
        rng.shuffle(due)
        for started in starts:
            number += 1
            pending = due.pop() if due else None
            yield _call(rng, number, started, load_day, pending, customers, queue_weights,
                        transcripts, comebacks)


def _call(rng: random.Random, number: int, started: datetime, load_day: float,
          pending: _Pending | None, customers: list[str], queue_weights: list[float],
          transcripts: _Transcripts, comebacks: dict[date, list[_Pending]]) -> dict[str, Any]:
    phone: str | None
    if pending is not None:
        queue, phone, issue = _QUEUES[pending.queue], pending.phone, pending.issue
    else:
        queue = rng.choices(QUEUES, weights=queue_weights)[0]
        phone = None if rng.random() < NO_PHONE else rng.choice(customers)
        issue = f"{queue.name}/{rng.choice(queue.topics)}"
    team = rng.choice([t for t in TEAMS if queue.name in t.queues])
    row: dict[str, Any] = {
        "source_id": source_id(number), "kind": "call", "team": team.name,
        "queue": queue.name, "org": CONTACT_CENTRE, "started_at": started,
        "issue_key": issue, "routed_to_agent": True, "answered": False, "abandoned": False,
    }
    if phone is not None:
        row["phone"] = phone
    if pending is None and rng.random() < IVR_ONLY:
        row.update(routed_to_agent=False, outcome="self_service")
        return row
    load = load_day * HOURS[started.hour] / _MEAN_HOUR
    wait = rng.expovariate(1 / (team.staffing * load ** 1.5))
    patience = rng.expovariate(1 / PATIENCE_S)
    if patience < wait:  # the caller hung up while waiting
        row.update(abandoned=True, wait_s=max(1, round(patience)), outcome="abandoned")
        if phone is not None and rng.random() < 0.5:
            _come_back(rng, comebacks, started, phone, queue, issue, within=2)
        return row
    agent, _ = rng.choice(team.agents)
    talk = round(queue.talk_s * team.handling * math.exp(rng.gauss(0, 0.45)))
    turns = transcripts.pick(rng, queue) if rng.random() < TRANSCRIPT_SHARE else None
    if turns is not None:
        talk = max(turns[-1]["end_ms"] // 1000, 1)
        row["turns"] = turns
    resolved = rng.random() < team.resolve
    transferred = rng.random() < queue.transfer
    row.update(
        agent=agent, answered=True, transferred=transferred, wait_s=round(wait), talk_s=talk,
        hold_s=round(rng.uniform(10, 90)) if rng.random() < 0.3 else 0,
        wrap_s=round(rng.uniform(15, 60)),
        outcome="resolved" if resolved else rng.choice(("unresolved", "callback")))
    if rng.random() < SURVEYED:
        row["csat"] = _rating(rng, team, resolved=resolved, wait=wait)
    if phone is not None and rng.random() < (0.05 if resolved else 0.55):
        _come_back(rng, comebacks, started, phone, queue, issue, within=6)
    return row


def _come_back(rng: random.Random, comebacks: dict[date, list[_Pending]], started: datetime,
               phone: str, queue: QueueSpec, issue: str, *, within: int) -> None:
    day = started.date() + timedelta(days=rng.randint(1, within))
    comebacks[day].append(_Pending(phone=phone, queue=queue.name, issue=issue))


def _rating(rng: random.Random, team: TeamSpec, *, resolved: bool, wait: float) -> int:
    mean = (team.csat if resolved else 3.1) - min(wait / 120, 0.8)
    return min(5, max(1, round(rng.gauss(mean, 0.65))))


def display_names() -> dict[str, str]:
    """Every agent's display name, by username."""
    return {username: name for team in TEAMS for username, name in team.agents}



# --- into the database --------------------------------------------------------------------------

@dataclass
class ContactReport:
    """What `seed_contact_centre` did."""

    staff_created: int = 0
    interactions: int = 0
    with_transcripts: int = 0
    rejected: int = 0
    seconds: float = 0.0  # not in `as_dict`: a second load is otherwise the same

    def as_dict(self) -> dict[str, int]:
        return {"staff_created": self.staff_created, "interactions": self.interactions,
                "with_transcripts": self.with_transcripts, "rejected": self.rejected}


def ensure_staff(session: Session) -> int:
    """Create the centre's agents and team leads who are missing; returns how many were new.
    They work in the contact centre's org and log in only once they are given a password."""
    people = staff()
    known = set(session.scalars(select(User.username).where(
        User.username.in_([username for username, _, _ in people]))))
    centre = org_service.get_org_by_code(session, code=CONTACT_CENTRE)
    created = 0
    for username, name, role in people:
        if username not in known:
            org_service.create_user(session, username=username, display_name=name, org=centre,
                                    roles=[role.value])
            created += 1
    return created


def seed_contact_centre(engine: Engine, *, today: date, seed: int, calls: int,
                        batch_size: int = 2_000) -> ContactReport:
    """The centre's staff and `calls` interactions of the half year before `today`, imported
    in batches (each its own transaction). A database holding demo interactions already is left
    as it is (the rows would be unchanged)."""
    report = ContactReport()
    started = perf_counter()
    with unit_of_work(engine) as session:
        report.staff_created = ensure_staff(session)
        if session.scalar(select(Interaction.id).where(
                Interaction.source_system == SOURCE_SYSTEM).limit(1)) is not None:
            return report
        actor = org_service.actor_for(org_service.get_user(session, username=LOADER))

    def rejected(row: int, name: str | None, reason: str) -> None:  # never expected
        report.rejected += 1
        log.warning("demo call %d refused: %s %s", row, name, reason)

    rows = generate_calls(calls, seed, today)
    number = 0
    while batch := list(islice(rows, batch_size)):
        report.with_transcripts += sum(1 for row in batch if "turns" in row)
        with unit_of_work(engine) as session:
            counts = interactions.import_rows(
                session, actor=actor, source_system=SOURCE_SYSTEM, on_reject=rejected,
                rows=((number + i + 1, row, None) for i, row in enumerate(batch)))
        number += len(batch)
        report.interactions += counts.accepted + counts.updated
    report.seconds = perf_counter() - started
    log.info("demo: %d calls of the contact centre imported in %.1f s", report.interactions,
             report.seconds)
    return report
