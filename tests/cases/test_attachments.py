from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.cases import attachments
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World, auth

EVIDENCE = "通话录音摘要：客户称未收到退款。".encode()


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANKVOC_ATTACHMENT_MAX_BYTES", "1000")
    reset_settings()
    return tmp_path


def _case(world: World) -> Case:
    draft = intake_service.register_case(world.session, actor=world.actor("bj_handler"),
                                         data=CaseCreate(text="退款一直没到账"))
    case = world.session.get(Case, draft.case_id)
    assert case is not None
    return case


class TestAddAttachment:
    def test_stores_the_file_by_checksum_and_records_an_event(
        self, world: World, storage: Path
    ) -> None:
        case = _case(world)
        attachment = attachments.add_attachment(
            world.session, actor=world.actor("bj_handler"), case=case,
            filename="../../录音 摘要.txt", content_type="text/plain",
            stream=io.BytesIO(EVIDENCE))
        digest = hashlib.sha256(EVIDENCE).hexdigest()
        assert (attachment.sha256, attachment.size) == (digest, len(EVIDENCE))
        assert attachment.filename == "录音 摘要.txt"
        assert (storage / "attachments" / digest[:2] / digest).read_bytes() == EVIDENCE
        event = world.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())).first()
        assert event is not None
        assert event.type == "attachment_added"
        assert verify_chain(world.session, case_id=case.id).ok

    def test_a_file_over_the_limit_is_refused_and_leaves_nothing(
        self, world: World, storage: Path
    ) -> None:
        case = _case(world)
        with pytest.raises(attachments.TooLarge):
            attachments.add_attachment(world.session, actor=world.actor("bj_handler"),
                                       case=case, filename="big.bin", content_type=None,
                                       stream=io.BytesIO(b"x" * 1001))
        assert [p for p in (storage / "attachments").rglob("*") if p.is_file()] == []

    def test_an_empty_file_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid):
            attachments.add_attachment(world.session, actor=world.actor("bj_handler"),
                                       case=_case(world), filename="e.txt", content_type=None,
                                       stream=io.BytesIO(b""))

    def test_read_only_roles_may_not_attach(self, world: World) -> None:
        with pytest.raises(Forbidden):
            attachments.add_attachment(world.session, actor=world.actor("hq_analyst"),
                                       case=_case(world), filename="a.txt", content_type=None,
                                       stream=io.BytesIO(EVIDENCE))


class TestOpenAttachment:
    def test_a_tampered_file_fails_its_checksum(self, world: World, storage: Path) -> None:
        case = _case(world)
        attachment = attachments.add_attachment(
            world.session, actor=world.actor("bj_handler"), case=case, filename="a.txt",
            content_type="text/plain", stream=io.BytesIO(EVIDENCE))
        (storage / "attachments" / attachment.storage_key).write_bytes(b"forged")
        with pytest.raises(Invalid, match="checksum"):
            attachments.open_attachment(world.session, actor=world.actor("bj_handler"),
                                        case=case, attachment_id=attachment.id)


class TestAttachmentRoutes:
    def test_upload_list_and_download(self, client: TestClient, world: World) -> None:
        reference = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                json={"text": "ATM吞卡"}).json()["reference"]
        url = f"/api/v1/cases/{reference}/attachments"
        created = client.post(url, headers=auth(world, "bj_handler"),
                              files={"file": ("凭证.txt", EVIDENCE, "text/plain")})
        assert created.status_code == 201, created.text
        listed = client.get(url, headers=auth(world, "bj_handler")).json()
        assert [a["filename"] for a in listed] == ["凭证.txt"]
        download = client.get(f"{url}/{created.json()['id']}", headers=auth(world, "bj_handler"))
        assert download.content == EVIDENCE
        other_branch = client.get(f"{url}/{created.json()['id']}",
                                  headers=auth(world, "sh_handler"))
        assert other_branch.status_code == 404

    def test_an_attachment_id_past_the_column_is_422_naming_it(
        self, client: TestClient, world: World
    ) -> None:
        reference = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                json={"text": "ATM吞卡"}).json()["reference"]
        response = client.get(f"/api/v1/cases/{reference}/attachments/{2**31}",
                              headers=auth(world, "bj_handler"))
        assert (response.status_code, response.json()["field"]) == (422, "attachment_id")

    def test_a_download_is_never_shown_as_a_page_of_the_site(
        self, client: TestClient, world: World
    ) -> None:
        reference = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                json={"text": "ATM吞卡"}).json()["reference"]
        url = f"/api/v1/cases/{reference}/attachments"
        created = client.post(url, headers=auth(world, "bj_handler"),
                              files={"file": ("凭证.txt", EVIDENCE, "text/plain")})
        download = client.get(f"{url}/{created.json()['id']}", headers=auth(world, "bj_handler"))
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-security-policy"].startswith("sandbox;")
        assert download.headers["x-content-type-options"] == "nosniff"

    def test_too_large_is_413_naming_the_file(self, client: TestClient, world: World) -> None:
        reference = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                json={"text": "ATM吞卡"}).json()["reference"]
        response = client.post(f"/api/v1/cases/{reference}/attachments",
                               headers=auth(world, "bj_handler"),
                               files={"file": ("big.bin", b"x" * 2000, "application/pdf")})
        assert response.status_code == 413
        assert response.json()["field"] == "file"
