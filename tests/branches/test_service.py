"""Recording visits, their scores and findings, closing findings, the trend, and scoping
(SQLite and PostgreSQL, each test rolled back)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bankvoc.branches import service
from bankvoc.branches.checklist import Checklist, load_checklist
from bankvoc.branches.enums import FindingStatus
from bankvoc.branches.schemas import AnswerIn, PhotoIn
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import service as org_service
from tests.branches.conftest import VISITED, visit
from tests.conftest import World

ALL_PASS = {"g1": "pass", "g2": "pass", "g3": "pass", "i1": "pass", "i2": "pass", "i3": "pass"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _org(world: World, code: str) -> int:
    return org_service.get_org_by_code(world.session, code=code).id


class TestScore:
    def test_all_passed_is_100(self, small: Checklist) -> None:
        found = service.score(small, visit(1, ALL_PASS).answers)
        assert (found.score, found.critical_failed, found.failed) == (100.0, False, ())

    def test_na_items_are_left_out(self, small: Checklist) -> None:
        # Applicable: g1 2 + g2 3 + i1 4 + i2 2 = 11; passed g1 2 + i1 4 + i2 2 = 8.
        answers = visit(1, {**ALL_PASS, "g2": "fail", "g3": "na", "i3": "na"}).answers
        found = service.score(small, answers)
        assert found.score == round(100 * 8 / 11, 2) == 72.73
        assert found.failed == ("g2",)
        assert not found.critical_failed

    def test_a_failed_critical_item_flags_the_visit(self, small: Checklist) -> None:
        # Applicable 20; passed 20 - 4 = 16.
        found = service.score(small, visit(1, {**ALL_PASS, "i1": "fail"}).answers)
        assert (found.score, found.critical_failed) == (80.0, True)

    def test_nothing_applicable_has_no_score(self, small: Checklist) -> None:
        found = service.score(small, visit(1, dict.fromkeys(ALL_PASS, "na")).answers)
        assert (found.score, found.critical_failed) == (None, False)


class TestRecordVisit:
    def test_records_answers_score_and_findings(self, world: World, small: Checklist) -> None:
        s = world.session
        bj1 = _org(world, "BJ01")
        data = visit(bj1, {**ALL_PASS, "g1": "fail", "i1": "fail", "i3": "na"},
                     remarks={"g1": "无人起身"}, kind="mystery_shopper")
        found = service.record_visit(s, actor=world.actor("hq_inspector"), data=data,
                                     checklist=small)
        # Applicable: 2 + 3 + 1 + 4 + 2 = 12; passed 3 + 1 + 2 = 6.
        assert found.score == 50.0
        assert found.critical_failed
        assert found.kind == "mystery_shopper"
        assert (found.checklist_version, found.checklist_checksum) == ("t1", small.checksum)
        assert found.visited_at == VISITED
        answers = service.answers_of(s, visit=found)
        assert [(a.item_code, a.result) for a in answers] == [
            ("g1", "fail"), ("g2", "pass"), ("g3", "pass"), ("i1", "fail"), ("i2", "pass"),
            ("i3", "na")]
        findings = service.findings_of(s, visit=found)
        manager = org_service.get_user(s, username="bj1_manager")
        assert [(f.item_code, f.description, f.owner_id, f.due_date, f.status)
                for f in findings] == [
            ("g1", "无人起身", manager.id, date(2026, 9, 24), "open"),
            ("i1", "核验证件", manager.id, date(2026, 9, 24), "open")]

    def test_the_due_date_counts_from_the_local_day(self, world: World,
                                                    small: Checklist) -> None:
        # 2026-09-10 20:00 UTC is 2026-09-11 04:00 in Shanghai.
        late = datetime(2026, 9, 10, 20, 0, tzinfo=UTC)
        found = service.record_visit(world.session, actor=world.actor("hq_admin"),
                                     data=visit(_org(world, "BJ01"), {**ALL_PASS, "g2": "fail"},
                                                visited_at=late), checklist=small)
        assert [f.due_date for f in service.findings_of(world.session, visit=found)] == [
            date(2026, 9, 25)]

    def test_an_outlet_without_a_branch_manager_leaves_findings_unowned(
            self, world: World, small: Checklist) -> None:
        found = service.record_visit(world.session, actor=world.actor("hq_inspector"),
                                     data=visit(_org(world, "SH01"), {**ALL_PASS, "g3": "fail"}),
                                     checklist=small)
        assert [f.owner_id for f in service.findings_of(world.session, visit=found)] == [None]

    @pytest.mark.parametrize(("change", "field"), [
        ({"drop": "i2"}, "answers.i2"),
        ({"twice": "g1"}, "answers.g1"),
        ({"extra": "zz"}, "answers.zz"),
    ])
    def test_every_item_is_answered_exactly_once(self, world: World, small: Checklist,
                                                 change: dict[str, str], field: str) -> None:
        data = visit(_org(world, "BJ01"), ALL_PASS)
        if "drop" in change:
            data.answers = [a for a in data.answers if a.item_code != change["drop"]]
        elif "twice" in change:
            data.answers.append(AnswerIn(item_code=change["twice"], result="fail"))
        else:
            data.answers.append(AnswerIn(item_code=change["extra"], result="pass"))
        with pytest.raises(Invalid) as caught:
            service.record_visit(world.session, actor=world.actor("hq_inspector"), data=data,
                                 checklist=small)
        assert caught.value.field == field
        assert field.split(".")[1] in caught.value.message

    def test_only_outlets_are_visited(self, world: World, small: Checklist) -> None:
        with pytest.raises(Invalid) as caught:
            service.record_visit(world.session, actor=world.actor("hq_inspector"),
                                 data=visit(_org(world, "BJ"), ALL_PASS), checklist=small)
        assert caught.value.field == "org"

    def test_not_in_the_future(self, world: World, small: Checklist) -> None:
        later = datetime.now(UTC) + timedelta(days=1)
        with pytest.raises(Invalid) as caught:
            service.record_visit(world.session, actor=world.actor("hq_inspector"),
                                 data=visit(_org(world, "BJ01"), ALL_PASS, visited_at=later),
                                 checklist=small)
        assert caught.value.field == "visited_at"

    def test_photos_are_checked_by_their_bytes(self, world: World, small: Checklist,
                                               tmp_path: Path, monkeypatch:
                                               pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
        reset_settings()
        actor = world.actor("hq_inspector")
        data = visit(_org(world, "BJ01"), ALL_PASS)
        with pytest.raises(Invalid) as caught:
            service.record_visit(world.session, actor=actor, data=data, checklist=small,
                                 photos=[PhotoIn(b"GIF89a not allowed")])
        assert caught.value.field == "photos"
        found = service.record_visit(world.session, actor=actor, data=data, checklist=small,
                                     photos=[PhotoIn(PNG, "g1")])
        [photo] = service.photos_of(world.session, visit=found)
        assert (photo.content_type, photo.size, photo.item_code) == ("image/png", len(PNG),
                                                                     "g1")
        assert service.get_photo(world.session, actor=actor, photo_id=photo.id)[1] == PNG

    def test_an_agent_may_not_record(self, world: World, small: Checklist) -> None:
        with pytest.raises(Forbidden):
            service.record_visit(world.session, actor=world.actor("bj1_agent"),
                                 data=visit(_org(world, "BJ01"), ALL_PASS), checklist=small)

    def test_the_shipped_checklist_is_the_default(self, world: World) -> None:
        checklist = load_checklist()
        data = visit(_org(world, "BJ01"), dict.fromkeys(checklist.codes(), "pass"))
        found = service.record_visit(world.session, actor=world.actor("bj1_manager"),
                                     data=data)
        assert (found.score, found.checklist_version) == (100.0, checklist.version)


class TestScoping:
    def test_outside_the_subtree_nothing_is_seen(self, world: World, small: Checklist) -> None:
        s = world.session
        bj_visit = service.record_visit(s, actor=world.actor("hq_inspector"),
                                        data=visit(_org(world, "BJ01"), ALL_PASS),
                                        checklist=small)
        service.record_visit(s, actor=world.actor("hq_inspector"),
                             data=visit(_org(world, "SH01"), ALL_PASS), checklist=small)
        page, total = service.list_visits(s, actor=world.actor("sh_handler"))
        assert total == 1
        assert [v.org_id for v in page] == [_org(world, "SH01")]
        with pytest.raises(NotFound):
            service.get_visit(s, actor=world.actor("sh_handler"), inspection_id=bj_visit.id)
        assert service.list_visits(s, actor=world.actor("hq_analyst"))[1] == 2

    def test_a_manager_records_only_in_their_subtree(self, world: World,
                                                     small: Checklist) -> None:
        with pytest.raises(NotFound):
            service.record_visit(world.session, actor=world.actor("bj1_manager"),
                                 data=visit(_org(world, "SH01"), ALL_PASS), checklist=small)

    def test_an_agent_may_not_read(self, world: World) -> None:
        with pytest.raises(Forbidden):
            service.list_visits(world.session, actor=world.actor("bj1_agent"))


class TestCloseFinding:
    def test_closes_once(self, world: World, small: Checklist) -> None:
        s = world.session
        found = service.record_visit(s, actor=world.actor("hq_inspector"),
                                     data=visit(_org(world, "BJ01"), {**ALL_PASS, "g1": "fail"}),
                                     checklist=small)
        [finding] = service.findings_of(s, visit=found)
        closed = service.close_finding(s, actor=world.actor("bj1_manager"),
                                       finding_id=finding.id)
        assert closed.status == FindingStatus.done
        assert closed.done_at is not None
        with pytest.raises(Conflict):
            service.close_finding(s, actor=world.actor("bj1_manager"), finding_id=finding.id)

    def test_another_subtrees_finding_is_not_found(self, world: World,
                                                   small: Checklist) -> None:
        s = world.session
        found = service.record_visit(s, actor=world.actor("hq_inspector"),
                                     data=visit(_org(world, "SH01"), {**ALL_PASS, "g1": "fail"}),
                                     checklist=small)
        [finding] = service.findings_of(s, visit=found)
        with pytest.raises(NotFound):
            service.close_finding(s, actor=world.actor("bj1_manager"), finding_id=finding.id)


class TestTrend:
    def test_per_outlet_and_month(self, world: World, small: Checklist) -> None:
        s = world.session
        actor = world.actor("hq_inspector")
        bj1, sh1 = _org(world, "BJ01"), _org(world, "SH01")
        september = datetime(2026, 9, 10, 2, tzinfo=UTC)
        # 2026-09-30 17:00 UTC is October 1st in Shanghai.
        october = datetime(2026, 9, 30, 17, tzinfo=UTC)
        service.record_visit(s, actor=actor, data=visit(bj1, ALL_PASS, visited_at=september),
                             checklist=small)  # 100
        service.record_visit(s, actor=actor, data=visit(bj1, {**ALL_PASS, "i1": "fail"},
                                                         visited_at=september),
                             checklist=small)  # 80, critical, one open finding
        closed = service.record_visit(s, actor=actor, data=visit(
            bj1, {**ALL_PASS, "i3": "fail"}, visited_at=october), checklist=small)  # 60
        [finding] = service.findings_of(s, visit=closed)
        service.close_finding(s, actor=actor, finding_id=finding.id)
        service.record_visit(s, actor=actor, data=visit(sh1, dict.fromkeys(ALL_PASS, "na"),
                                                         visited_at=september),
                             checklist=small)  # no score
        rows = [(r.org_code, r.month, r.visits, r.average_score, r.critical_failed,
                 r.open_findings) for r in service.trend(s, actor=actor)]
        assert rows == [("BJ01", "2026-09", 2, 90.0, 1, 1), ("BJ01", "2026-10", 1, 60.0, 0, 0),
                        ("SH01", "2026-09", 1, None, 0, 0)]
        bj = org_service.get_org_by_code(s, code="BJ")
        since, until = service.period("2026-10", "2026-10")
        cut = service.trend(s, actor=actor, org=bj, since=since, until=until)
        assert [(r.org_code, r.month) for r in cut] == [("BJ01", "2026-10")]
        assert [r.org_code for r in service.trend(s, actor=world.actor("sh_handler"))] == [
            "SH01"]

    def test_a_bad_period_is_refused(self) -> None:
        with pytest.raises(Invalid):
            service.period("2026-13", None)
        with pytest.raises(Invalid):
            service.period("2026-10", "2026-09")
