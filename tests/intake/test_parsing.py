from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from bankvoc.intake.parsing import ParseError, clean_text, parse_amount, parse_datetime


class TestParseDatetime:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("2026-11-01 09:30:00", datetime(2026, 11, 1, 9, 30)),
            ("2026/11/01 09:30", datetime(2026, 11, 1, 9, 30)),
            ("2026-11-01", datetime(2026, 11, 1)),
            ("2026年11月1日 9:30", datetime(2026, 11, 1, 9, 30)),
            ("20261101093000", datetime(2026, 11, 1, 9, 30)),
            ("2026-11-01T09:30:00+00:00", datetime.fromisoformat("2026-11-01T09:30:00+00:00")),
        ],
    )
    def test_reads_common_forms(self, raw: str, expected: datetime) -> None:
        assert parse_datetime(raw) == expected

    def test_reads_excel_serial_numbers(self) -> None:
        assert parse_datetime(46327.5) == datetime(2026, 11, 1, 12, 0)

    def test_keeps_spreadsheet_dates(self) -> None:
        assert parse_datetime(date(2026, 11, 1)) == datetime(2026, 11, 1)

    @pytest.mark.parametrize("raw", ["2026-02-30", "2026-02-30 10:00", "2026年2月30日"])
    def test_refuses_impossible_dates(self, raw: str) -> None:
        with pytest.raises(ParseError, match="not a real date"):
            parse_datetime(raw)

    @pytest.mark.parametrize("raw", ["yesterday", "", "12", 5])
    def test_refuses_what_is_not_a_date(self, raw: object) -> None:
        with pytest.raises(ParseError):
            parse_datetime(raw)


class TestParseAmount:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("1,234.50", Decimal("1234.50")),
            ("¥1234.5", Decimal("1234.50")),
            ("1234.5元", Decimal("1234.50")),
            ("1.5万", Decimal("15000.00")),
            (200, Decimal("200.00")),
            (12.3, Decimal("12.30")),
            ("RMB 88", Decimal("88.00")),
        ],
    )
    def test_reads_money_as_decimal(self, raw: object, expected: Decimal) -> None:
        assert parse_amount(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("abc", "not an amount"),
            ("-5", "negative"),
            ("1.234", "two decimal places"),
            ("1e30", "not an amount"),
            (True, "expected an amount"),
        ],
    )
    def test_refuses_malformed_amounts(self, raw: object, reason: str) -> None:
        with pytest.raises(ParseError, match=reason):
            parse_amount(raw)


class TestCleanText:
    def test_whole_floats_from_spreadsheets_lose_their_decimal_point(self) -> None:
        assert clean_text(1001.0) == "1001"

    def test_none_is_empty(self) -> None:
        assert clean_text(None) == ""
