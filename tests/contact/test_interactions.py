"""Interaction records: a row read (`parse`), one stored once (`store`) and a file's rows
imported (`import_rows`), every refused row told with its row, field and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bankvoc.cases.models import Case
from bankvoc.contact import interactions
from bankvoc.contact.models import Interaction
from bankvoc.core.errors import Invalid, NotFound
from bankvoc.core.rowimport import ImportCounts
from bankvoc.customers import service as customers_service
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from tests.conftest import World

PHONE = "13812345678"


def row(**fields: Any) -> dict[str, Any]:
    """A good row of an ACD export, as a file gives it (text), with `fields` changed."""
    return {"source_id": "C1", "kind": "call", "agent": "A1001", "team": "T1", "queue": "借记卡",
            "org": "BJ01", "started_at": "2026-10-01 10:00:00", "routed_to_agent": "1",
            "answered": "1", "abandoned": "0", "transferred": "0", "wait_s": "12",
            "talk_s": "180", "hold_s": "20", "wrap_s": "30", "outcome": "resolved",
            "phone": PHONE, "issue_key": "debit_card/fee", "csat": "5", **fields}


def parse(**fields: Any) -> interactions.InteractionIn:
    return interactions.parse(row(**fields), source_system="acd")


def store(world: World, username: str = "hq_admin", **fields: Any) -> str:
    return interactions.store(world.session, actor=world.actor(username), data=parse(**fields))


def stored(world: World, source_id: str = "C1") -> Interaction:
    return world.session.scalars(select(Interaction).where(
        Interaction.source_system == "acd", Interaction.source_id == source_id)).one()


def count(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(Interaction)) or 0


@pytest.fixture
def world(world: World) -> World:
    """The test world plus agent A1001, a user of the phone-banking centre (PBC)."""
    s = world.session
    org_service.create_user(s, username="A1001", display_name="坐席1001",
                            org=org_service.get_org_by_code(s, code="PBC"), roles=["agent"])
    s.flush()
    return world


class TestParse:
    def test_reads_a_row_of_text_as_the_file_gives_it(self) -> None:
        data = parse()
        assert (data.kind, data.answered, data.routed_to_agent, data.abandoned) == (
            "call", True, True, False)
        assert (data.wait_s, data.talk_s, data.hold_s, data.wrap_s, data.csat) == (
            12, 180, 20, 30, 5)

    def test_reads_chinese_headers_and_yes_no_words(self) -> None:
        data = interactions.parse({"通话编号": "C9", "类型": "在线", "机构": "BJ01",
                                   "开始时间": "2026-10-01 10:00", "接通": "是", "放弃": "否",
                                   "等待时长": "7.0", "产品": "信用卡", "类别": "年费"},
                                  source_system="acd")
        assert (data.source_id, data.kind, data.answered, data.abandoned, data.wait_s) == (
            "C9", "chat", True, False, 7)
        assert data.issue() == "信用卡/年费"  # product/category when no issue key is given

    def test_ignores_columns_of_the_platform_s_own(self) -> None:
        assert parse(extra="x", recording_url="rec/1.wav").source_id == "C1"

    def test_reads_a_transcript_s_turns_naming_a_bad_one(self) -> None:
        with pytest.raises(Invalid) as caught:
            parse(turns=[{"speaker": "agent"}])
        assert caught.value.field == "turns.0.start_ms"

    @pytest.mark.parametrize(("fields", "field", "reason"), [
        ({"wait_s": "-3"}, "wait_s", "greater than or equal to 0"),
        ({"talk_s": "long"}, "talk_s", "valid integer"),
        ({"csat": "6"}, "csat", "less than or equal to 5"),
        ({"kind": "fax"}, "kind", "'call' or 'chat'"),
        ({"started_at": None}, "started_at", "Field required"),
        ({"started_at": "yesterday"}, "started_at", "valid datetime"),
        ({"answered": "maybe"}, "answered", "valid boolean"),
        ({"routed_to_agent": "0"}, "answered", "answered by a person but not routed"),
        ({"abandoned": "1"}, "abandoned", "not both answered and abandoned"),
        ({"source_id": None}, "source_id", "Field required"),
    ])
    def test_a_bad_value_names_its_field(self, fields: dict[str, Any], field: str,
                                         reason: str) -> None:
        with pytest.raises(Invalid) as caught:
            parse(**fields)
        assert caught.value.field == field
        assert reason in caught.value.message


class TestStore:
    def test_a_new_interaction_is_accepted_with_its_times_in_utc(self, world: World) -> None:
        assert store(world) == "accepted"
        interaction = stored(world)
        # 10:00 in Shanghai (the bank's zone, the row has none) is 02:00 UTC
        assert interaction.started_at == datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
        assert (interaction.org_id, interaction.agent, interaction.team, interaction.queue) == (
            org_service.get_org_by_code(world.session, code="BJ01").id, "A1001", "T1", "借记卡")
        assert interaction.agent_user_id == org_service.get_user(world.session,
                                                                 username="A1001").id
        assert (interaction.issue_key, interaction.outcome, interaction.csat) == (
            "debit_card/fee", "resolved", 5)

    def test_the_same_record_again_changes_nothing(self, world: World) -> None:
        assert [store(world), store(world), store(world)] == ["accepted", "unchanged",
                                                              "unchanged"]
        assert count(world) == 1

    def test_a_corrected_record_updates_the_stored_one(self, world: World) -> None:
        store(world)
        assert store(world, wrap_s="45", outcome="callback") == "updated"
        assert count(world) == 1
        assert (stored(world).wrap_s, stored(world).outcome) == (45, "callback")

    def test_the_same_id_from_another_system_is_another_interaction(self, world: World) -> None:
        store(world)
        data = interactions.parse(row(), source_system="chat")
        assert interactions.store(world.session, actor=world.actor("hq_admin"),
                                  data=data) == "accepted"
        assert count(world) == 2

    def test_without_an_org_code_the_agent_s_org_is_taken(self, world: World) -> None:
        store(world, org=None)
        assert stored(world).org_id == org_service.get_org_by_code(world.session,
                                                                   code="PBC").id

    def test_an_unknown_agent_is_kept_by_name_only(self, world: World) -> None:
        store(world, agent="Z9")
        assert (stored(world).agent, stored(world).agent_user_id) == ("Z9", None)

    def test_no_org_code_and_an_unknown_agent_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            store(world, org=None, agent="Z9")
        assert caught.value.field == "org"

    def test_an_unknown_org_is_refused(self, world: World) -> None:
        with pytest.raises(NotFound) as caught:
            store(world, org="XX")
        assert (caught.value.field, caught.value.message) == ("org", "no org with code 'XX'")

    def test_a_branch_may_not_store_another_branch_s_interaction(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            store(world, "bj_handler", org="SH01")
        assert (caught.value.field, caught.value.message) == (
            "org", "org 'SH01' is outside your scope")

    def test_the_customer_is_found_by_the_phone_s_blind_index_and_the_phone_not_kept(
        self, world: World
    ) -> None:
        store(world, phone="138 1234 5678")
        customer = customers_service.find_customer(world.session, actor=world.actor("hq_admin"),
                                                   phone=PHONE)
        interaction = stored(world)
        assert interaction.customer_id == customer.id
        values = [str(getattr(interaction, c.key)) for c in Interaction.__table__.columns]
        assert not any("5678" in v for v in values)

    def test_an_existing_customer_is_reused(self, world: World) -> None:
        known = customers_service.find_or_create(world.session, name=None, phone=PHONE,
                                                 id_number=None)
        store(world)
        store(world, source_id="C2")
        assert stored(world).customer_id == stored(world, "C2").customer_id == known

    def test_a_bad_phone_is_refused_naming_the_field(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            store(world, phone="12")
        assert caught.value.field == "phone"

    def test_a_case_is_linked_by_its_reference(self, world: World) -> None:
        data = CaseCreate.model_validate({"text": "信用卡年费乱收", "source_id": "K1",
                                          "customer_phone": PHONE,
                                          "received_at": "2026-09-30 10:00"})
        draft = intake_service.register_case(world.session, actor=world.actor("bj_handler"),
                                             data=data)
        case = world.session.get_one(Case, draft.case_id)
        store(world, case=case.reference)
        assert stored(world).case_id == case.id
        assert stored(world).customer_id == case.customer_id  # one customer, one blind index

    def test_an_unknown_case_is_refused_naming_the_field(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            store(world, case="TS20990101000001")
        assert caught.value.field == "case"


class TestImportRows:
    def _import(self, world: World, rows: list[tuple[int, dict[str, Any], str | None]],
                username: str = "hq_admin"
                ) -> tuple[ImportCounts, list[tuple[int, str | None, str]]]:
        rejects: list[tuple[int, str | None, str]] = []
        counts = interactions.import_rows(
            world.session, actor=world.actor(username), rows=rows, source_system="acd",
            on_reject=lambda number, field, reason: rejects.append((number, field, reason)))
        return counts, rejects

    def test_stores_every_good_row_once_and_tells_why_each_other_was_refused(
        self, world: World
    ) -> None:
        rows: list[tuple[int, dict[str, Any], str | None]] = [
            (2, row(source_id="C1"), None),
            (3, row(source_id="C2", wait_s="-1"), None),
            (4, row(source_id="C3", org="XX"), None),
            (5, {}, "row has 3 cells more than the header"),
            (6, row(source_id="C4", answered="0", abandoned="1", talk_s="0"), None),
        ]
        counts, rejects = self._import(world, rows)
        assert counts.as_dict() == {"accepted": 2, "updated": 0, "unchanged": 0, "rejected": 3}
        assert [(n, f) for n, f, _ in rejects] == [(3, "wait_s"), (4, "org"), (5, "row")]
        assert rejects[1][2] == "no org with code 'XX'"
        assert count(world) == 2

    def test_the_same_rows_again_store_nothing_twice(self, world: World) -> None:
        rows: list[tuple[int, dict[str, Any], str | None]] = [
            (n, row(source_id=f"C{n}"), None) for n in range(2, 6)]
        first, _ = self._import(world, rows)
        again, _ = self._import(world, rows)
        assert (first.accepted, again.accepted, again.unchanged) == (4, 0, 4)
        assert count(world) == 4

    def test_a_row_repeated_in_the_file_is_stored_once(self, world: World) -> None:
        counts, _ = self._import(world, [(2, row(), None), (3, row(), None)])
        assert (counts.accepted, counts.unchanged, count(world)) == (1, 1, 1)

    def test_a_refused_row_leaves_no_customer_or_interaction_behind(self, world: World) -> None:
        counts, rejects = self._import(world, [(2, row(case="TS20990101000001"), None)])
        assert (counts.rejected, rejects[0][1], count(world)) == (1, "case", 0)
        with pytest.raises(NotFound):
            customers_service.find_customer(world.session, actor=world.actor("hq_admin"),
                                            phone=PHONE)

    def test_a_branch_imports_only_into_its_own_subtree(self, world: World) -> None:
        counts, rejects = self._import(world, [(2, row(source_id="C1", org="BJ01"), None),
                                               (3, row(source_id="C2", org="SH01"), None)],
                                       username="bj_handler")
        assert (counts.accepted, rejects) == (1, [(3, "org", "org 'SH01' is outside your scope")])
