"""The customer's page as a service: filing through intake, the one-time code, the customer's
session and view of their one case, supplements and the rate limits (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Attachment, Case, CaseEvent
from bankvoc.cases.workflow import schemas
from bankvoc.cases.workflow import service as workflow
from bankvoc.core.settings import reset_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.notify.models import Notification
from bankvoc.portal import service as portal
from bankvoc.portal.errors import PortalSessionEnded, RateLimited
from bankvoc.portal.evidence import Upload
from bankvoc.portal.view import case_view
from tests.conftest import World
from tests.portal.helpers import OTHER_PHONE, PDF, PHONE, PNG, codes_queued, file, form, last_code


def _count(session: Session, model: Any) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _case(session: Session, reference: str) -> Case:
    found = session.scalar(select(Case).where(Case.reference == reference))
    assert found is not None
    return found


def _problems(session: Session, uploads: list[Upload] | None = None,
              **overrides: str) -> dict[str, str]:
    filing, problems = portal.read_filing(session, values=form(**overrides),
                                          uploads=uploads or [])
    assert filing is None
    return {p.field or "": p.key for p in problems}


def _ask(session: Session, reference: str, *, phone: str = PHONE, via: str = "sms",
         client_ip: str = "10.1.1.1", language: str = "zh") -> str:
    """Ask for a code for `reference` as the page does; the challenge's token."""
    return portal.request_code(session, reference=reference, phone=phone, via=via,
                               client_ip=client_ip, language=language)


def _limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    monkeypatch.setenv(f"BANKVOC_PORTAL_{name.upper()}", str(value))
    reset_settings()


