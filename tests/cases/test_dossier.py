"""The dossier of a closed case: what a regulator asks back, masked, as JSON and PDF."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from bankvoc.cases import dossier, dossier_pdf
from bankvoc.cases.dossier import Dossier, DossierUnavailable
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.errors import Forbidden
from tests.cases.closing import (
    ID_NUMBER,
    NAME,
    PHONE,
    add_staff,
    closed_case,
    investigated,
)
from tests.conftest import World, auth

LATER = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
EMAIL = "zhang.sanfeng@example.cn"


# Every test stores its evidence files under its own directory (tests/cases/conftest.py).
pytestmark = pytest.mark.usefixtures("storage")


def build(world: World, case: Case, user: str = "bj_handler", *,
          reveal: bool = False) -> Dossier:
    return dossier.build_dossier(world.session, actor=world.actor(user), case=case,
                                 reveal=reveal, now=LATER)


def event_types(world: World, case: Case) -> list[str]:
    return list(world.session.scalars(select(CaseEvent.type).where(
        CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


def embedded_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts embedded in a PDF (its object streams are deflated)."""
    blob = pdf + b"".join(_inflate(m.group(1)) for m in re.finditer(
        rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S))
    names = {name.decode() for name in re.findall(rb"/BaseFont\s*/([^\s/<>\[\]]+)", blob)}
    return names if b"/FontFile" in blob else set()


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return b""


class TestBuildDossier:
    def test_a_closed_case_exports_with_every_section_filled(self, bank: World) -> None:
        case = closed_case(bank)
        found = build(bank, case)
        facts = found.basic_facts
        assert (facts.reference, facts.status, facts.kind) == (case.reference, "closed",
                                                               "complaint")
        assert facts.first_responder == "bj_handler"
        assert facts.assignee == "bj_handler2"
        assert [p.role for p in facts.complainants] == ["complainant", "representative"]
        assert [c.org.code for c in facts.co_handlers] == ["PBC"]
        assert facts.closed_at is not None
        assert [n.text for n in found.dispute_focus] == ["首年年费是否应当免收"]
        assert {n.kind for n in found.findings.notes} == {"finding", "evidence"}
        [evidence] = found.findings.evidence
        assert (evidence.filename, evidence.file_check) == ("录音摘要.txt", "ok")
        assert len(evidence.sha256) == 64
        assert [n.kind for n in found.basis] == ["basis", "proposal_basis"]
        decision = found.decision
        assert (decision.type, decision.amount) == ("refund", Decimal("200.00"))
        assert (decision.told_via, decision.summary) == ("phone", "已退还年费200元")
        assert [p.decision for p in decision.proposals] == ["refund"]
        kinds = [c.kind for c in found.communication.contacts]
        assert kinds == ["decision", "message", "answer"]
        templates = [m.template for m in found.communication.messages]
        assert {"accepted", "extended", "paused", "decision"} <= set(templates)
        assert all("*" in m.recipient for m in found.communication.messages)
        extensions = found.extensions
        assert [(e.days, e.total_days) for e in extensions.extensions] == [(15, 30)]
        assert [(p.reason, p.days) for p in extensions.pauses] == [("appraisal", 2)]
        assert extensions.problem is None
        decision_clock = next(c for c in extensions.clocks if c.name == "decision")
        assert (decision_clock.state, decision_clock.overdue) == ("met", False)
        satisfaction = found.satisfaction
        assert [a.satisfied for a in satisfaction.answers] == [True]
        [callback] = satisfaction.callbacks
        assert (callback.csat, callback.nps, callback.solved) == (5, 9, True)
        assert found.timeline[0].type == "received"
        assert found.timeline[-1].type == "close"
        assert (found.chain.ok, found.chain.events) == (True, len(found.timeline))
        info = found.info
        assert (info.masked, info.generated_by, info.retention_years) == (True, "bj_handler", 3)
        assert info.keep_until is not None
        assert info.keep_until.year == facts.closed_at.year + 3

    def test_an_archived_case_exports_too(self, bank: World) -> None:
        case = closed_case(bank)
        from tests.cases.closing import Loop

        Loop(bank, case, LATER).step("bj_lead", action="archive")
        assert build(bank, case).basic_facts.status == "archived"

    def test_a_tampered_timeline_is_reported_not_hidden(self, bank: World) -> None:
        case = closed_case(bank)
        bank.session.execute(text(
            "UPDATE case_event SET data = :d WHERE case_id = :c AND seq = 5"),
            {"d": '{"kind": "finding", "text": "客户无理取闹"}', "c": case.id})
        bank.session.expire_all()
        chain = build(bank, case).chain
        assert (chain.ok, chain.broken_at_seq, chain.reason) == (False, 5,
                                                                 "event content altered")

    def test_a_missing_evidence_file_is_reported(self, bank: World, storage: Path) -> None:
        case = closed_case(bank)
        for path in (storage / "attachments").rglob("*"):
            if path.is_file():
                path.unlink()
        assert build(bank, case).findings.evidence[0].file_check == "missing"


class TestOnlyClosedCasesExport:
    def test_an_open_case_is_refused_naming_its_status(self, bank: World) -> None:
        case = investigated(bank).case
        with pytest.raises(DossierUnavailable, match="is investigating: only a closed or "
                                                     "archived case") as refused:
            build(bank, case)
        assert (refused.value.status, refused.value.field) == (409, "status")


