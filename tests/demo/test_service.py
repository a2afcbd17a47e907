from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bankvoc.branches.models import Inspection, InspectionFinding
from bankvoc.cases.models import Case
from bankvoc.contact import kpis
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from bankvoc.core.settings import get_settings, reset_settings
from bankvoc.demo import contact, generator, service
from bankvoc.demo.service import DemoModeRequired, DemoReport, demo_token, load_demo
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind, Role
from bankvoc.orgs.models import ApiToken, Org
from bankvoc.people import training as people_training
from bankvoc.servicedata import service as servicedata
from tests.conftest import copy_database, drop_database, migrated_database

TODAY = date(2025, 6, 30)
CASES = 300
SECRET = "a-secret-key-for-these-tests-only-0123456789"


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_db_url)
    yield engine
    engine.dispose()


@dataclass
class Loaded:
    """A database with the demo loaded (CASES cases, the year to TODAY, in demo mode) and the
    load's report. Tests never touch it: each gets a copy (`loaded_engine`)."""

    url: str
    report: DemoReport


@pytest.fixture(scope="class")
def loaded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One demo load per backend, shared by the tests that start from it (it takes seconds)."""
    url = migrated_database(backend, tmp_path_factory.mktemp("demo"), "demo")
    engine = build_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BANKVOC_DEMO", "1")
        reset_settings()
        report = load_demo(engine, cases=CASES, today=TODAY)
    reset_settings()
    engine.dispose()
    reset_engines()  # nothing may stay connected to the database copies are made from
    yield Loaded(url=url, report=report)
    drop_database(url)


@pytest.fixture
def loaded_engine(loaded: Loaded, tmp_path: Path) -> Iterator[Engine]:
    """A copy of the `loaded` database of the test's own: what the test writes, no other sees."""
    url = copy_database(loaded.url, tmp_path)
    engine = build_engine(url)
    yield engine
    engine.dispose()
    reset_engines()
    drop_database(url)


@pytest.fixture
def demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKVOC_DEMO", "1")
    reset_settings()


class TestRequireDemoMode:
    def test_refuses_outside_demo_mode(self) -> None:
        with pytest.raises(DemoModeRequired, match="BANKVOC_DEMO=1"):
            service.require_demo_mode(force=False)

    @pytest.mark.usefixtures("demo_mode")
    def test_allows_in_demo_mode(self) -> None:
        service.require_demo_mode(force=False)

    def test_force_allows_outside_demo_mode(self) -> None:
        service.require_demo_mode(force=True)


class TestDemoToken:
    def test_is_the_same_on_every_call(self) -> None:
        assert demo_token(SECRET, "demo_cpo") == demo_token(SECRET, "demo_cpo")

    def test_differs_by_user_and_by_secret_key(self) -> None:
        token = demo_token(SECRET, "demo_cpo")
        assert token.startswith("bv_demo_")
        assert len(token) == len("bv_demo_") + 32
        assert token != demo_token(SECRET, "demo_agent")
        assert token != demo_token(SECRET + "x", "demo_cpo")


class TestEnsureOrgs:
    def test_builds_the_tree_under_head_office(self, session: Session) -> None:
        assert service.ensure_orgs(session) == len(generator.ORG_SPECS)
        hq = org_service.get_org_by_code(session, code="HQ")
        for spec in generator.ORG_SPECS:
            org = org_service.get_org_by_code(session, code=spec.code)
            parent = org_service.get_org_by_code(session, code=spec.parent)
            assert org.parent_id == parent.id
            assert org.path.startswith(hq.path)
            assert (org.name, org.kind) == (spec.name, spec.kind.value)

    def test_a_second_call_creates_nothing(self, session: Session) -> None:
        service.ensure_orgs(session)
        assert service.ensure_orgs(session) == 0

    def test_keeps_an_org_that_already_exists(self, session: Session) -> None:
        hq = org_service.get_org_by_code(session, code="HQ")
        org_service.create_org(session, code="BJ", name="北京分行（原有）", kind=OrgKind.branch,
                               parent=hq)
        assert service.ensure_orgs(session) == len(generator.ORG_SPECS) - 1
        assert org_service.get_org_by_code(session, code="BJ").name == "北京分行（原有）"


