"""Training records: a row parsed or refused naming its field, stored once per session and
attendee, and the pass-rate KPI (passed ÷ assessed, target ≥ 90%) per org and month."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.rowimport import ImportCounts
from bankvoc.people import training
from bankvoc.people.models import TrainingResult, TrainingSession
from tests.conftest import World

KNOWN = {"greeting", "closing", "silence"}


def row(**fields: Any) -> dict[str, Any]:
    base = {"session": "TR-1", "topic": "开场白规范", "date": "2026-10-09",
            "trainer": "王老师", "org": "BJ", "categories": "greeting; closing",
            "pass_mark": "", "attendee": "a1", "score": "75"}
    return {**base, **fields}


def _import(session: Session, world: World, rows: list[dict[str, Any]],
            user: str = "hq_admin") -> tuple[ImportCounts, list[tuple[int, str, str]]]:
    refused: list[tuple[int, str, str]] = []
    counts = training.import_rows(
        session, actor=world.actor(user),
        rows=((n, values, None) for n, values in enumerate(rows, start=2)),
        on_reject=lambda n, f, reason: refused.append((n, f or "", reason)))
    return counts, refused


class TestParse:
    def test_a_row_with_the_default_pass_mark(self) -> None:
        parsed = training.parse(row(), known_categories=KNOWN)
        assert (parsed.session, parsed.categories, parsed.pass_mark, parsed.score) == (
            "TR-1", ("greeting", "closing"), 60.0, 75.0)

    def test_no_score_is_attended_not_assessed(self) -> None:
        assert training.parse(row(score=""), known_categories=KNOWN).score is None

    @pytest.mark.parametrize(("fields", "field"), [
        ({"session": ""}, "session"),
        ({"date": "9 Oct"}, "date"),
        ({"score": "eighty"}, "score"),
        ({"score": "120"}, "score"),
        ({"pass_mark": "-1"}, "pass_mark"),
        ({"categories": "greeting;smiling"}, "categories"),
        ({"attendee": ""}, "attendee"),
    ])
    def test_a_bad_value_names_its_field(self, fields: dict[str, str], field: str) -> None:
        with pytest.raises(Invalid) as caught:
            training.parse(row(**fields), known_categories=KNOWN)
        assert caught.value.field == field


class TestImportRows:
    def test_sessions_and_results_stored_once_however_often_sent(
            self, world: World, session: Session) -> None:
        rows = [row(), row(attendee="a2", score="50"),
                row(session="TR-2", date="2026-10-20", attendee="a1", score="90")]
        first, _ = _import(session, world, rows)
        again, _ = _import(session, world, rows)
        assert first.as_dict() == {"accepted": 3, "updated": 0, "unchanged": 0, "rejected": 0}
        assert again.as_dict() == {"accepted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
        assert session.scalar(select(func.count()).select_from(TrainingSession)) == 2
        assert session.scalar(select(func.count()).select_from(TrainingResult)) == 3

    def test_a_corrected_score_updates_the_result(self, world: World,
                                                  session: Session) -> None:
        _import(session, world, [row()])
        counts, _ = _import(session, world, [row(score="80")])
        assert counts.updated == 1
        assert session.scalar(select(TrainingResult.score)) == 80

    def test_refused_rows_give_row_field_and_reason(self, world: World,
                                                    session: Session) -> None:
        counts, refused = _import(session, world, [
            row(), row(attendee="a2", org="NOPE"), row(attendee="a3", topic="另一个主题"),
            row(attendee="a4", score="abc")])
        assert counts.as_dict() == {"accepted": 1, "updated": 0, "unchanged": 0, "rejected": 3}
        assert [(n, f) for n, f, _ in refused] == [(3, "org"), (4, "topic"), (5, "score")]
        assert "differs from session TR-1" in refused[1][2]

    def test_an_org_outside_the_importers_subtree_is_refused(self, world: World,
                                                             session: Session) -> None:
        from bankvoc.orgs import service as org_service
        bj = org_service.get_org_by_code(session, code="BJ")
        org_service.create_user(session, username="bj_lead", display_name="bj_lead", org=bj,
                                roles=["team_lead"])
        counts, refused = _import(session, world, [row(org="SH")], user="bj_lead")
        assert counts.rejected == 1
        assert refused[0][1] == "org"

    def test_an_agent_may_not_import(self, world: World, session: Session) -> None:
        with pytest.raises(Forbidden):
            _import(session, world, [row()], user="bj1_agent")


class TestPassRate:
    def test_passed_over_assessed_for_the_month_against_the_target(
            self, world: World, session: Session) -> None:
        """October at BJ: TR-1 (pass mark 60) a1 75, a2 50, a3 not assessed; TR-2 (pass mark
        80 at outlet BJ01) a1 80, a4 95. Passed 3 of 4 assessed = 75% < 90%. A November
        session and one at SH are not counted."""
        _import(session, world, [
            row(), row(attendee="a2", score="50"), row(attendee="a3", score=""),
            row(session="TR-2", org="BJ01", pass_mark="80", attendee="a1", score="80"),
            row(session="TR-2", org="BJ01", pass_mark="80", attendee="a4", score="95"),
            row(session="TR-3", date="2026-11-02", score="10"),
            row(session="TR-4", org="SH", score="10")])
        found = training.pass_rate(session, actor=world.actor("hq_admin"), month="2026-10",
                                   org="BJ")
        assert (found.passed, found.assessed, found.value) == (3, 4, 75.0)
        assert (found.target, found.met) == (90.0, False)
        assert [(s.session.code, s.attendees, s.assessed, s.passed)
                for s in found.sessions] == [("TR-1", 3, 2, 1), ("TR-2", 2, 2, 2)]

    def test_no_assessment_gives_no_rate(self, world: World, session: Session) -> None:
        found = training.pass_rate(session, actor=world.actor("hq_admin"), month="2026-10")
        assert (found.value, found.met) == (None, None)

    def test_another_branch_is_refused_naming_the_org(self, world: World,
                                                      session: Session) -> None:
        from bankvoc.orgs import service as org_service
        bj = org_service.get_org_by_code(session, code="BJ")
        org_service.create_user(session, username="bj_manager", display_name="bj_manager",
                                org=bj, roles=["branch_manager"])
        with pytest.raises(Invalid) as caught:
            training.pass_rate(session, actor=world.actor("bj_manager"), month="2026-10",
                               org="SH")
        assert caught.value.field == "org"

    def test_a_bad_month_names_the_field(self, world: World, session: Session) -> None:
        with pytest.raises(Invalid) as caught:
            training.pass_rate(session, actor=world.actor("hq_admin"), month="2026/10")
        assert caught.value.field == "month"
