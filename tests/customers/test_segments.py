"""RFM scores and segments, a month's values stored and rescored, customers found by blind index,
and attrition per segment: each figure worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics_service
from bankvoc.core.errors import Forbidden
from bankvoc.core.settings import reset_settings
from bankvoc.customers import segments
from bankvoc.customers.models import Customer, CustomerValue
from bankvoc.customers.segments import SegmentsError, ValueRow
from tests.analytics.conftest import Bank
from tests.conftest import World

OCT = date(2026, 10, 1)


@pytest.fixture
def bank(world: World, session: Session) -> Bank:
    return Bank(world=world, session=session)


def _customers(session: Session, n: int) -> list[int]:
    customers = [Customer(flags=[]) for _ in range(n)]
    session.add_all(customers)
    session.flush()
    return [c.id for c in customers]


def _values(session: Session, month: date) -> dict[int, tuple[int, int, int, str]]:
    return {row.customer_id: (row.r_score, row.f_score, row.m_score, row.segment)
            for row in session.scalars(select(CustomerValue)
                                       .where(CustomerValue.as_of == month))}


class TestQuintileScores:
    def test_distinct_values_score_by_fifths(self) -> None:
        assert segments.quintile_scores([1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5]
        assert segments.quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]

    def test_ties_share_the_score_of_their_middle_whatever_the_order(self) -> None:
        # 10 and 10 stand at places 3-4 of 5: p = (2 + 2/2) / 5 = 0.6, score 1 + ⌊3⌋ = 4
        assert segments.quintile_scores([20, 10, 10, 5, 1]) == [5, 4, 4, 2, 1]
        assert segments.quintile_scores([10, 1, 20, 5, 10]) == [4, 1, 5, 2, 4]

    def test_all_equal_score_three(self) -> None:
        assert segments.quintile_scores([7, 7, 7]) == [3, 3, 3]
        assert segments.quintile_scores([Decimal("1.00")]) == [3]


class TestSegmentMap:
    def test_the_shipped_map_names_every_combination(self) -> None:
        shipped = segments.load_segments()
        assert shipped.segment_of(5, 5, 5) == "important_value"
        assert shipped.segment_of(2, 4, 3) == "important_retain"  # R low, F and M high
        assert shipped.segment_of(1, 1, 1) == "general_win_back"
        assert shipped.label("important_win_back", "zh") == "重要挽留客户"
        assert shipped.label("important_win_back", "en") == "Important win-back"
        assert shipped.label("gold", "en") == "gold"  # an older map's code, shown as it is

    def test_the_bank_s_own_map_set_in_the_environment_is_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        shipped = resources.files("bankvoc.customers").joinpath("segments.yaml").read_text(
            "utf-8")
        own = tmp_path / "segments.yaml"
        own.write_text(shipped.replace("zh: 重要价值客户", "zh: 高价值客户"), "utf-8")
        monkeypatch.setenv("BANKVOC_SEGMENTS_FILE", str(own))
        reset_settings()
        assert segments.load_segments().label("important_value", "zh") == "高价值客户"

    def test_a_score_list_out_of_range_is_refused_with_its_line(self) -> None:
        text = ("version: x\nhigh_from: 3\nsegments:\n"
                "  - {code: a, zh: 甲, en: A, r: high}\n"
                "  - {code: b, zh: 乙, en: B, r: [1, 2, 9]}\n")
        with pytest.raises(SegmentsError) as refused:
            segments.parse_segments(text)
        assert refused.value.message == ("segments.yaml line 5: segments[1].r: a list of "
                                          "scores holds scores 1 to 5")
        assert refused.value.field == "segments"

    def test_scores_no_segment_takes_are_refused(self) -> None:
        text = "version: x\nhigh_from: 4\nsegments:\n  - {code: a, zh: 甲, en: A, m: high}\n"
        with pytest.raises(SegmentsError) as refused:
            segments.parse_segments(text)
        assert "no segment takes R1 F1 M1" in refused.value.message

    def test_a_segment_the_ones_above_shadow_is_refused(self) -> None:
        text = ("version: x\nhigh_from: 3\nsegments:\n  - {code: a, zh: 甲, en: A}\n"
                "  - {code: b, zh: 乙, en: B, r: low}\n")
        with pytest.raises(SegmentsError) as refused:
            segments.parse_segments(text)
        assert refused.value.message.startswith("segments.yaml line 5: segments[1].code: no "
                                                "score reaches this segment")


# Five customers by hand (high_from 3):
# | c  | days | R | freq | F | money  | M | segment            |
# | c1 |    5 | 5 |   20 | 5 | 50,000 | 5 | important_value    |
# | c2 |   10 | 4 |   10 | 4 |    100 | 2 | general_value      |
# | c3 |   30 | 3 |   10 | 4 | 20,000 | 3 | important_value    |
# | c4 |   60 | 2 |    5 | 2 | 30,000 | 4 | important_win_back |
# | c5 |   90 | 1 |    1 | 1 |     10 | 1 | general_win_back   |
FIGURES = [(5, 20, "50000"), (10, 10, "100"), (30, 10, "20000"), (60, 5, "30000"),
           (90, 1, "10")]


def _rows(ids: list[int], figures: list[tuple[int, int, str]]) -> list[ValueRow]:
    return [ValueRow(cid, days, freq, Decimal(money))
            for cid, (days, freq, money) in zip(ids, figures, strict=True)]


class TestStoreMonth:
    def test_scores_the_month_and_names_segments(self, world: World, session: Session) -> None:
        ids = _customers(session, 5)
        report = segments.store_month(session, actor=world.actor("hq_analyst"), month=OCT,
                                      rows=_rows(ids, FIGURES))
        assert (report.stored, report.updated, report.segments_changed) == (5, 0, 5)
        assert _values(session, OCT) == {
            ids[0]: (5, 5, 5, "important_value"), ids[1]: (4, 4, 2, "general_value"),
            ids[2]: (3, 4, 3, "important_value"), ids[3]: (2, 2, 4, "important_win_back"),
            ids[4]: (1, 1, 1, "general_win_back")}
        session.expire_all()
        assert [session.get_one(Customer, cid).segment for cid in ids] == [
            "important_value", "general_value", "important_value", "important_win_back",
            "general_win_back"]

    def test_the_same_rows_again_change_nothing(self, world: World, session: Session) -> None:
        ids = _customers(session, 5)
        actor = world.actor("hq_analyst")
        segments.store_month(session, actor=actor, month=OCT, rows=_rows(ids, FIGURES))
        stamps = sorted(session.scalars(select(CustomerValue.imported_at)))
        again = segments.store_month(session, actor=actor, month=OCT, rows=_rows(ids, FIGURES))
        assert (again.stored, again.updated, again.unchanged, again.rescored,
                again.segments_changed) == (0, 0, 5, 0, 0)
        assert sorted(session.scalars(select(CustomerValue.imported_at))) == stamps

    def test_a_new_customer_rescores_the_month(self, world: World, session: Session) -> None:
        # With c6 (1 day, 100 transactions, 1,000,000) the six score, by 1 + ⌊5(2i+1)/12⌋:
        # R c5 1, c4 2, c3 3, c2 3, c1 4, c6 5; F (10 and 10 tie at p 0.5) c5 1, c4 2,
        # c2 3, c3 3, c1 4, c6 5; M c5 1, c2 2, c3 3, c4 3, c1 4, c6 5.
        ids = _customers(session, 6)
        actor = world.actor("hq_analyst")
        segments.store_month(session, actor=actor, month=OCT, rows=_rows(ids[:5], FIGURES))
        report = segments.store_month(session, actor=actor, month=OCT,
                                      rows=[ValueRow(ids[5], 1, 100, Decimal("1000000"))])
        assert (report.stored, report.rescored) == (1, 4)  # c5 keeps (1, 1, 1)
        assert _values(session, OCT) == {
            ids[0]: (4, 4, 4, "important_value"), ids[1]: (3, 3, 2, "general_value"),
            ids[2]: (3, 3, 3, "important_value"), ids[3]: (2, 2, 3, "important_win_back"),
            ids[4]: (1, 1, 1, "general_win_back"), ids[5]: (5, 5, 5, "important_value")}

    def test_an_earlier_month_does_not_overwrite_the_latest_segment(
            self, world: World, session: Session) -> None:
        ids = _customers(session, 5)
        actor = world.actor("hq_analyst")
        segments.store_month(session, actor=actor, month=OCT, rows=_rows(ids, FIGURES))
        reversed_figures = list(reversed(FIGURES))  # c1 now the weakest
        report = segments.store_month(session, actor=actor, month=date(2026, 9, 1),
                                      rows=_rows(ids, reversed_figures))
        assert report.segments_changed == 0
        session.expire_all()
        assert session.get_one(Customer, ids[0]).segment == "important_value"

    def test_needs_the_right_to_manage_kpis(self, world: World, session: Session) -> None:
        ids = _customers(session, 1)
        with pytest.raises(Forbidden):
            segments.store_month(session, actor=world.actor("bj_handler"), month=OCT,
                                 rows=_rows(ids, FIGURES[:1]))


PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


class TestImportRows:
    def test_finds_known_customers_by_blind_index_and_stores_new_ones_encrypted(
            self, world: World, session: Session) -> None:
        from bankvoc.customers import service as customer_service
        known = customer_service.find_or_create(session, name=None, phone=PHONE,
                                                id_number=None)
        rows: list[tuple[int, dict[str, object]]] = [
                (2, {"手机号": "138-1234-5678", "最近交易距今天数": "3", "交易频次": "12",
                     "交易金额": "1,000.50"}),
                (3, {"身份证号": ID_NUMBER.lower(), "最近交易距今天数": 40, "交易频次": 2,
                     "交易金额": 10, "流失日期": "2026/10/20"}),
                (4, {"phone": "13900000000", "id_number": ID_NUMBER, "recency": "7",
                     "frequency": "3", "monetary": "5"})]
        report = segments.import_rows(session, actor=world.actor("hq_analyst"), rows=rows,
                                      month=OCT)
        assert (report.rows, report.rejected, report.created_customers) == (3, 1, 1)
        # Row 4 names the customer row 3 created (by ID number): the second row is refused.
        assert report.rejects == [(4, "phone", "the same customer as row 3")]
        stored = {v.customer_id: v for v in session.scalars(select(CustomerValue))}
        assert len(stored) == 2
        assert known in stored
        assert stored[known].monetary == Decimal("1000.50")
        new = session.get_one(Customer, next(cid for cid in stored if cid != known))
        assert new.id_number_masked == "110***********002X"
        assert new.id_number_enc
        assert ID_NUMBER not in new.id_number_enc
        assert stored[new.id].attrited_on == date(2026, 10, 20)

    @pytest.mark.parametrize(("values", "field", "reason"), [
        ({"phone": "12345"}, "phone", "is not a mainland mobile (11 digits) or landline number"),
        ({"id_number": "110105194912310021"}, "id_number", "fails the ID number checksum"),
        ({}, "phone", "a phone or an ID number is needed to find the customer"),
        ({"phone": PHONE, "frequency": "-1"}, "frequency", "'-1' is negative"),
        ({"phone": PHONE, "frequency": "2.5"}, "frequency", "'2.5' is not a whole number"),
        ({"phone": PHONE, "monetary": "lots"}, "monetary", "'lots' is not an amount"),
        ({"phone": PHONE, "recency": None}, "recency_days", "is required"),
        ({"phone": PHONE, "流失日期": "soon"}, "attrited_on",
         "'soon' is not a date (YYYY-MM-DD)"),
    ])
    def test_a_bad_row_is_refused_naming_field_and_reason(
            self, world: World, session: Session, values: dict[str, object], field: str,
            reason: str) -> None:
        row = {"recency": "1", "frequency": "1", "monetary": "1", **values}
        report = segments.import_rows(session, actor=world.actor("hq_analyst"),
                                      rows=[(7, row)], month=OCT)
        assert report.rejects == [(7, field, reason)]
        assert session.scalar(select(func.count()).select_from(CustomerValue)) == 0

    def test_without_a_month_each_row_gives_its_own(self, world: World,
                                                    session: Session) -> None:
        rows = [(2, {"phone": PHONE, "r": 1, "f": 1, "m": 1, "月份": "2026-09"}),
                (3, {"phone": PHONE, "r": 1, "f": 1, "m": 1, "月份": "2026年10月"}),
                (4, {"phone": "13900000000", "r": 1, "f": 1, "m": 1})]
        report = segments.import_rows(session, actor=world.actor("hq_analyst"), rows=rows)
        assert [m.month for m in report.months] == [date(2026, 9, 1), OCT]
        assert report.rejects == [(4, "month", "no month: give --month or a month column")]


@pytest.fixture
def october_customers(bank: Bank) -> dict[str, int]:
    """Customers as of October 2026, and their complaints:

    | who | segment            | left       | complaint                   | complainer? |
    | a1  | important_value    | 2026-10-10 | 2026-09-01 at BJ            | yes         |
    | a2  | important_value    | —          | 2026-03-01 at BJ01          | yes         |
    | a3  | important_value    | 2026-10-20 | —                           | no          |
    | a4  | important_value    | —          | a suggestion, 2026-09 at PBC | no         |
    | e1  | important_value    | —          | — (general_value in Sept.)  | no          |
    | b1  | general_win_back   | 2026-10-05 | 2026-10-03 at SH            | yes         |
    | b2  | general_win_back   | —          | 2026-10-25 at SH            | yes         |
    | b3  | general_win_back   | 2026-10-15 | 2026-10-20 at SH (after)    | no          |
    | f1  | general_win_back   | —          | 2025-09-15 at BJ (too old)  | no          |
    Not counted: c1 (left 2026-09-20, before the period), d1 (first known in November).
    """
    names = ["a1", "a2", "a3", "a4", "e1", "b1", "b2", "b3", "f1", "c1", "d1"]
    who = {name: bank.customer().id for name in names}

    def value(name: str, month: date, segment: str, left: date | None = None) -> None:
        bank.session.add(CustomerValue(
            customer_id=who[name], as_of=month, recency_days=1, frequency=1,
            monetary=Decimal(1), r_score=3, f_score=3, m_score=3, segment=segment,
            attrited_on=left))

    for name, left in (("a1", date(2026, 10, 10)), ("a2", None), ("a3", date(2026, 10, 20)),
                       ("a4", None), ("e1", None)):
        value(name, OCT, "important_value", left)
    value("e1", date(2026, 9, 1), "general_value")
    for name, left in (("b1", date(2026, 10, 5)), ("b2", None), ("b3", date(2026, 10, 15)),
                       ("f1", None)):
        value(name, OCT, "general_win_back", left)
    value("c1", OCT, "general_win_back", date(2026, 9, 20))
    value("d1", date(2026, 11, 1), "important_value", date(2026, 10, 12))

    def customer(name: str) -> Customer:
        return bank.session.get_one(Customer, who[name])

    bank.case("BJ", "2026-09-01", customer=customer("a1"))
    bank.case("BJ01", "2026-03-01", customer=customer("a2"))
    bank.case("PBC", "2026-09-09", kind="suggestion", customer=customer("a4"))
    bank.case("SH", "2026-10-03", customer=customer("b1"))
    bank.case("SH", "2026-10-25", customer=customer("b2"))
    bank.case("SH", "2026-10-20", customer=customer("b3"))
    bank.case("BJ", "2025-09-15", customer=customer("f1"))
    bank.session.flush()
    return who


def _figures(row: dict[str, object]) -> tuple[object, ...]:
    return (row["customers"], row["attrited"], row["rate"], row["complainers"],
            row["complainers_rate"], row["others"], row["others_rate"])


class TestAttrition:
    def test_per_segment_for_complainers_and_the_rest(
            self, bank: Bank, october_customers: dict[str, int]) -> None:
        report = segments.attrition(bank.session, actor=bank.world.actor("hq_admin"),
                                    period="2026-10").as_dict()
        rows = {r["segment"]: _figures(r) for r in report["segments"]}
        assert report["whole_bank"] is True
        # important_value: a1, a3 of 5 left; complainers a1, a2 (1 left); others a3, a4, e1
        assert rows["important_value"] == (5, 2, 40.0, 2, 50.0, 3, 33.3333)
        # general_win_back: b1, b3 of 4 left; complainers b1, b2 (1 left); others b3, f1
        assert rows["general_win_back"] == (4, 2, 50.0, 2, 50.0, 2, 50.0)
        assert _figures(report["total"]) == (9, 4, 44.4444, 4, 50.0, 5, 40.0)
        assert [r["label"] for r in report["segments"]] == ["重要价值客户", "一般挽留客户"]

    def test_a_branch_counts_the_customers_with_a_case_in_its_subtree(
            self, bank: Bank, october_customers: dict[str, int]) -> None:
        # BJ's subtree has cases of a1 (BJ), a2 (BJ01) and f1 (BJ).
        report = segments.attrition(bank.session, actor=bank.world.actor("bj_handler"),
                                    period="2026-10", lang="en").as_dict()
        rows = {r["segment"]: _figures(r) for r in report["segments"]}
        assert (report["org"], report["whole_bank"]) == ("BJ", False)
        assert rows == {"important_value": (2, 1, 50.0, 2, 50.0, 0, None),
                        "general_win_back": (1, 0, 0.0, 0, None, 1, 0.0)}

    def test_an_org_outside_the_actor_s_scope_is_refused(
            self, bank: Bank, october_customers: dict[str, int]) -> None:
        with pytest.raises(Forbidden) as refused:
            segments.attrition(bank.session, actor=bank.world.actor("sh_handler"),
                               period="2026-10", org="BJ")
        assert refused.value.field == "org"


class TestKpisBySegment:
    def test_satisfaction_and_complaints_follow_the_imported_segments(
            self, bank: Bank) -> None:
        """Cases rolled up before the import; the import's new segments mark their buckets
        (trigger of migration 0017), and the next refresh cuts by them."""
        strong, weak = bank.customer(), bank.customer()
        for customer, csat in ((strong, 5), (strong, 4), (weak, 1)):
            bank.callback(bank.case("BJ", "2026-10-05", customer=customer,
                                    decided_after_days=2), csat=csat)
        bank.case("SH", "2026-10-08", customer=weak)
        bank.refresh()
        segments.store_month(bank.session, actor=bank.world.actor("hq_analyst"), month=OCT,
                             rows=[ValueRow(strong.id, 1, 50, Decimal(9000)),
                                   ValueRow(weak.id, 300, 1, Decimal(5))])
        bank.refresh()
        actor = bank.world.actor("hq_admin")
        answers = analytics_service.kpi_report(bank.session, actor=actor, kpi="csat",
                                               period="2026-10", by="segment", compare=False)
        # Two customers: the stronger scores 1 + ⌊5 × 1.5/2⌋ = 4 on each, the weaker 2.
        assert answers.source == "rollup:month"
        assert {g.key: (g.figure.numerator, g.figure.denominator) for g in answers.groups} == {
            "important_value": (2.0, 2.0), "general_win_back": (0.0, 1.0)}
        complaints = analytics_service.kpi_report(
            bank.session, actor=actor, kpi="complaints", period="2026-10",
            cut={"segment": "general_win_back"}, compare=False)
        assert complaints.figure.value == 2
