"""The scorecard and training pages: for the viewer's org subtree (or an org of it) and a
month, the ranking of agents, teams, outlets or branches with one card opened (its components
raw and normalised, the weights applied, its training needs), and the training sessions with
their pass rate against the target. Everything goes through `people`, which checks the role
and the scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.orgs.service import Actor
from bankvoc.people import scorecard, training
from bankvoc.people.scorecard import Card
from bankvoc.people.weights import LEVELS
from bankvoc.web.present import Labeller, Problem

_FIELDS = {"level": "pp.field_level", "month": "pp.field_month", "org": "pp.field_org",
           "key": "pp.field_key"}


def _num(value: float | None, lab: Labeller, unit: str = "") -> str:
    return lab("pp.none") if value is None else f"{value:.1f}{unit}"


def this_month() -> str:
    return datetime.now(get_settings().tz).strftime("%Y-%m")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    parent: str
    rank: str
    total: str
    cells: list[str]
    url: str
    chosen: bool


@dataclass(frozen=True)
class Part:
    label: str
    raw: str
    basis: int
    normalised: str
    how: str
    weight: str


@dataclass(frozen=True)
class NeedLine:
    category: str
    rate: str
    team_rate: str


@dataclass
class CardView:
    key: str
    title: str
    total: str
    rank: str
    parts: list[Part]
    left_out: str
    needs: list[NeedLine] | None  # None: not an agent's card


@dataclass
class ScorecardView:
    values: dict[str, str]
    levels: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    card: CardView | None = None
    weights_version: str = ""
    problem: Problem | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _problem(exc: BankvocError, lab: Labeller, fields: dict[str, str], default: str) -> Problem:
    name = exc.field if exc.field in fields else default
    return Problem(field=f"f-{name}", label=lab(fields[name]), message=lab("pp.invalid"),
                   detail=exc.message)


def _card(card: Card, lab: Labeller, worst: float) -> CardView:
    parts = [Part(label=lab(f"pp.comp.{c.code}"),
                  raw=_num(c.raw, lab, "" if c.code in ("qa", "inspection") else "%"),
                  basis=c.basis, normalised=_num(c.normalised, lab),
                  how=lab(f"pp.how.{c.code}", worst=f"{worst:g}"),
                  weight=f"{c.weight:g} → {c.applied:.1f}") for c in card.components]
    left_out = (lab("pp.left_out", codes="、".join(lab(f"pp.comp.{c}") for c in card.left_out))
                if card.left_out else "")
    needs = None if card.level != "agent" else [
        NeedLine(n.category, f"{100 * n.rate:.1f}%", f"{100 * n.team_rate:.1f}%")
        for n in card.needs]
    rank = (lab("pp.rank_of", rank=card.rank, peers=card.peers) if card.rank is not None
            else lab("pp.none"))
    return CardView(key=card.key, title=lab("pp.card", name=card.label),
                    total=_num(card.total, lab), rank=rank, parts=parts, left_out=left_out,
                    needs=needs)


def scorecards(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
               root: str = "") -> ScorecardView:
    values = {name: str(params.get(name, "")).strip()[:64] for name in _FIELDS}
    values["level"] = values["level"] or "agent"
    values["month"] = values["month"] or this_month()
    view = ScorecardView(values=values,
                         levels=[(level, lab(f"pp.level.{level}")) for level in LEVELS])
    try:
        found = scorecard.scorecards(session, actor=actor, level=values["level"],
                                     month=values["month"], org=values["org"] or None,
                                     lang=lab.lang)
        chosen = found.card(values["key"]) if values["key"] else None
    except BankvocError as exc:
        view.problem = _problem(exc, lab, _FIELDS, "month")
        return view
    view.weights_version = found.weights_version
    codes = [c.code for c in found.cards[0].components] if found.cards else []
    view.columns = [lab(f"pp.comp.{code}") for code in codes]
    base = {"level": values["level"], "month": found.month, "org": values["org"],
            "lang": lab.lang}
    for card in found.cards:
        by_code = {c.code: c for c in card.components}
        view.rows.append(Row(
            key=card.key, label=card.label, parent=card.parent,
            rank=str(card.rank) if card.rank is not None else lab("pp.none"),
            total=_num(card.total, lab),
            cells=[_num(by_code[code].normalised, lab) if code in by_code else lab("pp.none")
                   for code in codes],
            url=f"{root}/people/scorecards?{urlencode({**base, 'key': card.key})}",
            chosen=chosen is not None and card.key == chosen.key))
    if chosen is not None:
        view.card = _card(chosen, lab, found.complaint_rate_worst)
    return view


# --- training ----------------------------------------------------------------------------------

_TRAINING_FIELDS = {"month": "pp.field_month", "org": "pp.field_org"}


@dataclass(frozen=True)
class SessionLine:
    code: str
    day: str
    topic: str
    trainer: str
    org: str
    categories: str
    pass_mark: str
    attendees: int
    passed: str
    rate: str


@dataclass
class TrainingView:
    values: dict[str, str]
    target: str = f"{training.PASS_RATE_TARGET:g}"
    rate: str = ""
    met: bool | None = None
    sessions: list[SessionLine] = field(default_factory=list)
    problem: Problem | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def training_page(session: Session, *, actor: Actor, params: Mapping[str, str],
                  lab: Labeller) -> TrainingView:
    values = {name: str(params.get(name, "")).strip()[:64] for name in _TRAINING_FIELDS}
    values["month"] = values["month"] or this_month()
    view = TrainingView(values=values)
    try:
        found = training.pass_rate(session, actor=actor, month=values["month"],
                                   org=values["org"] or None)
    except BankvocError as exc:
        view.problem = _problem(exc, lab, _TRAINING_FIELDS, "month")
        return view
    view.met = found.met
    view.rate = (lab("pp.none") if found.value is None else
                 lab("tr.pass_rate_value", value=f"{found.value:.1f}%", passed=found.passed,
                     assessed=found.assessed))
    for line in found.sessions:
        s = line.session
        view.sessions.append(SessionLine(
            code=s.code, day=s.session_date.isoformat(), topic=s.topic, trainer=s.trainer,
            org=line.org.code, categories="、".join(s.categories) or lab("pp.none"),
            pass_mark=f"{s.pass_mark:g}", attendees=line.attendees,
            passed=f"{line.passed} / {line.assessed}",
            rate=_num(line.pass_rate, lab, "%")))
    return view
