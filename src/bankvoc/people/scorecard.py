"""Scorecards of agents, teams, outlets and branches for a month, their rankings within the
parent, and each agent's training needs. Never commits.

Components (raw → normalised to 0–100):
- satisfaction: share of CSAT answers 4–5 of 5, in % (the banking association's satisfaction
  rate; analytics KPI `csat` for an org) → as is;
- complaint_rate: agents and teams, answered calls that raised a complaint case ÷ answered calls;
  orgs, analytics KPI `complaint_rate` (complaining customers ÷ customers), in % → 100 × (1 −
  rate ÷ worst), clamped to 0–100 (`complaint_rate_worst` in the weights file);
- on_time: complaints decided by their due date ÷ complaints decided, in % (agents and teams:
  the cases their calls raised; orgs: analytics KPI `on_time_rate`) → as is;
- qa: mean final QA score of the calls (the reviewer's score where reviewed, else the
  machine's) → as is;
- inspection: mean score of the month's branch checks and mystery-shopper visits in the org's
  subtree → as is.
The total is the weighted mean of the normalised components that have data; a component
without data is left out and the remaining weights scaled up to sum to 100.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics_service
from bankvoc.branches.models import Inspection
from bankvoc.cases.models import Case
from bankvoc.contact.models import Interaction, QaHit, QaResult
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.people.weights import LEVELS, WeightsFile, load_weights

HOW = {
    "satisfaction": "share of CSAT answers 4–5, % (as is)",
    "complaint_rate": "100 × (1 − rate ÷ {worst}%), within 0–100",
    "on_time": "share decided by the due date, % (as is)",
    "qa": "mean final QA score, 0–100 (as is)",
    "inspection": "mean inspection score, 0–100 (as is)",
}
NEEDS_SHOWN = 3  # training needs listed per agent


@dataclass
class Component:
    code: str
    raw: float | None  # None: no data this month
    basis: int  # how many answers, calls, cases or visits it rests on
    normalised: float | None
    how: str
    weight: float  # as configured
    applied: float = 0.0  # after re-weighting (0 when left out)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "raw": _r(self.raw), "basis": self.basis,
                "normalised": _r(self.normalised), "how": self.how, "weight": self.weight,
                "applied_weight": _r(self.applied)}


@dataclass
class Need:
    category: str
    rate: float  # share of the agent's inspected calls with a hit of this category
    team_rate: float

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "rate": _r(self.rate),
                "team_rate": _r(self.team_rate)}


@dataclass
class Card:
    level: str
    key: str  # username, team name or org code
    label: str
    parent: str
    components: list[Component]
    total: float | None = None
    rank: int | None = None  # within the parent, 1 best
    peers: int = 0
    left_out: list[str] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)

    @property
    def note(self) -> str:
        if not self.left_out:
            return ""
        return (f"no data for {', '.join(self.left_out)}: left out, the other weights "
                "re-weighted to 100")

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "key": self.key, "label": self.label,
                "parent": self.parent, "total": _r(self.total), "rank": self.rank,
                "peers": self.peers, "left_out": self.left_out, "note": self.note,
                "components": [c.as_dict() for c in self.components],
                "training_needs": [n.as_dict() for n in self.needs]}


@dataclass
class Scorecards:
    level: str
    month: str
    weights_version: str
    cards: list[Card]
    complaint_rate_worst: float = 10.0

    def card(self, key: str) -> Card:
        for found in self.cards:
            if found.key == key:
                return found
        raise Invalid(f"no scorecard for {key!r} in {self.month}", field="key")

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "month": self.month,
                "weights_version": self.weights_version,
                "cards": [c.as_dict() for c in self.cards]}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- pure parts ------------------------------------------------------------------------------

def normalise(code: str, raw: float | None, *, worst: float) -> float | None:
    """A component's raw value on the 0–100 scale (higher is better)."""
    if raw is None:
        return None
    if code == "complaint_rate":
        return max(0.0, min(100.0, 100.0 * (1.0 - raw / worst)))
    return max(0.0, min(100.0, raw))


def combine(components: Sequence[Component]) -> tuple[float | None, list[str]]:
    """The weighted total of the components with data, and the codes left out; sets each
    component's applied weight (summing to 100 over those used)."""
    used = [c for c in components if c.normalised is not None and c.weight > 0]
    left_out = [c.code for c in components if c.normalised is None and c.weight > 0]
    total_weight = sum(c.weight for c in used)
    if not used or total_weight <= 0:
        return None, left_out
    for c in used:
        c.applied = 100.0 * c.weight / total_weight
    return sum(c.applied * (c.normalised or 0.0) for c in used) / 100.0, left_out


def rank(cards: Sequence[Card]) -> None:
    """Competition ranks (1, 2, 2, 4) by total within each parent; no total, no rank."""
    by_parent: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        by_parent[card.parent].append(card)
    for group in by_parent.values():
        scored = [c for c in group if c.total is not None]
        for card in group:
            card.peers = len(group)
            if card.total is not None:
                card.rank = 1 + sum(1 for o in scored if (o.total or 0) > card.total + 1e-9)