class TestEnsureUsers:
    def test_creates_a_user_for_every_role_with_a_working_token(self, session: Session) -> None:
        service.ensure_orgs(session)
        tokens, created = service.ensure_users(session, secret_key=SECRET)
        assert created == len(generator.USER_SPECS)
        roles: set[str] = set()
        for spec in generator.USER_SPECS:
            actor = org_service.authenticate(session, token=tokens[spec.username])
            assert actor.username == spec.username
            assert actor.org_id == org_service.get_org_by_code(session, code=spec.org).id
            roles |= actor.roles
        assert roles == set(Role)

    def test_a_second_call_keeps_users_and_tokens(self, session: Session) -> None:
        service.ensure_orgs(session)
        first, _ = service.ensure_users(session, secret_key=SECRET)
        rows = session.scalar(select(func.count()).select_from(ApiToken))
        again, created = service.ensure_users(session, secret_key=SECRET)
        assert (again, created) == (first, 0)
        assert session.scalar(select(func.count()).select_from(ApiToken)) == rows

    def test_every_demo_user_logs_in_with_the_demo_password(self, session: Session) -> None:
        service.ensure_orgs(session)
        service.ensure_users(session, secret_key=SECRET)
        for name in [spec.username for spec in generator.USER_SPECS] + ["admin"]:
            done = auth.log_in(session, username=name, password=service.DEMO_PASSWORD,
                               client_ip=None)
            assert not done.user.must_change_password

    def test_a_password_a_demo_user_chose_is_kept(self, session: Session) -> None:
        service.ensure_orgs(session)
        service.ensure_users(session, secret_key=SECRET)
        user = org_service.get_user(session, username="demo_cpo")
        auth.change_password(session, user=user, current=service.DEMO_PASSWORD,
                             new="My-own-password-1")
        service.ensure_users(session, secret_key=SECRET)
        assert auth.verify_password(user.password_hash, "My-own-password-1")


class TestCallsFor:
    def test_a_fifth_of_the_cases_within_bounds(self) -> None:
        assert service.calls_for(service.DEFAULT_CASES) == service.DEFAULT_CALLS == 3_000
        assert service.calls_for(10_000) == 2_000
        assert service.calls_for(150) == service.MIN_CALLS
        assert service.calls_for(1_000_000) == service.DEFAULT_CALLS


class TestEarlierToday:
    def test_is_none_before_any_demo_load(self, session: Session) -> None:
        assert service.earlier_today(session) is None


