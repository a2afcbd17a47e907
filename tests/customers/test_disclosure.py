"""Every path by which unmasked personal data leaves writes exactly one `pii_access` record
(who, when, what, through which route); the masked paths write none."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from bankvoc.cases import attachments, dossier
from bankvoc.cases.enums import Channel
from bankvoc.cases.models import Attachment, Case
from bankvoc.core.settings import reset_settings
from bankvoc.customers import disclosure
from bankvoc.customers import service as customer_service
from bankvoc.customers.disclosure import Via
from bankvoc.customers.models import PiiAccess
from bankvoc.intake.channels import service as channels
from bankvoc.orgs import service as org_service
from tests.cases.closing import PHONE, add_staff, closed_case
from tests.conftest import World, auth, build_world


@pytest.fixture
def bank(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    reset_settings()
    return add_staff(world)


def records(world: World) -> list[PiiAccess]:
    world.session.expire_all()
    return disclosure.accesses(world.session)


def count(world: World) -> int:
    world.session.expire_all()
    return int(world.session.scalar(select(func.count()).select_from(PiiAccess)) or 0)


class TestRecord:
    def test_writes_who_what_and_the_route_never_values(self, world: World) -> None:
        actor = replace(world.actor("bj_handler"), token_id=42)
        disclosure.record(world.session, actor=actor, subject="customer",
                          via=Via("api", "GET /api/v1/x"), case_reference="TS1",
                          customer_ids=[3, 1, 3], fields=["phone", "name", "phone"])
        (row,) = records(world)
        assert (row.username, row.token_id, row.via, row.route, row.subject) == (
            "bj_handler", 42, "api", "GET /api/v1/x", "customer")
        assert (row.case_reference, row.customer_ids, row.fields) == (
            "TS1", [1, 3], ["name", "phone"])
        assert row.at is not None


class TestRevealCustomer:
    def test_one_record_naming_the_fields_shown(self, bank: World) -> None:
        case = closed_case(bank)
        assert case.customer is not None
        before = count(bank)
        shown = customer_service.reveal(bank.session, case.customer,
                                        actor=bank.actor("bj_handler"),
                                        via=Via.cli("test"), case_reference=case.reference)
        assert shown["phone"] == PHONE
        assert count(bank) == before + 1
        row = records(bank)[-1]
        assert (row.subject, row.via, row.route) == ("customer", "cli", "bankvoc test")
        assert row.customer_ids == [case.customer.id]
        assert set(row.fields) == {k for k, v in shown.items() if v is not None}
        assert PHONE not in json.dumps([row.fields, row.detail, row.route])

    def test_a_refused_reveal_records_nothing(self, bank: World) -> None:
        case = closed_case(bank)
        assert case.customer is not None
        before = count(bank)
        with pytest.raises(Exception, match=r"pii\.read"):
            customer_service.reveal(bank.session, case.customer,
                                    actor=bank.actor("hq_analyst"))
        assert count(bank) == before


class TestDossier:
    def test_a_revealed_dossier_is_one_record_for_all_its_complainants(
            self, bank: World) -> None:
        case = closed_case(bank)
        before = count(bank)
        found = dossier.build_dossier(bank.session, actor=bank.actor("bj_handler"), case=case,
                                      reveal=True)
        assert len(found.basic_facts.complainants) == 2
        assert count(bank) == before + 1
        row = records(bank)[-1]
        assert (row.subject, row.via, row.case_reference) == ("dossier", "service",
                                                              case.reference)
        assert len(row.customer_ids) == 2
        assert {"case_text", "timeline_text", "phone"} <= set(row.fields)

    def test_a_masked_dossier_records_nothing(self, bank: World) -> None:
        case = closed_case(bank)
        before = count(bank)
        dossier.build_dossier(bank.session, actor=bank.actor("bj_handler"), case=case)
        assert count(bank) == before

    @pytest.mark.parametrize(("suffix", "route"), [
        ("dossier", "GET /api/v1/cases/{reference}/dossier"),
        ("dossier.pdf", "GET /api/v1/cases/{reference}/dossier.pdf"),
    ])
    def test_through_the_api_the_route_and_token_are_recorded(
            self, client: TestClient, bank: World, suffix: str, route: str) -> None:
        case = closed_case(bank)
        bank.session.commit()
        url = f"/api/v1/cases/{case.reference}/{suffix}"
        before = count(bank)
        assert client.get(url, headers=auth(bank, "bj_handler")).status_code == 200
        assert count(bank) == before
        revealed = client.get(url, params={"reveal": "true"}, headers=auth(bank, "bj_handler"))
        assert revealed.status_code == 200
        assert count(bank) == before + 1
        row = records(bank)[-1]
        assert (row.via, row.route, row.username) == ("api", route, "bj_handler")
        assert row.token_id is not None


class TestDossierCli:
    def test_reveal_is_one_record_naming_the_command(self, database: str,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        from bankvoc.cli import app
        from bankvoc.core.db import build_engine, unit_of_work

        monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
        reset_settings()
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                reference = closed_case(add_staff(build_world(session))).reference
            masked = CliRunner().invoke(app, ["cases", "dossier", reference, "--json",
                                              "--user", "bj_handler"])
            assert masked.exit_code == 0, masked.output
            result = CliRunner().invoke(app, ["cases", "dossier", reference, "--reveal",
                                              "--json", "--user", "bj_handler"])
            assert result.exit_code == 0, result.output
            with unit_of_work(engine) as session:
                rows = disclosure.accesses(session, case_reference=reference)
                assert [(r.via, r.route, r.subject) for r in rows] == [
                    ("cli", "bankvoc cases dossier", "dossier")]
        finally:
            engine.dispose()


class TestAttachmentDownload:
    def test_each_download_is_one_record(self, client: TestClient, bank: World) -> None:
        case = closed_case(bank)
        attachment = bank.session.scalars(select(Attachment).where(
            Attachment.case_id == case.id)).first()
        assert attachment is not None
        bank.session.commit()
        before = count(bank)
        listed = client.get(f"/api/v1/cases/{case.reference}/attachments",
                            headers=auth(bank, "bj_handler"))
        assert listed.status_code == 200
        assert count(bank) == before
        got = client.get(f"/api/v1/cases/{case.reference}/attachments/{attachment.id}",
                         headers=auth(bank, "bj_handler"))
        assert got.status_code == 200
        assert count(bank) == before + 1
        row = records(bank)[-1]
        assert (row.subject, row.route, row.detail) == (
            "attachment", "GET /api/v1/cases/{reference}/attachments/{attachment_id}",
            f"attachment {attachment.id}")

    def test_a_missing_attachment_records_nothing(self, bank: World) -> None:
        case = closed_case(bank)
        before = count(bank)
        with pytest.raises(Exception, match="no attachment"):
            attachments.open_attachment(bank.session, actor=bank.actor("bj_handler"),
                                        case=case, attachment_id=999_999)
        assert count(bank) == before


class TestSenders:
    def test_the_senders_of_a_case_are_one_record(self, world: World) -> None:
        receipt = channels.register_inbound(
            world.session, actor=channels.channel_actor(world.session),
            message=channels.InboundMessage(
                channel=Channel.wechat, source_system="wechat", source_id="wx-9",
                text="手机银行转账显示成功但对方一直没到账", contact="oUpF8uMuAJO_M2pxb1Q9",
                contact_kind=channels.CONTACT_CHANNEL_USER))
        case = world.session.get(Case, receipt.case_id)
        assert case is not None
        before = count(world)
        admin = org_service.actor_for(org_service.get_user(world.session, username="hq_admin"))
        channels.senders_of(world.session, actor=admin, case=case, via=Via("page", "GET /x"))
        assert count(world) == before + 1
        row = records(world)[-1]
        assert (row.subject, row.case_reference, row.fields) == (
            "senders", case.reference, ["contact"])