def month_bounds(month: str, *, field: str = "month") -> tuple[datetime, datetime, str]:
    """The month's start and end (UTC, in the bank's time zone) and its label."""
    try:
        start = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise Invalid(f"{field}: {month!r} is not a month (YYYY-MM)", field=field) from None
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    tz = get_settings().tz
    return (datetime.combine(start, datetime.min.time(), tz).astimezone(UTC),
            datetime.combine(end, datetime.min.time(), tz).astimezone(UTC),
            start.strftime("%Y-%m"))


def _level(level: str) -> str:
    if level not in LEVELS:
        raise Invalid(f"level: {level!r} is not a level (levels: {', '.join(LEVELS)})",
                      field="level")
    return level


# --- agents and teams ------------------------------------------------------------------------

@dataclass
class _Calls:
    answered: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0
    complaints: int = 0
    decided: int = 0
    on_time: int = 0
    qa_scores: list[int] = field(default_factory=list)
    inspected: set[int] = field(default_factory=set)
    hits: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    org: str = ""


def _calls(session: Session, *, actor: Actor, start: datetime, end: datetime,
           org: Org | None) -> list[tuple[str, str, _Calls]]:
    query = (select(Interaction.id, Interaction.agent, Interaction.team, Interaction.csat,
                    Interaction.case_id, Org.code, QaResult.id, QaResult.machine_score,
                    QaResult.human_score, Case.resolved_at, Case.due_at)
             .join(Org, Org.id == Interaction.org_id)
             .outerjoin(QaResult, QaResult.interaction_id == Interaction.id)
             .outerjoin(Case, Case.id == Interaction.case_id)
             .where(org_service.in_scope(actor, Interaction.org_id),
                    Interaction.answered.is_(True), Interaction.agent.is_not(None),
                    Interaction.started_at >= start, Interaction.started_at < end)
             .order_by(Interaction.id))
    if org is not None:
        query = query.where(Org.path.startswith(org.path, autoescape=True))
    rows = session.execute(query).all()
    result_ids = [row[6] for row in rows if row[6] is not None]
    hits: dict[int, set[str]] = defaultdict(set)
    for chunk in range(0, len(result_ids), 500):
        for result_id, category in session.execute(
                select(QaHit.result_id, QaHit.category)
                .where(QaHit.result_id.in_(result_ids[chunk:chunk + 500]),
                       QaHit.dismissed.is_(False))):
            hits[result_id].add(category)
    out: list[tuple[str, str, _Calls]] = []
    for row in rows:
        (call_id, agent, team, csat, case_id, org_code, result_id, machine, human,
         resolved_at, due_at) = tuple(row)
        calls = _Calls(answered=1, org=org_code)
        if csat is not None:
            calls.csat_answers, calls.csat_satisfied = 1, int(csat >= 4)
        if case_id is not None:
            calls.complaints = 1
            if resolved_at is not None and due_at is not None:
                calls.decided, calls.on_time = 1, int(resolved_at <= due_at)
        if result_id is not None:
            calls.qa_scores.append(human if human is not None else machine)
            calls.inspected.add(call_id)
            for category in hits.get(result_id, ()):
                calls.hits[category].add(call_id)
        out.append((agent, team or "—", calls))
    return out


def _add(into: _Calls, more: _Calls) -> None:
    into.answered += more.answered
    into.csat_answers += more.csat_answers
    into.csat_satisfied += more.csat_satisfied
    into.complaints += more.complaints
    into.decided += more.decided
    into.on_time += more.on_time
    into.qa_scores.extend(more.qa_scores)
    into.inspected |= more.inspected
    for category, ids in more.hits.items():
        into.hits[category] |= ids
    into.org = into.org or more.org


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _call_components(calls: _Calls, level: str, config: WeightsFile) -> list[Component]:
    raw = {"satisfaction": (_share(calls.csat_satisfied, calls.csat_answers),
                            calls.csat_answers),
           "complaint_rate": (_share(calls.complaints, calls.answered), calls.answered),
           "on_time": (_share(calls.on_time, calls.decided), calls.decided),
           "qa": (sum(calls.qa_scores) / len(calls.qa_scores) if calls.qa_scores else None,
                  len(calls.qa_scores)),
           "inspection": (None, 0)}
    return _components(raw, level, config)


def _components(raw: dict[str, tuple[float | None, int]], level: str,
                config: WeightsFile) -> list[Component]:
    weights = config.levels[level]
    worst = config.complaint_rate_worst
    return [Component(code=code, raw=raw[code][0], basis=raw[code][1],
                      normalised=normalise(code, raw[code][0], worst=worst),
                      how=HOW[code].format(worst=_r(worst)), weight=weight)
            for code, weight in weights.items() if code in raw]


def _rates(calls: _Calls) -> dict[str, float]:
    inspected = len(calls.inspected)
    if not inspected:
        return {}
    return {category: len(ids) / inspected for category, ids in calls.hits.items()}


