"""The demo's phone-banking centre: half a year of calls with the patterns a real centre shows
(generated without a database, checked with the KPIs' own formulas), and its import through the
contact import service (staff created, every call stored once, the agents and callers found)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from bankvoc.contact import interactions, kpis
from bankvoc.contact.kpis import Facts
from bankvoc.contact.models import Interaction
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.demo import contact, service
from bankvoc.demo.generator import CONTACT_CENTRE, DEFAULT_SEED, USER_SPECS
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import User

TODAY = date(2026, 6, 30)
N = 6_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
Row = dict[str, Any]
# The centre's staff who are not demo users already (those log in with the demo password).
NEW_STAFF = {name for name, _, _ in contact.staff()} - {u.username for u in USER_SPECS}


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return list(contact.generate_calls(N, DEFAULT_SEED, TODAY))


def facts(rows: list[Row], phones: dict[str, int] | None = None) -> list[Facts]:
    """The rows as the KPIs read them (a caller's phone standing for the customer)."""
    phones = phones if phones is not None else {}
    return [Facts(
        id=i, started_at=r["started_at"], routed_to_agent=r["routed_to_agent"],
        answered=r["answered"], abandoned=r["abandoned"], transferred=r.get("transferred", False),
        wait_s=r.get("wait_s", 0), talk_s=r.get("talk_s", 0), hold_s=r.get("hold_s", 0),
        wrap_s=r.get("wrap_s", 0), issue_key=r["issue_key"], csat=r.get("csat"),
        customer_id=phones.setdefault(r["phone"], len(phones)) if "phone" in r else None)
        for i, r in enumerate(rows)]


def kpis_of(rows: list[Row], among: list[Row] | None = None) -> kpis.KpiRow:
    """The KPIs of `rows`, a caller's later contacts looked for among all of `among` (a
    repeat counts wherever it went)."""
    among = among if among is not None else rows
    every = facts(among)
    wanted = {row["source_id"] for row in rows}
    found = [every[i] for i, row in enumerate(among) if row["source_id"] in wanted]
    answered = [f for f in found if f.answered]
    return kpis.compute(found, repeated_ids=kpis.repeated(answered, every))


class TestGenerateCalls:
    def test_the_same_seed_gives_the_same_calls(self, rows: list[Row]) -> None:
        assert list(contact.generate_calls(N, DEFAULT_SEED, TODAY)) == rows
        assert list(contact.generate_calls(N, DEFAULT_SEED + 1, TODAY)) != rows

    def test_n_calls_of_the_half_year_in_opening_hours_in_time_order(
            self, rows: list[Row]) -> None:
        assert len(rows) == N
        assert len({r["source_id"] for r in rows}) == N
        starts = [r["started_at"] for r in rows]
        assert starts == sorted(starts)
        assert starts[0].date() == TODAY - timedelta(days=contact.DAYS)
        assert starts[-1].date() == TODAY - timedelta(days=1)
        assert {s.hour for s in starts} == set(range(8, 22))

    def test_every_call_is_a_valid_row_of_the_import(self, rows: list[Row]) -> None:
        for row in rows:
            data = interactions.parse(row, source_system=contact.SOURCE_SYSTEM)
            assert data.org == CONTACT_CENTRE
            assert data.queue in {q.name for q in contact.QUEUES}

    def test_mondays_are_busier_than_sundays_and_mornings_than_evenings(
            self, rows: list[Row]) -> None:
        weekdays = Counter(r["started_at"].weekday() for r in rows)
        hours = Counter(r["started_at"].hour for r in rows)
        assert weekdays[0] > 1.8 * weekdays[6]
        assert hours[10] > 3 * hours[20]

    def test_abandonment_rises_and_the_service_level_falls_at_the_peaks(
            self, rows: list[Row]) -> None:
        peak = kpis_of([r for r in rows if r["started_at"].hour in (10, 15)])
        quiet = kpis_of([r for r in rows if r["started_at"].hour in (8, 19, 20, 21)])
        assert peak.abandonment_rate is not None
        assert quiet.abandonment_rate is not None
        assert peak.abandonment_rate > 2 * quiet.abandonment_rate
        assert peak.service_level is not None
        assert quiet.service_level is not None
        assert peak.service_level < quiet.service_level - 0.1

    def test_some_teams_are_better_than_others(self, rows: list[Row]) -> None:
        teams: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            teams[row["team"]].append(row)
        best = kpis_of(teams["信用卡一组"], rows)
        worst = kpis_of(teams["综合服务组"], rows)
        for name in ("service_level", "fcr", "satisfied_rate"):
            assert getattr(best, name) > getattr(worst, name) + 0.05, name
        assert best.abandonment_rate < worst.abandonment_rate  # type: ignore[operator]

    def test_the_whole_centre_looks_like_a_working_one(self, rows: list[Row]) -> None:
        row = kpis_of(rows)
        assert 0.75 < row.service_level < 0.92  # type: ignore[operator]
        assert 0.02 < row.abandonment_rate < 0.12  # type: ignore[operator]
        assert 0.6 < row.fcr < 0.9  # type: ignore[operator]  # callers do come back
        assert 3.8 < row.csat < 4.7  # type: ignore[operator]

    def test_unresolved_callers_come_back_on_the_same_issue(self, rows: list[Row]) -> None:
        seen: dict[tuple[str, str], datetime] = {}
        repeats = 0
        for row in rows:
            if "phone" not in row:
                continue
            key = (row["phone"], row["issue_key"])
            if key in seen and row["started_at"] - seen[key] <= timedelta(days=7):
                repeats += 1
            seen[key] = row["started_at"]
        assert repeats > N * 0.05

    def test_a_share_is_rated_and_a_sample_carries_its_transcript(
            self, rows: list[Row]) -> None:
        answered = [r for r in rows if r["answered"]]
        rated = [r for r in answered if "csat" in r]
        assert 0.28 < len(rated) / len(answered) < 0.42
        assert {r["csat"] for r in rated} == {1, 2, 3, 4, 5}
        assert not any("csat" in r for r in rows if not r["answered"])
        with_turns = [r for r in rows if "turns" in r]
        assert 0.02 < len(with_turns) / len(answered) < 0.07
        assert all(r["answered"] for r in with_turns)
        for row in with_turns:
            assert row["talk_s"] == max(row["turns"][-1]["end_ms"] // 1000, 1)
            assert {t["speaker"] for t in row["turns"]} == {"agent", "customer"}

    def test_only_answered_calls_have_an_agent_of_their_team(self, rows: list[Row]) -> None:
        agents = {team.name: {u for u, _ in team.agents} for team in contact.TEAMS}
        for row in rows:
            if row["answered"]:
                assert row["agent"] in agents[row["team"]]
            else:
                assert "agent" not in row

    def test_some_calls_stay_in_the_ivr(self, rows: list[Row]) -> None:
        ivr = [r for r in rows if not r["routed_to_agent"]]
        assert 0.05 < len(ivr) / N < 0.15
        assert not any(r["answered"] or r["abandoned"] for r in ivr)


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_db_url)
    with unit_of_work(engine) as session:
        service.ensure_orgs(session)
        service.ensure_users(session, secret_key="a-secret-key-for-these-tests-only-0123456789")
    yield engine
    engine.dispose()


class TestSeedContactCentre:
    def test_stores_every_call_through_the_import(self, engine: Engine) -> None:
        report = contact.seed_contact_centre(engine, today=TODAY, seed=DEFAULT_SEED,
                                             calls=600, batch_size=250)
        assert report.as_dict() == {
            "staff_created": len(NEW_STAFF),
            "interactions": 600, "with_transcripts": report.with_transcripts, "rejected": 0}
        assert report.with_transcripts > 0
        with unit_of_work(engine) as session:
            stored = session.execute(select(func.count()).select_from(Interaction).where(
                Interaction.source_system == contact.SOURCE_SYSTEM)).scalar_one()
            answered = session.execute(select(func.count()).select_from(Interaction).where(
                Interaction.answered, Interaction.agent_user_id.is_(None))).scalar_one()
            callers = session.execute(select(func.count(func.distinct(
                Interaction.customer_id)))).scalar_one()
            lead = org_service.get_user(session, username="rbc_lead_gs")
            centre = org_service.get_org_by_code(session, code=CONTACT_CENTRE)
            agents = session.execute(select(func.count()).select_from(User).where(
                User.org_id == centre.id)).scalar_one()
            (row,) = kpis.report(session, actor=org_service.actor_for(
                org_service.get_user(session, username="demo_team_lead")), tz=SHANGHAI)
        assert stored == 600
        assert answered == 0  # every answering agent is a user of the centre
        assert callers > 50  # the callers' phones found or recorded customers
        assert (lead.roles, lead.org_id) == (["team_lead"], centre.id)
        assert agents >= len(contact.staff())
        assert row.interactions == 600  # the team lead sees the centre's calls

    def test_a_second_seed_stores_nothing_again(self, engine: Engine) -> None:
        contact.seed_contact_centre(engine, today=TODAY, seed=DEFAULT_SEED, calls=100)
        again = contact.seed_contact_centre(engine, today=TODAY, seed=DEFAULT_SEED, calls=100)
        assert again.as_dict() == {"staff_created": 0, "interactions": 0,
                                   "with_transcripts": 0, "rejected": 0}
        with unit_of_work(engine) as session:
            assert session.scalar(select(func.count()).select_from(Interaction)) == 100
