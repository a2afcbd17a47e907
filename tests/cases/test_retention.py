"""Retention: finished cases kept at least 3 years after closure, then anonymised; legal hold."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bankvoc.cases import dossier, retention
from bankvoc.cases.dossier import DossierUnavailable
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Attachment, Case, CaseEvent
from bankvoc.cases.workflow import service as workflow
from bankvoc.cases.workflow.models import CaseComplainant
from bankvoc.cases.workflow.schemas import STEP_ADAPTER
from bankvoc.core.db import build_engine, transaction, unit_of_work
from bankvoc.core.errors import Conflict, Forbidden, Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.customers import masking
from bankvoc.intake.channels import mentions
from bankvoc.intake.channels.models import MonitoredMention
from bankvoc.intake.channels.schemas import ChannelMessageIn
from bankvoc.notify.models import Notification
from bankvoc.problems import service as problems_service
from bankvoc.problems.models import CaseProblem, Problem, RootCause
from bankvoc.problems.schemas import ProblemCreate, RootCauseIn
from bankvoc.surveys.models import Callback
from tests.cases import closing
from tests.cases.closing import (
    NAME,
    PHONE,
    START,
    add_staff,
    closed_case,
    investigated,
    refused_case,
)
from tests.conftest import World, auth, build_world

# START (2026-09-23 10:00 Shanghai) + 3 years: kept through 2029-09-23, due from the 24th.
LAST_KEPT = datetime(2029, 9, 23, 15, 59, tzinfo=UTC)  # 23:59 Shanghai
FIRST_DUE = datetime(2029, 9, 23, 16, 0, tzinfo=UTC)  # 00:00 on the 24th, Shanghai
LATER = datetime(2030, 1, 1, tzinfo=UTC)


# Every test stores its evidence files under its own directory (tests/cases/conftest.py).
pytestmark = pytest.mark.usefixtures("storage")


def reload(world: World, case: Case) -> Case:
    world.session.expire_all()
    return world.session.get_one(Case, case.id)


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.seq)))


def count(session: Session, model: type[object], case: Case) -> int:
    column = model.case_id  # type: ignore[attr-defined]
    return int(session.scalar(select(func.count()).where(column == case.id)) or 0)


class TestKeepingPeriod:
    def test_a_case_is_kept_through_the_same_local_day_three_years_on(self) -> None:
        assert retention.keep_until(START) == date(2029, 9, 23)
        assert retention.cutoff(LAST_KEPT) <= START
        assert retention.cutoff(FIRST_DUE) > START

    def test_a_case_closed_on_29_february_is_kept_through_28_february(self) -> None:
        closed = datetime(2028, 2, 29, 4, 0, tzinfo=UTC)  # noon in Shanghai
        assert retention.keep_until(closed) == date(2031, 2, 28)
        assert retention.cutoff(datetime(2031, 2, 28, 15, 0, tzinfo=UTC)) <= closed
        assert retention.cutoff(datetime(2031, 2, 28, 16, 0, tzinfo=UTC)) > closed

    def test_a_longer_period_is_the_banks_to_set(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_RETENTION_YEARS", "5")
        reset_settings()
        assert retention.keep_until(START) == date(2031, 9, 23)


class TestPreview:
    def test_counts_the_due_cases_and_those_kept_for_a_legal_hold(self, bank: World) -> None:
        due = [refused_case(bank, i) for i in range(3)]
        due[0].legal_hold = True
        refused_case(bank, 9, now=START + timedelta(days=30))  # closed later: not due yet
        investigated(bank, source_id="open")  # open: never due
        bank.session.flush()
        found = retention.preview(bank.session, now=FIRST_DUE)
        assert (found.due, found.held, found.by_status["not_accepted"]) == (2, 1, 2)
        assert found.as_dict()["dry_run"] is True
        assert retention.preview(bank.session, now=LAST_KEPT).due == 0


class TestPurge:
    def test_anonymises_a_closed_case_and_keeps_what_statistics_need(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = closed_case(bank)
        facts = (case.reference, case.kind, case.channel, case.org_id, case.product,
                 case.category, case.severity, case.decision_type, case.decision_amount,
                 case.received_at, case.closed_at)
        tip = timeline(bank.session, case)[-1].hash
        report = retention.purge_due(sessions, now=LATER)
        assert (report.anonymised, report.batches, report.attachments_removed) == (1, 1, 1)
        case = reload(bank, case)
        assert (case.reference, case.kind, case.channel, case.org_id, case.product,
                case.category, case.severity, case.decision_type, case.decision_amount,
                case.received_at, case.closed_at) == facts
        assert retention.is_anonymised(case)
        assert (case.customer_id, case.text_masked, case.text_enc, case.similar_key,
                case.annotations) == (None, "", "", None, {})
        assert NAME[0] not in case.title
        [event] = timeline(bank.session, case)
        assert event.type == "retention_anonymised"
        assert event.data["removed_events"] == report.events_removed
        assert event.data["removed_chain_ok"] is True
        assert event.data["removed_chain_tip"] == tip
        assert event.data["removed_attachments"] == 1
        assert event.data["retention_years"] == 3
        assert verify_chain(bank.session, case_id=case.id).ok
        for model in (Attachment, CaseComplainant, Notification):
            assert count(bank.session, model, case) == 0, model
        callback = bank.session.scalar(select(Callback).where(Callback.case_id == case.id))
        assert callback is not None
        assert (callback.csat, callback.nps, callback.comment_masked) == (5, 9, None)

    def test_the_root_cause_keeps_its_category_and_the_problem_links_go(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        due = closed_case(bank)
        kept = investigated(bank, source_id="open").case  # open: never due
        problem = problems_service.create_problem(
            bank.session, actor=bank.actor("hq_admin"),
            data=ProblemCreate(code="P-CC-FEE-01", title_zh="首年年费误收"))
        cause = RootCauseIn(category="system", what=f"首年年费误收，客户{NAME}",
                            why="系统未识别首年免年费标记", where="发卡系统", when="开卡首年",
                            who="发卡部", how="修复免年费标记")
        for case in (due, kept):
            problems_service.record_root_cause(bank.session, actor=bank.actor("bj_handler2"),
                                               case=case, data=cause)
            problems_service.link_case(bank.session, actor=bank.actor("bj_handler2"),
                                       problem_id=problem.id, reference=case.reference)
        bank.session.flush()
        retention.purge_due(sessions, now=LATER)
        bank.session.expire_all()

        def texts(case: Case) -> tuple[str, list[str]]:
            found = bank.session.scalar(select(RootCause).where(RootCause.case_id == case.id))
            assert found is not None
            return found.category, [getattr(found, name)
                                    for name in problems_service.FIVE_W_ONE_H]

        assert texts(due) == ("system", [""] * 6)
        assert count(bank.session, CaseProblem, due) == 0
        assert texts(kept)[1][1:] == ["系统未识别首年免年费标记", "发卡系统", "开卡首年", "发卡部",
                                      "修复免年费标记"]
        assert count(bank.session, CaseProblem, kept) == 1
        assert bank.session.get(Problem, problem.id) is not None

    def test_the_evidence_file_goes_once_no_attachment_uses_it(
        self, bank: World, sessions: sessionmaker[Session], storage: Path
    ) -> None:
        closed_case(bank)
        [path] = [p for p in (storage / "attachments").rglob("*") if p.is_file()]
        old = time.time() - 7200
        os.utime(path, (old, old))  # stored long ago, not by an upload under way
        report = retention.purge_due(sessions, now=LATER)
        assert report.files_removed == 1
        assert not path.exists()

    def test_a_freshly_written_file_is_left_for_the_upload_that_wrote_it(
        self, bank: World, sessions: sessionmaker[Session], storage: Path
    ) -> None:
        closed_case(bank)
        report = retention.purge_due(sessions, now=LATER)
        assert report.files_removed == 0
        assert any(p.is_file() for p in (storage / "attachments").rglob("*"))

    def test_never_a_case_under_legal_hold_nor_an_open_or_recent_one(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        held = refused_case(bank, 1)
        retention.set_legal_hold(bank.session, actor=bank.actor("bj_lead"), case=held,
                                 hold=True, reason="诉讼中", now=START + timedelta(days=1))
        recent = refused_case(bank, 2, now=START + timedelta(days=400))
        open_case = investigated(bank, source_id="open").case
        due = refused_case(bank, 3)
        bank.session.flush()
        report = retention.purge_due(sessions, now=FIRST_DUE + timedelta(days=1))
        assert (report.anonymised, report.held) == (1, 1)
        assert retention.is_anonymised(reload(bank, due))
        for kept in (held, recent, open_case):
            assert not retention.is_anonymised(reload(bank, kept))
            assert verify_chain(bank.session, case_id=kept.id).ok

    def test_nothing_is_purged_before_the_period_ends(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        refused_case(bank, 1)
        assert retention.purge_due(sessions, now=LAST_KEPT).anonymised == 0

    def test_running_again_changes_nothing(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = refused_case(bank, 1)
        assert retention.purge_due(sessions, now=LATER).anonymised == 1
        version = reload(bank, case).version
        again = retention.purge_due(sessions, now=LATER + timedelta(days=1))
        assert (again.anonymised, again.batches) == (0, 0)
        case = reload(bank, case)
        assert case.version == version
        assert len(timeline(bank.session, case)) == 1

    def test_works_through_the_due_cases_in_batches(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        for i in range(5):
            refused_case(bank, i)
        bank.session.flush()
        report = retention.purge_due(sessions, now=LATER, batch_size=2)
        assert (report.anonymised, report.batches) == (5, 3)

    def test_an_anonymised_case_has_no_dossier_any_more(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = closed_case(bank)
        retention.purge_due(sessions, now=LATER)
        with pytest.raises(DossierUnavailable, match="anonymised") as refused:
            dossier.build_dossier(bank.session, actor=bank.actor("bj_handler"),
                                  case=reload(bank, case))
        assert refused.value.code == "anonymised"


    def test_no_step_is_taken_on_an_anonymised_case_and_its_source_row_stays_out(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = closed_case(bank, source_id="OLD-1")
        retention.purge_due(sessions, now=LATER)
        case = reload(bank, case)
        with pytest.raises(Conflict, match="anonymised"):
            workflow.act(bank.session, actor=bank.actor("bj_handler"),
                         reference=case.reference,
                         step=STEP_ADAPTER.validate_python(
                             {"action": "reopen", "version": case.version, "reason": "申诉"}))
        again = closing.register(bank, source_id="OLD-1", text=f"更正：{NAME}的年费投诉{PHONE}")
        assert again.id == case.id
        row = reload(bank, case)
        assert (row.text_masked, row.text_hash) == ("", retention.ANONYMISED_HASH)

    def test_no_personal_data_is_left_on_the_case_row(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = closed_case(bank)

        def stored() -> str:
            row = reload(bank, case)
            return " ".join(str(getattr(row, c.key)) for c in Case.__table__.columns)

        # The row holds the customer's phone and name masked (the text in full is encrypted).
        masked = (masking.mask_phone(PHONE), masking.mask_name(NAME))
        before = stored()
        for form in masked:
            assert form in before
        retention.purge_due(sessions, now=LATER)
        after = stored()
        for secret in (*masked, PHONE, NAME):
            assert secret not in after

    def test_a_social_mention_that_became_the_case_keeps_no_author_link_or_words(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        post = ChannelMessageIn.model_validate({
            "id": "weibo-1", "sent_at": "2026-09-22T15:30:00+08:00", "channel_user": "wb-9",
            "text": f"@某银行 信用卡年费乱扣200元，客服态度极差，电话{PHONE}打了十次没人管！",
            "url": "https://weibo.example/1/2", "author": NAME})
        mention, receipt, _ = mentions.record_mention(
            bank.session, actor=bank.actor("bj_handler"), message=post)
        assert receipt is not None
        assert receipt.case_id is not None
        case = bank.session.get_one(Case, receipt.case_id)
        closing.Loop(bank, case).step("bj_handler", action="refuse", reason="非本行业务")
        assert (mention.author, mention.url) == ("张***", "https://weibo.example/1/2")
        assert mention.author_enc is not None
        assert masking.mask_phone(PHONE) in mention.text_masked
        retention.purge_due(sessions, now=LATER)
        assert retention.is_anonymised(reload(bank, case))
        row = bank.session.get_one(MonitoredMention, mention.id)
        assert (row.author, row.author_enc, row.url, row.text_masked) == (None, None, None, "")
        assert (row.source_id, row.is_complaint, row.case_id) == ("weibo-1", True, case.id)

class TestConcurrentPurges:
    @pytest.fixture
    def sessions_of_a_fresh_db(self, fresh_db_url: str) -> Iterator[sessionmaker[Session]]:
        engine = build_engine(fresh_db_url)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            for i in range(6):
                refused_case(world, i)
        yield sessionmaker(bind=engine, expire_on_commit=False)
        engine.dispose()

    def test_a_batch_being_purged_is_never_taken_again(
        self, sessions_of_a_fresh_db: sessionmaker[Session], backend: str
    ) -> None:
        factory = sessions_of_a_fresh_db
        other: list[str] = []
        first = factory()
        try:
            mine = retention.anonymise_due(first, now=LATER, limit=3).references

            def second() -> None:
                with transaction(factory) as session:
                    other.extend(retention.anonymise_due(session, now=LATER,
                                                         limit=10).references)

            thread = threading.Thread(target=second)
            thread.start()
            if backend == "postgresql":
                # SKIP LOCKED: the second purge takes the other cases without waiting.
                thread.join(timeout=30)
                assert not thread.is_alive()
            else:
                # SQLite: the second purge waits for the first's write lock.
                time.sleep(0.3)
                assert thread.is_alive()
            first.commit()
        finally:
            first.close()
        thread.join(timeout=30)
        assert (len(mine), len(other)) == (3, 3)
        assert not set(mine) & set(other)

    def test_two_purges_at_once_anonymise_each_case_exactly_once(
        self, sessions_of_a_fresh_db: sessionmaker[Session]
    ) -> None:
        factory = sessions_of_a_fresh_db
        reports: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                reports.append(retention.purge_due(factory, now=LATER,
                                                   batch_size=2).anonymised)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(reports) == 6
        with factory() as session:
            kinds = session.execute(select(CaseEvent.case_id, CaseEvent.type)).all()
        assert sorted(kinds) == sorted({(case_id, "retention_anonymised")
                                        for case_id, _ in kinds})
        assert len(kinds) == 6


class TestLegalHold:
    def test_placing_and_lifting_it_are_events_on_the_case(self, bank: World) -> None:
        case = refused_case(bank, 1)
        placed = retention.set_legal_hold(bank.session, actor=bank.actor("bj_lead"), case=case,
                                          hold=True, reason="  客户已起诉  ")
        assert case.legal_hold is True
        assert (placed.type, placed.data) == ("legal_hold_placed", {"reason": "客户已起诉"})
        lifted = retention.set_legal_hold(bank.session, actor=bank.actor("hq_cpo"), case=case,
                                          hold=False, reason="诉讼已结束")
        assert (lifted.type, case.legal_hold) == ("legal_hold_lifted", False)
        assert verify_chain(bank.session, case_id=case.id).ok

    def test_a_handler_may_not_place_it(self, bank: World) -> None:
        case = refused_case(bank, 1)
        with pytest.raises(Forbidden, match=r"case\.manage"):
            retention.set_legal_hold(bank.session, actor=bank.actor("bj_handler"), case=case,
                                     hold=True, reason="x")

    def test_a_hold_needs_its_reason_and_a_change(self, bank: World) -> None:
        case = refused_case(bank, 1)
        lead = bank.actor("bj_lead")
        with pytest.raises(Invalid) as empty:
            retention.set_legal_hold(bank.session, actor=lead, case=case, hold=True,
                                     reason="  ")
        assert empty.value.field == "reason"
        with pytest.raises(Conflict, match="not on legal hold") as unchanged:
            retention.set_legal_hold(bank.session, actor=lead, case=case, hold=False,
                                     reason="x")
        assert (unchanged.value.field, unchanged.value.code) == ("hold", "legal_hold_unchanged")

    def test_an_anonymised_case_cannot_be_held(
        self, bank: World, sessions: sessionmaker[Session]
    ) -> None:
        case = refused_case(bank, 1)
        retention.purge_due(sessions, now=LATER)
        with pytest.raises(Conflict, match="anonymised"):
            retention.set_legal_hold(bank.session, actor=bank.actor("bj_lead"),
                                     case=reload(bank, case), hold=True, reason="x")

    def test_through_the_api(self, client: TestClient, bank: World) -> None:
        case = refused_case(bank, 1)
        bank.session.commit()
        url = f"/api/v1/cases/{case.reference}/legal-hold"
        placed = client.post(url, headers=auth(bank, "bj_lead"),
                             json={"hold": True, "reason": "监管调查"})
        assert placed.status_code == 200, placed.text
        assert placed.json()["legal_hold"] is True
        shown = client.get(f"/api/v1/cases/{case.reference}", headers=auth(bank, "bj_lead"))
        assert shown.json()["legal_hold"] is True
        again = client.post(url, headers=auth(bank, "bj_lead"),
                            json={"hold": True, "reason": "监管调查"})
        assert (again.status_code, again.json()["code"]) == (409, "legal_hold_unchanged")
        forbidden = client.post(url, headers=auth(bank, "bj_handler"),
                                json={"hold": False, "reason": "x"})
        assert forbidden.status_code == 403
        missing = client.post(url, headers=auth(bank, "bj_lead"), json={"hold": False})
        assert (missing.status_code, missing.json()["field"]) == (422, "reason")
        # A handler may place no hold anywhere: refused before the case is looked up.
        elsewhere = client.post(url, headers=auth(bank, "sh_handler"),
                                json={"hold": True, "reason": "x"})
        assert elsewhere.status_code == 403


class TestJob:
    def test_the_purge_runs_daily_as_a_job(self, database: str) -> None:
        from bankvoc.jobs.registry import discover
        from bankvoc.jobs.runner import run_job

        job = discover().get("cases.retention")
        assert job.every == timedelta(days=1)
        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            refused_case(world, 1)
        engine.dispose()
        result = run_job("cases.retention", LATER)
        assert (result["anonymised"], result["retention_years"]) == (1, 3)
        assert run_job("cases.retention", LATER)["anonymised"] == 0


class TestCli:
    def test_a_dry_run_counts_and_changes_nothing(self, database: str) -> None:
        from bankvoc.cli import app

        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            refused_case(world, 1)
            refused_case(world, 2).legal_hold = True
        runner = CliRunner()
        result = runner.invoke(app, ["cases", "purge", "--dry-run", "--json", "--now",
                                     LATER.isoformat()])
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout.strip().splitlines()[-1])
        assert (found["dry_run"], found["due"], found["held"]) == (True, 1, 1)
        with unit_of_work(engine) as session:
            assert session.scalar(select(func.count()).select_from(Case).where(
                Case.text_hash == "")) == 0
        done = runner.invoke(app, ["cases", "purge", "--yes", "--json", "--now",
                                   LATER.isoformat()])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout.strip().splitlines()[-1])["anonymised"] == 1
        engine.dispose()

    def test_without_dry_run_or_yes_it_refuses_and_says_why(self, database: str) -> None:
        from bankvoc.cli import app

        result = CliRunner().invoke(app, ["cases", "purge"])
        assert result.exit_code == 2
        assert "--dry-run" in result.stderr
        assert "--yes" in result.stderr

    def test_a_legal_hold_from_the_command_line(self, database: str) -> None:
        from bankvoc.cli import app

        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            reference = refused_case(world, 1).reference
        engine.dispose()
        result = CliRunner().invoke(app, ["cases", "legal-hold", reference, "--reason", "诉讼",
                                          "--user", "bj_lead", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1])["legal_hold"] is True