def training_needs(agent: _Calls, team: _Calls) -> list[Need]:
    """The QA rule categories the agent is hit by more often than their team, worst first."""
    mine, theirs = _rates(agent), _rates(team)
    needs = [Need(category, rate, theirs.get(category, 0.0)) for category, rate in mine.items()
             if rate > theirs.get(category, 0.0) + 1e-9]
    needs.sort(key=lambda n: (-(n.rate - n.team_rate), n.category))
    return needs[:NEEDS_SHOWN]


def _people_cards(session: Session, *, actor: Actor, level: str, start: datetime,
                  end: datetime, org: Org | None, config: WeightsFile) -> list[Card]:
    agents: dict[str, _Calls] = defaultdict(_Calls)
    agent_team: dict[str, str] = {}
    teams: dict[str, _Calls] = defaultdict(_Calls)
    for agent, team, calls in _calls(session, actor=actor, start=start, end=end, org=org):
        _add(agents[agent], calls)
        agent_team.setdefault(agent, team)
        _add(teams[team], calls)
    cards: list[Card] = []
    if level == "agent":
        for agent, calls in sorted(agents.items()):
            team = agent_team[agent]
            card = Card("agent", agent, agent, team, _call_components(calls, "agent", config))
            card.needs = training_needs(calls, teams[team])
            cards.append(card)
    else:
        for team, calls in sorted(teams.items()):
            cards.append(Card("team", team, team, calls.org,
                              _call_components(calls, "team", config)))
    return cards


# --- outlets and branches --------------------------------------------------------------------

def _org_cards(session: Session, *, actor: Actor, level: str, start: datetime, end: datetime,
               month: str, org: Org | None, lang: str, config: WeightsFile) -> list[Card]:
    kind = OrgKind.outlet if level == "outlet" else OrgKind.branch
    query = (select(Org).where(Org.kind == kind.value, Org.active.is_(True),
                               org_service.in_scope(actor, Org.id)).order_by(Org.code))
    if org is not None:
        query = query.where(Org.path.startswith(org.path, autoescape=True))
    cards: list[Card] = []
    for unit in session.scalars(query):
        raw: dict[str, tuple[float | None, int]] = {}
        for code, kpi in (("satisfaction", "csat"), ("complaint_rate", "complaint_rate"),
                          ("on_time", "on_time_rate")):
            report = analytics_service.kpi_report(session, actor=actor, kpi=kpi,
                                                  period=month, org=unit.code, compare=False)
            basis = int(report.figure.denominator or 0)
            raw[code] = (report.figure.value, basis)
        scores = list(session.scalars(
            select(Inspection.score).join(Org, Org.id == Inspection.org_id)
            .where(Org.path.startswith(unit.path, autoescape=True),
                   Inspection.score.is_not(None),
                   Inspection.visited_at >= start, Inspection.visited_at < end)))
        raw["inspection"] = (sum(s for s in scores if s is not None) / len(scores)
                             if scores else None, len(scores))
        qa = [human if human is not None else machine for machine, human in session.execute(
            select(QaResult.machine_score, QaResult.human_score)
            .join(Interaction, Interaction.id == QaResult.interaction_id)
            .join(Org, Org.id == Interaction.org_id)
            .where(Org.path.startswith(unit.path, autoescape=True),
                   Interaction.started_at >= start, Interaction.started_at < end))]
        raw["qa"] = (sum(qa) / len(qa) if qa else None, len(qa))
        parent = unit.parent.code if unit.parent is not None else "—"
        label = (unit.name_en or unit.name) if lang == "en" else unit.name
        cards.append(Card(level, unit.code, label, parent, _components(raw, level, config)))
    return cards


# --- the entry point -------------------------------------------------------------------------

def scorecards(session: Session, *, actor: Actor, level: str, month: str,
               org: str | None = None, lang: str = "zh",
               config: WeightsFile | None = None) -> Scorecards:
    """The month's scorecards of every agent, team, outlet or branch in the actor's scope (or
    `org`'s subtree), ranked within their parent, best first."""
    actor.require("people.read")
    level = _level(level)
    start, end, label = month_bounds(month)
    root = None if org is None else analytics_service.resolve_org(session, actor=actor,
                                                                  code=org)
    weights = config or load_weights()
    if level in ("agent", "team"):
        cards = _people_cards(session, actor=actor, level=level, start=start, end=end,
                              org=root, config=weights)
    else:
        cards = _org_cards(session, actor=actor, level=level, start=start, end=end,
                           month=label, org=root, lang=lang, config=weights)
    for card in cards:
        card.total, card.left_out = combine(card.components)
    rank(cards)
    cards.sort(key=lambda c: (c.parent, c.rank is None, c.rank or 0, c.key))
    return Scorecards(level, label, weights.version, cards, weights.complaint_rate_worst)


def appraisal(session: Session, *, actor: Actor, month: str, lang: str = "zh"
              ) -> Scorecards:
    """The monthly branch service-quality check as an appraisal input: every branch's card."""
    return scorecards(session, actor=actor, level="branch", month=month, lang=lang)
