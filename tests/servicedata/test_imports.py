"""Importing service data: each kind's rows read (Chinese headers too), stored once per natural
key (a resend changes nothing, a correction updates), and every refused row told with its row,
field and reason while the others are stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.servicedata import imports
from bankvoc.servicedata.models import ChannelDay, DigitalUsage, ProcessRecord, QueueTicket
from tests.conftest import World
from tests.servicedata.conftest import load, ticket


def count(world: World, model: type) -> int:
    return world.session.scalar(select(func.count()).select_from(model)) or 0


class TestQueueTickets:
    def test_wait_and_handling_seconds_come_from_the_times(self, world: World) -> None:
        counts, refused = load(world, "queue", [ticket("A001", "2026-10-09 09:00", 12.5, 7)])
        assert (counts.accepted, refused) == (1, [])
        stored = world.session.scalars(select(QueueTicket)).one()
        assert (stored.wait_s, stored.handle_s) == (750, 420)
        assert stored.service_date == date(2026, 10, 9)  # the local day of issue
        assert stored.issued_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC

    def test_a_ticket_never_called_has_no_wait(self, world: World) -> None:
        load(world, "queue", [ticket("A002", "2026-10-09 09:00", None)])
        stored = world.session.scalars(select(QueueTicket)).one()
        assert (stored.wait_s, stored.handle_s) == (None, None)

    def test_chinese_headers_and_business_names(self, world: World) -> None:
        row = {"网点代码": "BJ01", "排队号": "B017", "业务类型": "对公业务",
               "取号时间": "2026-10-09 10:00:00", "叫号时间": "2026-10-09 10:20:00",
               "办结时间": "2026-10-09 10:45:00"}
        counts, refused = load(world, "queue", [row])
        assert (counts.accepted, refused) == (1, [])
        stored = world.session.scalars(select(QueueTicket)).one()
        assert (stored.business_type, stored.wait_s, stored.handle_s) == ("corporate", 1200,
                                                                          1500)

    def test_a_resend_changes_nothing_and_a_correction_updates(self, world: World) -> None:
        load(world, "queue", [ticket("A001", "2026-10-09 09:00", 5, 5)])
        again, _ = load(world, "queue", [ticket("A001", "2026-10-09 09:00", 5, 5)])
        fixed, _ = load(world, "queue", [ticket("A001", "2026-10-09 09:00", 6, 5)])
        assert (again.unchanged, fixed.updated) == (1, 1)
        assert count(world, QueueTicket) == 1
        assert world.session.scalars(select(QueueTicket)).one().wait_s == 360

    def test_the_same_number_on_another_day_is_another_ticket(self, world: World) -> None:
        counts, _ = load(world, "queue", [ticket("A001", "2026-10-09 09:00", 5),
                                          ticket("A001", "2026-10-10 09:00", 5)])
        assert counts.accepted == 2

    @pytest.mark.parametrize(("change", "field", "reason"), [
        ({"called_at": "2026-10-09 08:59"}, "called_at", "called before"),
        ({"finished_at": "2026-10-09 09:30"}, "finished_at", "never called"),
        ({"org": "XX"}, "org", "no org has code"),
        ({"issued_at": "yesterday"}, "issued_at", "datetime"),
        ({"ticket_id": ""}, "ticket_id", "Field required"),
    ])
    def test_a_bad_row_is_refused_naming_its_field(self, world: World, change: dict[str, str],
                                                   field: str, reason: str) -> None:
        bad = {**ticket("A009", "2026-10-09 09:00", None), **change}
        if change.get("ticket_id") == "":
            bad.pop("ticket_id")
        counts, refused = load(world, "queue", [ticket("A001", "2026-10-09 09:00", 5), bad])
        assert (counts.accepted, counts.rejected) == (1, 1)
        assert refused[0][:2] == (3, field)
        assert reason.lower() in refused[0][2].lower()

    def test_an_org_outside_the_scope_is_refused(self, world: World) -> None:
        from bankvoc.orgs import service as org_service

        s = world.session
        org_service.create_user(s, username="bj_analyst", display_name="x",
                                org=org_service.get_org_by_code(s, code="BJ"),
                                roles=["analyst"])
        counts, refused = load(world, "queue", [ticket("A1", "2026-10-09 09:00", 5,
                                                       org="SH01")], username="bj_analyst")
        assert counts.rejected == 1
        assert refused[0][1:] == ("org", "org 'SH01' is outside your scope")

    def test_a_handler_may_not_import(self, world: World) -> None:
        with pytest.raises(Forbidden):
            load(world, "queue", [], username="bj_handler")


class TestChannelDays:
    def test_a_day_with_chinese_names(self, world: World) -> None:
        row = {"渠道": "手机银行", "日期": "2026-10-01", "可用率": "99.95%",
               "平均响应时间": "820", "P95响应时间": "2100", "请求量": "120000"}
        counts, refused = load(world, "channel", [row])
        assert (counts.accepted, refused) == (1, [])
        day = world.session.scalars(select(ChannelDay)).one()
        assert (day.channel, day.availability_pct, day.response_p95_ms) == (
            "mobile_app", 99.95, 2100.0)

    @pytest.mark.parametrize(("change", "field"), [
        ({"channel": "fax"}, "channel"),
        ({"availability_pct": "100.5"}, "availability_pct"),
        ({"response_p95_ms": "100"}, "response_p95_ms"),
        ({"day": "2026-02-30"}, "day"),
    ])
    def test_a_bad_day_is_refused_naming_its_field(self, world: World, change: dict[str, str],
                                                   field: str) -> None:
        row = {"channel": "wechat", "day": "2026-10-01", "availability_pct": "99.9",
               "response_avg_ms": "500", **change}
        counts, refused = load(world, "channel", [row])
        assert counts.rejected == 1
        assert refused[0][1] == field


class TestProcesses:
    def test_duration_and_a_later_finish(self, world: World) -> None:
        open_row = {"process_type": "贷款审批", "record_id": 880001, "org": "BJ01",
                    "started_at": "2026-10-01 09:00"}
        load(world, "process", [open_row])
        record = world.session.scalars(select(ProcessRecord)).one()
        assert (record.process_type, record.record_id, record.duration_s) == (
            "loan_approval", "880001", None)
        counts, _ = load(world, "process", [{**open_row, "finished_at": "2026-10-03 15:00"}])
        assert counts.updated == 1
        assert record.duration_s == 54 * 3600
        assert record.finish_date == date(2026, 10, 3)

    def test_finishing_before_the_start_is_refused(self, world: World) -> None:
        _, refused = load(world, "process", [{
            "process_type": "account_opening", "record_id": "K1", "org": "BJ01",
            "started_at": "2026-10-01 09:00", "finished_at": "2026-10-01 08:00"}])
        assert refused == [(2, "finished_at", "finished before it started")]


class TestUsage:
    def test_a_month_of_figures(self, world: World) -> None:
        row = {"机构": "BJ01", "月份": "2026年10月", "手机银行月活": "12000",
               "自助交易笔数": "900", "柜面交易笔数": "300", "智能助手会话数": "500",
               "智能助手解决数": "410"}
        counts, refused = load(world, "usage", [row])
        assert (counts.accepted, refused) == (1, [])
        usage = world.session.scalars(select(DigitalUsage)).one()
        assert (usage.month, usage.app_mau, usage.assistant_resolved) == (
            date(2026, 10, 1), 12000, 410)

    @pytest.mark.parametrize(("row", "field"), [
        ({"org": "BJ01", "month": "2026-13", "app_mau": "1"}, "month"),
        ({"org": "BJ01", "month": "2026-10"}, "app_mau"),
        ({"org": "BJ01", "month": "2026-10", "assistant_sessions": "5",
          "assistant_resolved": "6"}, "assistant_resolved"),
        ({"org": "BJ01", "month": "2026-10", "app_mau": "-3"}, "app_mau"),
    ])
    def test_a_bad_month_is_refused_naming_its_field(self, world: World, row: dict[str, str],
                                                     field: str) -> None:
        counts, refused = load(world, "usage", [row])
        assert counts.rejected == 1
        assert refused[0][1] == field


def test_an_unknown_kind_is_refused(world: World) -> None:
    with pytest.raises(Invalid) as caught:
        imports.import_rows(world.session, actor=world.actor("hq_admin"),
                            kind="tickets",  # type: ignore[arg-type]
                            rows=[], on_reject=lambda *_: None)
    assert caught.value.field == "kind"
