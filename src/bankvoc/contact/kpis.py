"""The contact centre's operational KPIs, with the banking association's formulas (the
contact-centre service standard; DESIGN.md "Rules of the trade": the thresholds are the bank's).

Over the interactions of a period (and of an agent, team, queue or org subtree):

- connect rate (接通率) = answered by a person ÷ routed to a person
- service level = answered by a person with a wait ≤ X s ÷ answered by a person (X: the
  bank's, from the contact-centre targets in force, `contact.targets`; 20 s by default)
- abandonment rate = abandoned ÷ routed to a person
- average speed of answer = mean wait of the answered
- average handling time = mean (talk + hold + wrap-up) of the answered; average talk time
- transfer rate = transferred (among the answered) ÷ answered
- first-contact resolution = answered interactions of a known customer with no other contact of
  that customer on the same issue in the 7 days that follow ÷ answered interactions of a known
  customer. "Within 7 days" includes the last instant: a contact exactly 7 × 24 h later is a
  repeat. A later contact counts wherever it went (another queue, agent or org) and whatever it
  became (answered or not): the customer came back. Interactions without an issue key share one
  unknown issue, so FCR is never overstated for lack of a key.
- satisfaction = mean CSAT (1-5) of the rated, and the share of them rated 4 or 5.

An empty denominator gives None (no value), never a division error. `compute` and `repeated`
are pure functions over plain facts; `report` reads them from the database for an actor (only
its org subtree).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bankvoc.contact import targets as contact_targets
from bankvoc.contact.models import Interaction
from bankvoc.core.errors import Invalid
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

SERVICE_LEVEL_S = contact_targets.SERVICE_LEVEL_S  # the standard's default X (20 s)
REPEAT_WINDOW = timedelta(days=7)
GROUPINGS = ("agent", "team", "queue", "org")
Grouping = Literal["agent", "team", "queue", "org"]


@dataclass(frozen=True)
class Facts:
    """One interaction as the KPIs read it."""

    id: int
    started_at: datetime
    routed_to_agent: bool
    answered: bool
    abandoned: bool = False
    transferred: bool = False
    wait_s: int = 0
    talk_s: int = 0
    hold_s: int = 0
    wrap_s: int = 0
    customer_id: int | None = None
    issue_key: str | None = None
    csat: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class KpiRow:
    """The KPIs of one group of interactions; None where the denominator is empty."""

    group: str | None
    interactions: int
    connect_rate: float | None
    service_level: float | None
    abandonment_rate: float | None
    asa_s: float | None
    aht_s: float | None
    talk_s: float | None
    transfer_rate: float | None
    fcr: float | None
    csat: float | None
    satisfied_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as `contact kpis --json` writes it (rates as fractions 0-1)."""
        return {
            "group": self.group, "connect_rate": _round(self.connect_rate, 4),
            "service_level": _round(self.service_level, 4),
            "abandonment_rate": _round(self.abandonment_rate, 4),
            "asa_s": _round(self.asa_s, 1), "aht_s": _round(self.aht_s, 1),
            "talk_s": _round(self.talk_s, 1), "transfer_rate": _round(self.transfer_rate, 4),
            "fcr": _round(self.fcr, 4), "csat": _round(self.csat, 2),
            "satisfied_rate": _round(self.satisfied_rate, 4),
            "interactions": self.interactions,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _issue(key: str | None) -> str:
    return key or ""


def repeated(interactions: Iterable[Facts], contacts: Iterable[Facts], *,
             window: timedelta = REPEAT_WINDOW) -> set[int]:
    """Ids of the `interactions` (of a known customer) followed by another of `contacts` of the
    same customer on the same issue, later but at most `window` later."""
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for contact in contacts:
        if contact.customer_id is not None:
            times[(contact.customer_id, _issue(contact.issue_key))].append(contact.started_at)
    for found in times.values():
        found.sort()
    result: set[int] = set()
    for item in interactions:
        if item.customer_id is None:
            continue
        later = times.get((item.customer_id, _issue(item.issue_key)), [])
        following = bisect_right(later, item.started_at)  # strictly later contacts
        if following < len(later) and later[following] <= item.started_at + window:
            result.add(item.id)
    return result


def compute(facts: Sequence[Facts], *, repeated_ids: set[int],
            service_level_s: int = SERVICE_LEVEL_S, group: str | None = None) -> KpiRow:
    """The KPIs of `facts` (see the module's formulas); `repeated_ids` are those followed by a
    repeat contact (`repeated`)."""
    routed = [f for f in facts if f.routed_to_agent]
    answered = [f for f in facts if f.answered]
    known = [f for f in answered if f.customer_id is not None]
    rated = [f.csat for f in facts if f.csat is not None]
    return KpiRow(
        group=group,
        interactions=len(facts),
        connect_rate=_ratio(sum(1 for f in routed if f.answered), len(routed)),
        service_level=_ratio(sum(1 for f in answered if f.wait_s <= service_level_s),
                             len(answered)),
        abandonment_rate=_ratio(sum(1 for f in routed if f.abandoned), len(routed)),
        asa_s=_ratio(sum(f.wait_s for f in answered), len(answered)),
        aht_s=_ratio(sum(f.talk_s + f.hold_s + f.wrap_s for f in answered), len(answered)),
        talk_s=_ratio(sum(f.talk_s for f in answered), len(answered)),
        transfer_rate=_ratio(sum(1 for f in answered if f.transferred), len(answered)),
        fcr=_ratio(sum(1 for f in known if f.id not in repeated_ids), len(known)),
        csat=_ratio(sum(rated), len(rated)),
        satisfied_rate=_ratio(sum(1 for c in rated if c >= 4), len(rated)),
    )


def compute_groups(facts: Sequence[Facts], *, repeated_ids: set[int],
                   service_level_s: int = SERVICE_LEVEL_S) -> list[KpiRow]:
    """One row per group of `facts` (by their `group`), groups in order, None last."""
    groups: dict[str | None, list[Facts]] = defaultdict(list)
    for fact in facts:
        groups[fact.group].append(fact)
    order = sorted(groups, key=lambda g: (g is None, g or ""))
    return [compute(groups[g], repeated_ids=repeated_ids, service_level_s=service_level_s,
                    group=g) for g in order]


# --- from the database --------------------------------------------------------------------------

def period(start: date | None, end: date | None, tz: ZoneInfo
           ) -> tuple[datetime | None, datetime | None]:
    """[start, end] as whole local days of the bank, as UTC instants [from, until)."""
    if start is not None and end is not None and end < start:
        raise Invalid("the period ends before it starts", field="to")
    since = datetime.combine(start, time(), tz) if start is not None else None
    until = datetime.combine(end + timedelta(days=1), time(), tz) if end is not None else None
    return since, until


def _group_column(by: Grouping | None) -> Any:
    if by is None:
        return None
    if by not in GROUPINGS:
        raise Invalid(f"cannot group by {by!r}; use one of {', '.join(GROUPINGS)}", field="by")
    return Org.code if by == "org" else getattr(Interaction, by)


_FACT_COLUMNS = (
    Interaction.id, Interaction.started_at, Interaction.routed_to_agent, Interaction.answered,
    Interaction.abandoned, Interaction.transferred, Interaction.wait_s, Interaction.talk_s,
    Interaction.hold_s, Interaction.wrap_s, Interaction.customer_id, Interaction.issue_key,
    Interaction.csat,
)
_FACT_NAMES = tuple(column.key for column in _FACT_COLUMNS)


def scoped(actor: Actor, *, by: Grouping | None = None, since: datetime | None = None,
           until: datetime | None = None, org: Org | None = None, agent: str | None = None,
           team: str | None = None, queue: str | None = None
           ) -> Select[*tuple[Any, ...]]:
    """The facts of the interactions the actor may see, cut as asked, with their group."""
    group = _group_column(by)
    query = (select(*_FACT_COLUMNS, group if group is not None else Interaction.id)
             .join(Org, Org.id == Interaction.org_id)
             .where(org_service.in_scope(actor, Interaction.org_id)))
    if org is not None:
        query = query.where(Org.path.startswith(org.path, autoescape=True))
    if since is not None:
        query = query.where(Interaction.started_at >= since)
    if until is not None:
        query = query.where(Interaction.started_at < until)
    for column, value in ((Interaction.agent, agent), (Interaction.team, team),
                          (Interaction.queue, queue)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(Interaction.started_at, Interaction.id)


def _facts(rows: Iterable[Any], *, grouped: bool) -> list[Facts]:
    facts = []
    for row in rows:
        *values, group = tuple(row)
        facts.append(_fact(values, group if grouped else None))
    return facts


def _fact(values: Sequence[Any], group: str | None = None) -> Facts:
    return Facts(**dict(zip(_FACT_NAMES, values, strict=True)), group=group)


def later_contacts(session: Session, *, facts: Sequence[Facts],
                   window: timedelta = REPEAT_WINDOW) -> list[Facts]:
    """Every contact of a known customer that may be a repeat of one of `facts`: from the
    first of them to `window` after the last, whatever its org (the customer came back; only
    whether they did is used, nothing of the other contact is shown)."""
    starts = [f.started_at for f in facts if f.answered and f.customer_id is not None]
    if not starts:
        return []
    rows = session.execute(
        select(*_FACT_COLUMNS).where(
            Interaction.customer_id.is_not(None),
            Interaction.started_at > min(starts),
            Interaction.started_at <= max(starts) + window))
    return [_fact(tuple(row)) for row in rows]


def facts_of(session: Session, *, actor: Actor, by: Grouping | None = None,
             start: date | None = None, end: date | None = None, org_code: str | None = None,
             tz: ZoneInfo) -> list[Facts]:
    """The facts of the actor's interactions of [start, end] (local days), in time order, each
    with its group (`by`); `org_code` cuts an org's subtree (one outside the actor's is
    refused, naming the field `org`)."""
    actor.require("kpi.read")
    org = scope_org(session, actor=actor, org_code=org_code) if org_code is not None else None
    since, until = period(start, end, tz)
    return _facts(session.execute(scoped(actor, by=by, since=since, until=until, org=org)),
                  grouped=by is not None)


def scope_org(session: Session, *, actor: Actor, org_code: str | None = None) -> Org:
    """The org the figures are about: `org_code`'s (one outside the actor's subtree is refused,
    naming the field `org`), else the actor's own."""
    if org_code is None:
        return org_service.get_org_by_id(session, org_id=actor.org_id)
    org = org_service.get_org_by_code(session, code=org_code)
    if not org_service.org_visible(actor, org):
        raise Invalid(f"org {org_code!r} is outside your scope", field="org")
    return org


def org_codes(session: Session, *, org: Org) -> list[str]:
    """The codes of the org's ancestors and its own, from the top down (how the targets' `orgs`
    are looked up: the nearest wins)."""
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    codes = {org_id: code for org_id, code in
             session.execute(select(Org.id, Org.code).where(Org.id.in_(ids)))}
    return [codes[i] for i in ids if i in codes]


def window_for(session: Session, *, actor: Actor, org_code: str | None = None) -> int:
    """X of the service level in force for the scope (`org_code`'s subtree, else the actor's):
    the nearest org's in the contact-centre targets in force, else the bank-wide one."""
    codes = org_codes(session, org=scope_org(session, actor=actor, org_code=org_code))
    return contact_targets.load_targets().window(codes)


def check_threshold(service_level_s: int) -> None:
    if service_level_s < 0:
        raise Invalid("the service-level threshold is a number of seconds ≥ 0",
                      field="service_level_s")


def report(session: Session, *, actor: Actor, by: Grouping | None = None,
           start: date | None = None, end: date | None = None, org_code: str | None = None,
           tz: ZoneInfo, service_level_s: int | None = None) -> list[KpiRow]:
    """The KPIs of the actor's interactions of [start, end] (local days), one row per group
    (`by`), or one row "all" for them all. The service level counts the answered within
    `service_level_s` seconds; None: the window of the targets in force for the scope."""
    actor.require("kpi.read")
    if service_level_s is None:
        service_level_s = window_for(session, actor=actor, org_code=org_code)
    check_threshold(service_level_s)
    facts = facts_of(session, actor=actor, by=by, start=start, end=end, org_code=org_code,
                     tz=tz)
    repeats = repeated([f for f in facts if f.answered], later_contacts(session, facts=facts))
    if by is None:
        return [compute(facts, repeated_ids=repeats, service_level_s=service_level_s,
                        group="all")]
    return compute_groups(facts, repeated_ids=repeats, service_level_s=service_level_s)