class TestLoadDemo:
    def test_refuses_outside_demo_mode(self, engine: Engine) -> None:
        with pytest.raises(DemoModeRequired):
            load_demo(engine, cases=CASES, today=TODAY)
        with unit_of_work(engine) as session:
            assert session.scalar(select(func.count()).select_from(Org)) == 1

    @pytest.mark.usefixtures("demo_mode")
    def test_loads_orgs_users_and_cases(self, loaded: Loaded, loaded_engine: Engine) -> None:
        report, engine = loaded.report, loaded_engine
        assert report.as_dict()["cases"] == CASES
        assert report.counts["accepted"] + report.counts["merged"] == CASES
        assert report.counts["merged"] > 0  # repeat complainants said it again
        assert report.orgs_created == len(generator.ORG_SPECS)
        assert report.users_created == len(generator.USER_SPECS)
        assert report.seconds > 0
        with unit_of_work(engine) as session:
            assert service.count_demo_records(session) == CASES
            severities = set(session.scalars(select(Case.severity).distinct()))
            products = set(session.scalars(select(Case.product).distinct()))
            statuses = set(session.scalars(select(Case.status).distinct()))
        assert {"general", "important", "urgent"} <= severities
        assert len(products) >= 8
        # A share of the cases is worked through the loop, as a working bank's would be.
        assert {"received", "accepted", "investigating", "resolved"} <= statuses
        assert report.workflow["worked"] > 0
        # What the VOC screens need: denominators, targets, the problem library, the roll-up.
        voc = report.as_dict()["voc"]
        assert voc["org_stats"] > 0
        assert voc["targets"] > 0
        assert voc["problems"] == 3
        assert voc["rollup_rows"] > 0
        # And the branch-inspection screens: half a year of visits per outlet, some findings.
        with unit_of_work(engine) as session:
            outlets = session.execute(select(func.count()).select_from(Org).where(
                Org.kind.in_([OrgKind.outlet.value, OrgKind.sub_branch.value]))).scalar_one()
            findings = dict(session.execute(
                select(InspectionFinding.status, func.count())
                .group_by(InspectionFinding.status)).all())
            scores = list(session.scalars(select(Inspection.score)))
        assert report.inspections == 6 * outlets > 0
        assert findings.get("open", 0) > 0  # the latest visits' findings
        assert findings.get("done", 0) > 0  # older ones put right
        assert any(s is not None and s < 100 for s in scores)
        # And the training screen: a session a month per contact-centre team (each agent
        # attends), one every other month per outlet (4 staff each).
        agents = sum(len(team.agents) for team in contact.TEAMS)
        assert report.training == 6 * agents + 3 * 4 * outlets
        with unit_of_work(engine) as session:
            admin = org_service.actor_for(org_service.get_user(session, username="admin"))
            month = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
            rate = people_training.pass_rate(session, actor=admin, month=month)
        assert rate.assessed > 0
        assert rate.value is not None
        assert 50 < rate.value <= 100
        # And the service-data screen: half a year per outlet and of each digital channel.
        figures = report.as_dict()["service_data"]
        assert figures["queue"] == 6 * 40 * outlets
        assert figures["usage"] == 6 * outlets
        assert figures["process"] > 6 * 18 * outlets * 0.9  # the last ones may still be open
        assert figures["channel"] >= 4 * 150
        assert 0 < report.service_data_seconds < report.seconds
        with unit_of_work(engine) as session:
            actor = org_service.actor_for(org_service.get_user(session, username="admin"))
            waits = {
                code: servicedata.report(session, actor=actor, org=code, start=TODAY,
                                         end=TODAY, metrics=["queue_wait_avg"]).series[0]
                for code in ("BJ0101", "HQ")}
        crowded, bank = waits["BJ0101"].latest.value, waits["HQ"].latest.value
        assert crowded is not None
        assert bank is not None
        assert crowded > bank  # some outlets are worse than others
        # And the contact centre: its staff and half a year of calls, through the import.
        assert report.contact is not None
        assert report.as_dict()["contact"] == {
            "staff_created": report.contact.staff_created, "rejected": 0,
            "interactions": service.calls_for(CASES),
            "with_transcripts": report.contact.with_transcripts}
        assert report.contact.staff_created > 20
        assert report.contact.with_transcripts > 0
        with unit_of_work(engine) as session:
            lead = org_service.actor_for(org_service.get_user(session,
                                                              username="demo_team_lead"))
            teams = kpis.report(session, actor=lead, by="team", tz=get_settings().tz)
        assert len(teams) == len(contact.TEAMS)
        assert sum(t.interactions for t in teams) == service.calls_for(CASES)

    @pytest.mark.usefixtures("demo_mode")
    def test_a_second_load_changes_nothing(self, loaded: Loaded, loaded_engine: Engine) -> None:
        first = loaded.report
        again = load_demo(loaded_engine, cases=CASES, today=TODAY)
        assert again.as_dict() | {"seconds": 0, "service_data_seconds": 0} == {
            "cases": CASES, "accepted": 0, "merged": 0, "updated": 0, "unchanged": CASES,
            "rejected": 0, "seconds": 0, "today": TODAY.isoformat(), "users": first.users,
            "workflow": {"worked": 0, "steps": 0, "callbacks": 0, "answered": 0},
            "voc": {"org_stats": 0, "targets": 0, "problems": 0, "linked_cases": 0,
                    "rollup_rows": 0, "alerts": 0},
            "inspections": 0, "training": 0,
            "service_data": {"queue": 0, "channel": 0, "process": 0, "usage": 0},
            "service_data_seconds": 0,
            "contact": {"staff_created": 0, "interactions": 0, "with_transcripts": 0,
                        "rejected": 0}}
        assert (again.orgs_created, again.users_created) == (0, 0)

    @pytest.mark.usefixtures("demo_mode")
    def test_a_later_load_keeps_the_year_of_the_first(self, loaded_engine: Engine) -> None:
        # The first load (cases=CASES, today=TODAY) is the one `loaded_engine` is a copy of.
        again = load_demo(loaded_engine, cases=CASES)
        assert again.today == TODAY
        assert again.counts["unchanged"] == CASES

    @pytest.mark.usefixtures("demo_mode")
    def test_a_load_on_another_day_moves_the_year(self, engine: Engine) -> None:
        load_demo(engine, cases=50, today=TODAY)
        moved = load_demo(engine, cases=50, today=TODAY + timedelta(days=1))
        assert moved.counts["updated"] + moved.counts["merged"] > 0
        with unit_of_work(engine) as session:
            assert service.earlier_today(session) == TODAY + timedelta(days=1)

    def test_force_loads_outside_demo_mode(self, engine: Engine) -> None:
        report = load_demo(engine, cases=20, today=TODAY, force=True)
        assert report.counts["rejected"] == 0

    @pytest.mark.usefixtures("demo_mode")
    def test_demo_tokens_authenticate_as_their_users(self, loaded: Loaded,
                                                     loaded_engine: Engine) -> None:
        report = loaded.report
        with unit_of_work(loaded_engine) as session:
            for spec in generator.USER_SPECS:
                actor = org_service.authenticate(session, token=report.users[spec.username])
                assert actor.username == spec.username
                assert actor.roles == {r.value for r in spec.roles}