class TestMasking:
    def test_personal_data_is_masked_by_default(self, bank: World) -> None:
        found = build(bank, closed_case(bank), "hq_analyst")
        dump = found.model_dump_json()
        for secret in (PHONE, NAME, ID_NUMBER, "13900000001"):
            assert secret not in dump
        complainant = found.basic_facts.complainants[0]
        assert (complainant.phone, complainant.name) == ("138****5678", "张**")
        assert complainant.id_number is not None
        assert complainant.id_number.endswith("002X")
        # Free text handlers wrote is masked too.
        finding = next(n for n in found.findings.notes if n.kind == "finding")
        assert "138****5678" in finding.text

    def test_a_role_without_pii_read_cannot_reveal_and_nothing_is_recorded(
        self, bank: World
    ) -> None:
        case = closed_case(bank)
        before = event_types(bank, case)
        with pytest.raises(Forbidden, match=r"pii\.read"):
            build(bank, case, "hq_analyst", reveal=True)
        assert event_types(bank, case) == before

    def test_revealing_shows_the_data_and_is_recorded_on_the_timeline(
        self, bank: World
    ) -> None:
        case = closed_case(bank)
        found = build(bank, case, "bj_handler", reveal=True)
        assert found.info.masked is False
        complainant = found.basic_facts.complainants[0]
        assert (complainant.name, complainant.phone, complainant.id_number) == (
            NAME, PHONE, ID_NUMBER)
        assert found.basic_facts.complainants[1].phone == "13900000001"
        assert PHONE in found.basic_facts.text
        last = bank.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.seq.desc())).first()
        assert last is not None
        assert (last.type, last.data) == ("pii_revealed", {"what": "dossier", "output": "json"})
        assert found.timeline[-1].type == "pii_revealed"
        assert verify_chain(bank.session, case_id=case.id).ok

    def test_a_customer_known_only_by_e_mail_shows_the_address(self, bank: World) -> None:
        case = closed_case(bank, customer_phone=None, customer_id_number=None,
                           customer_email=EMAIL)
        masked = build(bank, case)
        complainant = masked.basic_facts.complainants[0]
        assert (complainant.phone, complainant.id_number, complainant.email) == (
            None, None, "z***@example.cn")
        assert EMAIL not in masked.model_dump_json()
        html = dossier_pdf.render_html(masked)
        assert "z***@example.cn" in html
        assert "电子邮箱" in html
        revealed = build(bank, case, reveal=True).basic_facts.complainants[0]
        assert revealed.email == EMAIL


class TestPdf:
    def test_the_pdf_embeds_a_cjk_font_and_shows_chinese_with_english(
        self, bank: World
    ) -> None:
        found = build(bank, closed_case(bank))
        html = dossier_pdf.render_html(found)
        for label in ("投诉处理档案", "Complaint case dossier", "一、基本情况", "1. Basic facts"):
            assert label in html
        assert PHONE not in html
        pdf = dossier_pdf.render_pdf(found)
        assert pdf.startswith(b"%PDF")
        fonts = embedded_fonts(pdf)
        assert any("CJK" in name for name in fonts), fonts


class TestApi:
    def test_the_json_dossier_of_a_closed_case(
        self, client: TestClient, bank: World
    ) -> None:
        case = closed_case(bank)
        bank.session.commit()
        response = client.get(f"/api/v1/cases/{case.reference}/dossier",
                              headers=auth(bank, "hq_analyst"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["basic_facts"]["reference"] == case.reference
        assert body["chain"]["ok"] is True
        assert PHONE not in response.text
        assert response.headers["cache-control"] == "no-store"

    def test_the_pdf_dossier(self, client: TestClient, bank: World) -> None:
        case = closed_case(bank)
        bank.session.commit()
        response = client.get(f"/api/v1/cases/{case.reference}/dossier.pdf",
                              headers=auth(bank, "bj_handler"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert f"{case.reference}-dossier.pdf" in response.headers["content-disposition"]

    def test_an_open_case_is_409_naming_its_status(
        self, client: TestClient, bank: World
    ) -> None:
        case = investigated(bank).case
        bank.session.commit()
        response = client.get(f"/api/v1/cases/{case.reference}/dossier",
                              headers=auth(bank, "bj_handler"))
        assert response.status_code == 409
        body = response.json()
        assert (body["code"], body["field"]) == ("dossier_unavailable", "status")
        assert "investigating" in body["message"]

    def test_reveal_without_pii_read_is_403_and_another_branch_gets_404(
        self, client: TestClient, bank: World
    ) -> None:
        case = closed_case(bank)
        bank.session.commit()
        url = f"/api/v1/cases/{case.reference}/dossier"
        assert client.get(url, params={"reveal": "true"},
                          headers=auth(bank, "hq_analyst")).status_code == 403
        assert client.get(url, headers=auth(bank, "sh_handler")).status_code == 404
        revealed = client.get(url, params={"reveal": "true"}, headers=auth(bank, "bj_handler"))
        assert revealed.status_code == 200
        assert PHONE in revealed.text


class TestCli:
    def test_exports_json_and_pdf(self, database: str, tmp_path: Path) -> None:
        from bankvoc.cli import app
        from bankvoc.core.db import build_engine, unit_of_work
        from tests.conftest import build_world

        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            reference = closed_case(world).reference
        engine.dispose()
        target = tmp_path / "dossier.pdf"
        result = CliRunner().invoke(app, ["cases", "dossier", reference, "--pdf", str(target),
                                          "--json", "--user", "bj_handler"])
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout.strip().splitlines()[-1])
        assert (body["basic_facts"]["reference"], body["info"]["masked"]) == (reference, True)
        assert target.read_bytes().startswith(b"%PDF")

    def test_an_open_case_is_refused_with_its_status(self, database: str) -> None:
        from bankvoc.cli import app
        from bankvoc.core.db import build_engine, unit_of_work
        from tests.conftest import build_world

        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = add_staff(build_world(session))
            reference = investigated(world).case.reference
        engine.dispose()
        result = CliRunner().invoke(app, ["cases", "dossier", reference])
        assert result.exit_code == 2
        assert "is investigating" in result.stderr
