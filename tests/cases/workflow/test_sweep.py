"""The SLA sweep: warnings and escalations along the chain, each fired once, with their
notifications; planned at receipt, re-planned by every step, safe to run twice at once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.cases.events import append_event, verify_chain
from bankvoc.cases.models import CASE_TABLE, Case, CaseEvent
from bankvoc.cases.workflow import schemas, service
from bankvoc.cases.workflow.alarms import Plan
from bankvoc.cases.workflow.service import StaleCase
from bankvoc.cases.workflow.sweep import (
    SweepResult,
    choose,
    replan_for_policy,
    sweep,
    sweep_batch,
)
from bankvoc.core.db import build_engine, transaction
from bankvoc.notify.models import Notification
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import User
from bankvoc.sla.policy import load_policy
from tests.cases.workflow.test_service import register
from tests.conftest import World, build_world

# Received 2026-09-22 15:30 Beijing time (07:30 UTC): the decision is due at the end of
# 2026-10-08 (16:00 UTC), after the National Day holiday.
RECEIVED = datetime(2026, 9, 22, 7, 30, tzinfo=UTC)
DUE = datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
HALF = RECEIVED + (DUE - RECEIVED) / 2


def addresses(world: World) -> None:
    for username, email in (("bj_handler", "handler@bank.example"),
                            ("bj_lead", "lead@bank.example"),
                            ("bj_manager", "manager@bank.example"),
                            ("hq_cpo", "cpo@bank.example")):
        org_service.get_user(world.session, username=username).email = email
    world.session.flush()


@pytest.fixture
def staffed(bank: World) -> World:
    addresses(bank)
    return bank


def sla_events(world: World, case: Case) -> list[tuple[str, dict[str, Any]]]:
    return [(row.type, row.data) for row in world.session.execute(
        select(CaseEvent.type, CaseEvent.data).where(
            CaseEvent.case_id == case.id, CaseEvent.type.like("sla_%"))
        .order_by(CaseEvent.seq))]


def notices(world: World, case: Case) -> list[tuple[str, str | None]]:
    return [(row.template, row.recipient_ref) for row in world.session.execute(
        select(Notification.template, Notification.recipient_ref).where(
            Notification.case_id == case.id, Notification.recipient_kind == "user")
        .order_by(Notification.id))]


def notice_keys(world: World, case: Case) -> list[str | None]:
    return list(world.session.scalars(select(Notification.dedupe_key).where(
        Notification.case_id == case.id, Notification.recipient_kind == "user")))


def run(world: World, now: datetime) -> SweepResult:
    result = sweep_batch(world.session, now=now)
    world.session.expire_all()
    return result


def complaint(world: World, **fields: Any) -> Case:
    """A complaint received at RECEIVED, accepted by its handler at once (so the bank's
    response and contact targets are met and only the decision clock and the solution target
    run)."""
    case = register(world, **fields)
    return act(world, case, "bj_handler", RECEIVED + timedelta(minutes=5), action="accept")


def act(world: World, case: Case, by: str, now: datetime, **payload: Any) -> Case:
    parsed = schemas.STEP_ADAPTER.validate_python({"version": case.version, **payload})
    return service.act(world.session, actor=world.actor(by), reference=case.reference,
                       step=parsed, now=now)


class TestPlanning:
    def test_a_new_case_waits_for_the_sweep_to_plan_it(self, staffed: World) -> None:
        case = register(staffed)
        assert case.sla_plan is None
        assert case.sla_next_at == RECEIVED

    def test_the_sweep_plans_a_new_case_and_fires_nothing_before_its_time(
        self, staffed: World
    ) -> None:
        case = register(staffed)
        result = run(staffed, RECEIVED + timedelta(minutes=1))
        assert (result.planned, result.warnings, result.escalations) == (1, 0, 0)
        plan = Plan.from_json(staffed.session.get_one(Case, case.id).sla_plan)
        assert plan is not None
        decision = [(a.kind, a.step, a.at) for a in plan.alarms if a.clock == "decision"]
        assert decision[:3] == [("warning", 50, HALF),
                                ("warning", 80, (RECEIVED + (DUE - RECEIVED) * 0.8)
                                 .replace(microsecond=0)),
                                ("escalation", 1, DUE)]
        assert [(a.step, a.at - DUE) for a in plan.alarms
                if a.clock == "decision" and a.kind == "escalation"] == [
            (1, timedelta(0)), (2, timedelta(hours=24)), (3, timedelta(hours=72)),
            (4, timedelta(hours=120))]
        assert case.sla_next_at == plan.next_at

    def test_a_step_that_meets_a_clock_takes_its_alarms_away(self, staffed: World) -> None:
        case = register(staffed)
        run(staffed, RECEIVED)
        clocks = {a.clock for a in Plan.from_json(case.sla_plan).alarms}  # type: ignore[union-attr]
        assert {"response", "decision"} <= clocks
        complaint_case = act(staffed, case, "bj_handler", RECEIVED + timedelta(minutes=5),
                             action="accept")
        clocks = {a.clock for a in Plan.from_json(complaint_case.sla_plan).alarms}  # type: ignore[union-attr]
        assert "response" not in clocks
        assert "decision" in clocks

    def test_an_extension_moves_the_alarms_to_the_new_due_instant(self, staffed: World) -> None:
        case = complaint(staffed)
        act(staffed, case, "bj_handler", HALF - timedelta(days=1), action="extend",
            reason="案情复杂，需调取录音")
        plan = Plan.from_json(case.sla_plan)
        assert plan is not None
        breach = next(a for a in plan.alarms if a.clock == "decision" and a.step == 1
                      and a.kind == "escalation")
        assert breach.at.date() > DUE.date()
        assert case.sla_next_at == plan.next_at

    def test_a_closed_case_raises_no_alarm(self, staffed: World) -> None:
        case = complaint(staffed)
        act(staffed, case, "bj_handler", RECEIVED + timedelta(hours=1), action="withdraw",
            reason="客户撤回")
        assert case.sla_next_at is None
        assert run(staffed, DUE + timedelta(days=30)).claimed == 0


class TestFiring:
    def test_a_warning_fires_once_at_half_time_to_the_handler(self, staffed: World) -> None:
        case = complaint(staffed)
        run(staffed, HALF - timedelta(minutes=1))
        assert [d for _, d in sla_events(staffed, case) if d["clock"] == "decision"] == []
        first = run(staffed, HALF)
        again = run(staffed, HALF)
        assert (first.warnings, again.warnings, again.claimed) == (1, 0, 0)
        # The 24-hour solution target ran out days before and went up the chain in the first run.
        assert (staffed.session.get_one(Case, case.id).escalation_level, first.escalations) == (
            4, 0)
        [(kind, data)] = [e for e in sla_events(staffed, case) if e[1]["clock"] == "decision"]
        assert (kind, data["percent"], data["to"], data["notified"]) == (
            "sla_warning", 50, "handler", ["bj_handler"])
        assert ("deadline_warning", "bj_handler") in notices(staffed, case)
        assert verify_chain(staffed.session, case_id=case.id).ok

    def test_a_breach_escalates_along_the_chain_one_level_at_a_time(
        self, staffed: World
    ) -> None:
        case = complaint(staffed)
        for moment in (HALF, RECEIVED + (DUE - RECEIVED) * 0.8, DUE,
                       DUE + timedelta(hours=24), DUE + timedelta(hours=72),
                       DUE + timedelta(hours=120), DUE + timedelta(days=30)):
            run(staffed, moment)
        escalations = [(d["level"], d["to"], d["notified"]) for t, d in sla_events(staffed, case)
                       if t == "sla_escalation" and d["clock"] == "decision"]
        assert escalations == [
            (1, "handler", ["bj_handler"]), (2, "team_lead", ["bj_lead"]),
            (3, "branch_manager", ["bj_manager"]),
            (4, "head_office_consumer_protection", ["hq_cpo"])]
        assert staffed.session.get_one(Case, case.id).escalation_level == 4
        sent = notices(staffed, case)
        for who in ("bj_handler", "bj_lead", "bj_manager", "hq_cpo"):
            assert ("escalated", who) in sent
        keys = notice_keys(staffed, case)
        assert len(keys) == len(set(keys))
        assert verify_chain(staffed.session, case_id=case.id).ok

    def test_after_a_long_stop_only_the_latest_alarm_of_a_clock_fires(
        self, staffed: World
    ) -> None:
        case = complaint(staffed)
        result = run(staffed, DUE + timedelta(hours=80))
        decision = [(t, d) for t, d in sla_events(staffed, case) if d["clock"] == "decision"]
        assert len(decision) == 1
        kind, data = decision[0]
        assert (kind, data["level"], data["to"]) == ("sla_escalation", 3, "branch_manager")
        assert len(data["superseded"]) == 4  # two warnings, levels 1 and 2
        assert result.superseded >= 4
        assert run(staffed, DUE + timedelta(hours=80)).claimed == 0
        later = run(staffed, DUE + timedelta(hours=121))
        assert later.escalations >= 1

    def test_someone_with_no_address_on_file_is_recorded_as_unreachable(
        self, bank: World
    ) -> None:
        case = complaint(bank)
        result = run(bank, HALF)
        [data] = [d for _, d in sla_events(bank, case) if d["clock"] == "decision"]
        assert (data["notified"], data["unreachable"]) == ([], ["bj_handler"])
        assert result.unreachable >= 1
        assert notices(bank, case) == []

    def test_an_address_the_outbox_refuses_is_unreachable_not_a_failed_sweep(
        self, bank: World
    ) -> None:
        org_service.get_user(bank.session, username="bj_handler").email = "not an address"
        case = complaint(bank)
        run(bank, HALF)
        [data] = [d for _, d in sla_events(bank, case) if d["clock"] == "decision"]
        assert (data["notified"], data["unreachable"]) == ([], ["bj_handler"])

    def test_a_mobile_number_gets_an_sms_when_there_is_no_e_mail(self, bank: World) -> None:
        org_service.get_user(bank.session, username="bj_handler").mobile = "13900001111"
        case = complaint(bank)
        run(bank, HALF)
        channel = bank.session.scalar(select(Notification.channel).where(
            Notification.case_id == case.id, Notification.recipient_kind == "user"))
        assert channel == "sms"

    def test_an_unassigned_case_goes_to_the_team_lead_of_its_queue(self, staffed: World) -> None:
        case = register(staffed)  # not accepted: nobody has taken it in hand
        run(staffed, HALF)
        data = next(d for _, d in sla_events(staffed, case) if d["clock"] == "decision")
        assert data["notified"] == ["bj_lead"]


class TestReplanning:
    def test_a_timeline_the_policy_refuses_raises_no_alarm_and_is_not_taken_again(
        self, staffed: World
    ) -> None:
        case = register(staffed)
        run(staffed, RECEIVED)  # planned under this policy …
        append_event(staffed.session, case=case, type="extend", actor_user_id=None,
                     data={"days": 0}, at=RECEIVED + timedelta(hours=1))
        stale = dict(case.sla_plan or {}, policy="2025.1")  # … then due to be planned again
        staffed.session.execute(update(CASE_TABLE).where(CASE_TABLE.c.id == case.id)
                                .values(sla_plan=stale))
        first = run(staffed, HALF)
        assert (first.claimed, first.planned, first.warnings) == (1, 0, 0)
        stored = staffed.session.get_one(Case, case.id)
        assert stored.sla_next_at is None
        assert run(staffed, DUE + timedelta(days=30)).claimed == 0

    def test_cases_planned_under_another_policy_version_are_planned_again(
        self, staffed: World
    ) -> None:
        case = complaint(staffed)
        old = dict(case.sla_plan or {}, policy="2025.1")
        staffed.session.execute(update(CASE_TABLE).where(CASE_TABLE.c.id == case.id).values(
            sla_plan=old, sla_next_at=DUE + timedelta(days=300)))
        assert replan_for_policy(staffed.session, now=HALF,
                                 version=load_policy().version) == 1
        result = run(staffed, HALF)
        assert (result.claimed, result.planned) == (1, 1)
        plan = Plan.from_json(staffed.session.get_one(Case, case.id).sla_plan)
        assert plan is not None
        assert plan.policy_version == load_policy().version
        assert replan_for_policy(staffed.session, now=HALF, version=load_policy().version) == 0


class TestAStepRacingTheSweep:
    def test_a_step_saved_after_a_sweep_fired_does_not_make_its_alarms_fire_again(
        self, fresh_db_url: str
    ) -> None:
        engine = build_engine(fresh_db_url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with transaction(sessions) as session:
            world = build_world(session)
            addresses_for_all(session)
            case_id = register(world).id
        handler = sessions()
        try:
            loaded = handler.get_one(Case, case_id)  # the handler opens the case …
            step = schemas.STEP_ADAPTER.validate_python(
                {"action": "accept", "version": loaded.version})
            with transaction(sessions) as session:  # … the sweep fires meanwhile …
                fired = sweep_batch(session, now=HALF)
            assert fired.warnings >= 1
            try:  # … and the handler saves (SQLite refuses the stale snapshot instead)
                service.apply(handler, actor=actor_of(handler, "bj_handler"), case=loaded,
                              step=step, now=HALF + timedelta(minutes=1))
                handler.commit()
            except StaleCase:
                handler.rollback()
        finally:
            handler.close()
        with transaction(sessions) as session:
            again = sweep_batch(session, now=HALF + timedelta(minutes=2))
            counts = session.execute(
                select(CaseEvent.type, func.count()).where(
                    CaseEvent.case_id == case_id, CaseEvent.type.like("sla_%"))
                .group_by(CaseEvent.type)).all()
        assert again.warnings == 0
        assert again.escalations == 0
        assert dict(counts) == {"sla_warning": fired.warnings,
                                "sla_escalation": fired.escalations}
        engine.dispose()


def addresses_for_all(session: Session) -> None:
    for user in session.scalars(select(User)):
        user.email = f"{user.username}@bank.example"
    session.flush()


def actor_of(session: Session, username: str) -> Any:
    return org_service.actor_for(org_service.get_user(session, username=username))


class TestTwoSweepsAtOnce:
    def test_two_sweeps_racing_fire_each_alarm_exactly_once(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with transaction(sessions) as session:
            world = build_world(session)
            for name, org_code, roles in (("bj_lead", "BJ", ["team_lead"]),):
                org = org_service.get_org_by_code(session, code=org_code)
                org_service.create_user(session, username=name, display_name=name, org=org,
                                        roles=roles)
            for user in session.scalars(select(User)):
                user.email = f"{user.username}@bank.example"
            session.flush()
            refs = [register(world, text=f"第{i}笔转账失败，手续费未退{i}元").id
                    for i in range(40)]
        results: list[SweepResult] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                results.append(sweep(HALF, sessions=sessions, limit=7))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with transaction(sessions) as session:
            fired = session.execute(
                select(CaseEvent.case_id, CaseEvent.data).where(
                    CaseEvent.type == "sla_warning")).all()
            decision = [row.case_id for row in fired if row.data["clock"] == "decision"]
            assert sorted(decision) == sorted(refs)
            keys = session.scalars(select(Notification.dedupe_key).where(
                Notification.recipient_kind == "user")).all()
            assert len(keys) == len(set(keys)) == len(fired)
            for case_id in refs:
                assert verify_chain(session, case_id=case_id).ok
        assert sum(r.warnings for r in results) == len(fired)
        engine.dispose()


def test_choose_keeps_the_latest_alarm_per_clock() -> None:
    plan = Plan.from_json({"policy": "x", "alarms": [
        [HALF.isoformat(), "decision", "warning", 50, DUE.isoformat()],
        [DUE.isoformat(), "decision", "escalation", 1, DUE.isoformat()],
        [HALF.isoformat(), "solution", "warning", 80, DUE.isoformat()]], "fired": []})
    assert plan is not None
    chosen = {(f.alarm.clock, f.alarm.kind, f.alarm.step, len(f.superseded))
              for f in choose(plan.alarms)}
    assert chosen == {("decision", "escalation", 1, 1), ("solution", "warning", 80, 0)}



class TestTheJob:
    def test_the_scheduler_runs_the_sweep_as_a_job_and_a_second_run_finds_nothing(
        self, database: str
    ) -> None:
        from typer.testing import CliRunner

        from bankvoc.core.db import unit_of_work
        from bankvoc.jobs.cli import jobs_app

        with unit_of_work() as session:
            register(build_world(session))  # received 2026-09-22: long overdue today
        runner = CliRunner()
        first = json.loads(runner.invoke(jobs_app, ["run", "cases.sla_sweep", "--json"])
                           .stdout.strip().splitlines()[-1])
        again = json.loads(runner.invoke(jobs_app, ["run", "cases.sla_sweep", "--json"])
                           .stdout.strip().splitlines()[-1])
        assert (first["job"], first["claimed"], first["planned"]) == ("cases.sla_sweep", 1, 1)
        assert first["escalations"] >= 1
        assert again["claimed"] == 0

    def test_after_a_policy_change_the_replan_job_makes_old_plans_due_once(
        self, database: str
    ) -> None:
        from typer.testing import CliRunner

        from bankvoc.core.db import unit_of_work
        from bankvoc.jobs.cli import jobs_app

        runner = CliRunner()

        def run_job(name: str) -> dict[str, Any]:
            found: dict[str, Any] = json.loads(runner.invoke(
                jobs_app, ["run", name, "--json"]).stdout.strip().splitlines()[-1])
            return found

        with unit_of_work() as session:
            case_id = register(build_world(session)).id
        run_job("cases.sla_sweep")
        with unit_of_work() as session:
            session.execute(update(CASE_TABLE).where(CASE_TABLE.c.id == case_id).values(
                sla_plan={"policy": "2025.1", "alarms": [], "fired": []}, sla_next_at=None))
        assert run_job("cases.sla_replan")["replanned"] == 1
        assert run_job("cases.sla_replan")["replanned"] == 0  # once per process and version
        assert run_job("cases.sla_sweep")["planned"] == 1