class TestReadFiling:
    def test_a_good_form_is_read_in_its_normal_form(self, world: World) -> None:
        filing, problems = portal.read_filing(
            world.session, values=form(phone="139 1234 5678", email="Li@Example.CN",
                                       amount="1,280.5"), uploads=[])
        assert problems == []
        assert filing is not None
        assert (filing.phone, filing.email, str(filing.amount)) == (
            "13912345678", "li@example.cn", "1280.50")

    def test_each_bad_field_is_named(self, world: World) -> None:
        found = _problems(world.session, kind="praise", name="", phone="12345",
                          email="not-an-address", org="NOPE", product="no_such_product",
                          amount="abc", text="太短", consent="")
        assert found == {"kind": "choice", "name": "required", "phone": "mobile",
                         "email": "email", "org": "choice", "product": "choice",
                         "amount": "amount", "text": "too_short", "consent": "consent"}

    def test_a_landline_is_not_a_mobile(self, world: World) -> None:
        assert _problems(world.session, phone="010-62345678") == {"phone": "mobile"}

    def test_a_text_past_its_limit_is_refused(self, world: World) -> None:
        assert _problems(world.session, text="长" * (portal.text_max() + 1)) == {
            "text": "too_long"}

    def test_evidence_of_an_unknown_kind_or_empty_is_refused(self, world: World) -> None:
        found = portal.read_filing(world.session, values=form(), uploads=[
            Upload("page.pdf", b"<html><script>alert(1)</script>"), Upload("empty.png", b"")])
        assert [(p.field, p.key) for p in found[1]] == [("evidence", "file_type"),
                                                         ("evidence", "file_empty")]

    def test_too_many_files_are_refused(self, world: World,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
        _limit(monkeypatch, "max_files", 1)
        assert _problems(world.session, uploads=[Upload("a.pdf", PDF),
                                                 Upload("b.png", PNG)]) == {
            "evidence": "file_count"}


class TestFileCase:
    def test_one_case_through_intake_with_its_acknowledgement_queued(
            self, world: World) -> None:
        session = world.session
        before = _count(session, Case)
        filed = file(session, uploads=[Upload("回单.pdf", PDF), Upload("截图.png", PNG)])
        assert _count(session, Case) == before + 1
        case = _case(session, filed.reference)
        assert (case.channel, case.kind, case.source_system) == ("web", "complaint", "portal")
        assert case.org.code == "BJ01"
        assert case.amount is not None
        assert str(case.amount) == "128.00"
        # Understood like every channel's cases: classified, graded, with SLA clocks.
        assert {"product", "category"} <= set(case.annotations)
        assert case.severity
        assert case.due_at is not None
        assert case.customer is not None
        assert case.customer.phone_masked == "139****5678"
        events = [e.type for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))]
        assert events[0] == "received"
        assert events.count("attachment_added") == 2
        assert events[-1] == portal.CONSENT_EVENT
        types = {a.content_type for a in session.scalars(
            select(Attachment).where(Attachment.case_id == case.id))}
        assert types == {"application/pdf", "image/png"}
        acks = list(session.scalars(select(Notification).where(
            Notification.case_id == case.id, Notification.template == "portal_received")))
        assert [(n.channel, n.status) for n in acks] == [("sms", "pending")]
        assert case.reference in acks[0].body
        assert PHONE not in acks[0].body

    def test_an_email_given_gets_the_acknowledgement_too(self, world: World) -> None:
        filed = file(world.session, email="li@example.cn", kind="suggestion")
        case = _case(world.session, filed.reference)
        assert case.reference.startswith("JY")
        channels = set(world.session.scalars(select(Notification.channel).where(
            Notification.case_id == case.id)))
        assert channels == {"sms", "email"}

    def test_the_same_form_sent_twice_files_one_case(self, world: World) -> None:
        first = file(world.session)
        again = file(world.session)
        assert again.reference == first.reference
        assert again.outcome == "unchanged"
        assert _count(world.session, Notification) == 1

    def test_filings_are_limited_per_address(self, world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
        _limit(monkeypatch, "filings_per_hour", 2)
        file(world.session, submission="s" * 20)
        file(world.session, submission="t" * 20, client_ip="10.0.0.10")
        file(world.session, submission="u" * 20)
        with pytest.raises(RateLimited) as refused:
            file(world.session, submission="v" * 20)
        assert refused.value.status == 429
        file(world.session, submission="w" * 20, client_ip="10.0.0.10")


class TestCodes:
    def test_a_matching_phone_gets_a_code_and_a_session(self, world: World) -> None:
        session = world.session
        filed = file(session)
        token = _ask(session, filed.reference)
        code = last_code(session)
        result = portal.check_code(session, token=token, code=code, client_ip="10.1.1.1")
        assert result.ok
        assert result.session_token
        row = portal.resolve_session(session, token=result.session_token)
        assert row.case_id == _case(session, filed.reference).id

    def test_a_wrong_phone_reveals_nothing_and_no_code_leaves(self, world: World) -> None:
        session = world.session
        filed = file(session)
        token = _ask(session, filed.reference, phone=OTHER_PHONE)
        assert token  # the same answer as for the right phone
        assert codes_queued(session) == 0
        for code in ("000000", "123456"):
            assert portal.check_code(session, token=token, code=code,
                                     client_ip="10.1.1.1").reason == "wrong"

    def test_an_unknown_reference_answers_alike(self, world: World) -> None:
        token = _ask(world.session, "TS20990101000001")
        assert token
        assert codes_queued(world.session) == 0

    def test_a_code_is_used_once(self, world: World) -> None:
        session = world.session
        filed = file(session)
        token = _ask(session, filed.reference)
        code = last_code(session)
        assert portal.check_code(session, token=token, code=code, client_ip="10.1.1.1").ok
        again = portal.check_code(session, token=token, code=code, client_ip="10.1.1.1")
        assert (again.ok, again.reason) == (False, "expired")

    def test_a_code_expires(self, world: World) -> None:
        session = world.session
        filed = file(session)
        token = _ask(session, filed.reference)
        later = utcnow() + timedelta(minutes=11)
        result = portal.check_code(session, token=token, code=last_code(session),
                                   client_ip="10.1.1.1", now=later)
        assert (result.ok, result.reason) == (False, "expired")

    def test_a_code_allows_a_few_tries(self, world: World) -> None:
        session = world.session
        filed = file(session)
        token = _ask(session, filed.reference)
        code = last_code(session)
        wrong = "999999" if code != "999999" else "000000"
        lefts = [portal.check_code(session, token=token, code=wrong,
                                   client_ip="10.1.1.1").attempts_left for _ in range(5)]
        assert lefts == [4, 3, 2, 1, 0]
        late = portal.check_code(session, token=token, code=code, client_ip="10.1.1.1")
        assert (late.ok, late.reason) == (False, "attempts")

    def test_a_new_code_retires_the_old_one(self, world: World) -> None:
        session = world.session
        filed = file(session)
        first = _ask(session, filed.reference)
        old = last_code(session)
        _ask(session, filed.reference)
        result = portal.check_code(session, token=first, code=old, client_ip="10.1.1.1")
        assert result.reason == "expired"

    def test_the_code_goes_by_email_when_asked_and_given(self, world: World) -> None:
        session = world.session
        filed = file(session, email="li@example.cn")
        _ask(session, filed.reference, via="email", language="en")
        sent = session.scalars(select(Notification).where(
            Notification.template == "portal_code")).one()
        assert (sent.channel, sent.language, sent.recipient_masked) == (
            "email", "en", "l***@example.cn")

    def test_code_requests_are_limited_per_reference(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        _limit(monkeypatch, "code_requests_per_case_per_hour", 2)
        filed = file(world.session)
        for ip in ("10.2.0.1", "10.2.0.2"):
            _ask(world.session, filed.reference, phone=OTHER_PHONE, client_ip=ip)
        with pytest.raises(RateLimited):
            _ask(world.session, filed.reference, client_ip="10.2.0.3")

    def test_wrong_codes_are_limited_per_address(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        _limit(monkeypatch, "code_failures_per_hour", 2)
        token = _ask(world.session, "TS20990101000001", client_ip="10.3.0.1")
        for _ in range(2):
            portal.check_code(world.session, token=token, code="111111", client_ip="10.3.0.1")
        with pytest.raises(RateLimited):
            portal.check_code(world.session, token=token, code="111111", client_ip="10.3.0.1")


# The token of each session `_session_for` opened (a test's own; ids are not reused).
_TOKENS: dict[int, str] = {}


def _session_for(world: World, reference: str) -> Any:
    token = _ask(world.session, reference)
    result = portal.check_code(world.session, token=token, code=last_code(world.session),
                               client_ip="10.1.1.1")
    assert result.session_token is not None
    row = portal.resolve_session(world.session, token=result.session_token)
    _TOKENS[row.id] = result.session_token
    return row


def _step(world: World, case: Case, by: str, **payload: Any) -> None:
    parsed = schemas.STEP_ADAPTER.validate_python({"version": case.version, **payload})
    workflow.apply(world.session, actor=world.actor(by), case=case, step=parsed, now=utcnow())


class TestTheCustomersView:
    def test_shows_the_stage_and_the_decision_but_no_internal_note(self, world: World) -> None:
        filed = file(world.session, org="")
        case = _case(world.session, filed.reference)
        _step(world, case, "hq_admin", action="accept")
        _step(world, case, "hq_admin", action="note", kind="finding",
              text="内部备注：柜员操作失误，需追责")
        row = _session_for(world, filed.reference)
        view = case_view(world.session, portal_session=row)
        assert view.stage == "in_progress"
        assert [h.what for h in view.happenings] == ["accepted", "received"]
        shown = repr(view)
        assert "内部备注" not in shown
        assert "hq_admin" not in shown
        assert PHONE not in shown
        assert view.phone_masked == "139****5678"
        assert view.due_at is not None

    def test_a_session_sees_only_its_own_case(self, world: World) -> None:
        mine = file(world.session)
        other = file(world.session, phone=OTHER_PHONE, name="王五", submission="x" * 20,
                     text="另一位客户的投诉：信用卡年费被重复收取，要求退还。")
        row = _session_for(world, mine.reference)
        view = case_view(world.session, portal_session=row)
        assert view.reference == mine.reference != other.reference
        assert "另一位客户" not in repr(view)

    def test_an_ended_session_shows_nothing(self, world: World) -> None:
        filed = file(world.session)
        row = _session_for(world, filed.reference)
        token = _TOKENS[row.id]
        assert portal.resolve_session(world.session, token=token).id == row.id
        for forged in ("bvp_forged", None):
            with pytest.raises(PortalSessionEnded):
                portal.resolve_session(world.session, token=forged)
        with pytest.raises(PortalSessionEnded):
            portal.resolve_session(world.session, token=token,
                                   now=row.expires_at + timedelta(seconds=1))
        portal.end_session(world.session, token=token)
        with pytest.raises(PortalSessionEnded):
            portal.resolve_session(world.session, token=token)


class TestSupplement:
    def test_lands_on_the_timeline_as_the_customers_event(self, world: World) -> None:
        session = world.session
        filed = file(session)
        row = _session_for(world, filed.reference)
        added = portal.add_supplement(session, portal_session=row,
                                      text="补充：我的电话是13912345678，另附回单。",
                                      uploads=[Upload("回单2.pdf", PDF + b"2")])
        assert added == 1
        event = session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == row.case_id).order_by(CaseEvent.seq.desc())).first()
        assert event is not None
        assert (event.type, event.actor_user_id) == (portal.SUPPLEMENT_EVENT, None)
        assert event.data["files"] == 1
        assert "13912345678" not in event.data["text"]  # masked, as every text there
        view = case_view(session, portal_session=row)
        assert view.happenings[0].what == "supplement"

    def test_supplements_are_limited_per_case(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        _limit(monkeypatch, "supplements_per_hour", 1)
        filed = file(world.session)
        row = _session_for(world, filed.reference)
        portal.add_supplement(world.session, portal_session=row, text="一", uploads=[])
        with pytest.raises(RateLimited):
            portal.add_supplement(world.session, portal_session=row, text="二", uploads=[])
