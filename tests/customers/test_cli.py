"""`bankvoc customers import-value` and `customers attrition` on a fresh database of their own."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import func, select
from typer.testing import CliRunner

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.customers.cli import customers_app
from bankvoc.customers.models import Customer, CustomerValue

runner = CliRunner()


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])



def _counts(database: str) -> tuple[int, int, list[str | None]]:
    engine = build_engine(database)
    with unit_of_work(engine) as session:
        values = session.scalar(select(func.count()).select_from(CustomerValue)) or 0
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
        segments = sorted(s or "" for s in session.scalars(select(Customer.segment)))
    engine.dispose()
    return values, customers, list(segments)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["XX银行客户价值数据 2026年10月"])  # a title row above the header
        writer.writerow(["手机号", "身份证号", "最近交易距今天数", "交易频次", "交易金额",
                         "流失日期"])
        writer.writerows(rows)


ROWS = [
    ["13800000001", "", "5", "20", "50000", ""],            # row 3
    ["13800000002", "", "10", "10", "100", ""],             # row 4
    ["", "11010519491231002X", "30", "10", "20000", ""],    # row 5
    ["13800000004", "", "60", "5", "30000", "2026-10-18"],  # row 6
    ["13800000005", "", "90", "1", "10", ""],               # row 7
    ["13800000006", "", "-1", "1", "10", ""],               # row 8: negative recency
    ["", "110105194912310021", "1", "1", "1", ""],          # row 9: bad checksum
    ["138 0000 0001", "", "1", "1", "1", ""],               # row 10: row 3's customer again
    ["", "", "1", "1", "1", ""],                            # row 11: nobody named
    ["13800000007", "", "1", "1", "", ""],                  # row 12: no monetary value
]


class TestImportValue:
    def test_stores_good_rows_and_reports_bad_ones_by_row_and_field(
            self, bank: str, tmp_path: Path) -> None:
        path = tmp_path / "value.csv"
        _write_csv(path, ROWS)
        result = runner.invoke(customers_app, ["import-value", str(path), "--month", "2026-10",
                                               "--user", "hq_analyst", "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert (summary["rows"], summary["stored"], summary["rejected"],
                summary["created_customers"]) == (10, 5, 5, 5)
        assert summary["months"][0]["by_segment"] == {
            "general_value": 1, "general_win_back": 1, "important_value": 2,
            "important_win_back": 1}
        assert summary["rows_per_second"] > 0
        with Path(summary["rejects_file"]).open(encoding="utf-8-sig") as handle:
            rejects = list(csv.reader(handle))
        assert rejects == [
            ["row", "field", "reason"],
            ["8", "recency_days", "'-1' is negative"],
            ["9", "id_number", "fails the ID number checksum"],
            ["10", "phone", "the same customer as row 3"],
            ["11", "phone", "a phone or an ID number is needed to find the customer"],
            ["12", "monetary", "is required"]]
        text = Path(summary["rejects_file"]).read_text(encoding="utf-8-sig")
        assert "110105194912310021" not in text
        assert "1380000" not in text

    def test_running_the_same_file_again_changes_nothing(self, bank: str,
                                                         tmp_path: Path) -> None:
        path = tmp_path / "value.csv"
        _write_csv(path, ROWS)
        args = ["import-value", str(path), "--month", "2026-10", "--user", "hq_analyst",
                "--json"]
        first = runner.invoke(customers_app, args)
        assert first.exit_code == 0, first.output
        before = _counts(bank)
        again = runner.invoke(customers_app, args)
        summary = last_json(again.stdout)
        assert (summary["stored"], summary["updated"], summary["unchanged"],
                summary["rescored"], summary["segments_changed"], summary["created_customers"]
                ) == (0, 0, 5, 0, 0, 0)
        assert _counts(bank) == before
        assert before[:2] == (5, 5)

    def test_an_xlsx_with_english_headers_and_a_month_column(self, bank: str,
                                                             tmp_path: Path) -> None:
        path = tmp_path / "value.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["Phone", "Recency days", "Frequency", "Monetary", "Attrited on",
                      "Month"])
        sheet.append(["13800000001", 3, 4, 1200.5, None, "2026-11"])
        sheet.append(["13800000002", 9, 1, 10, None, "2026-11"])
        book.save(path)
        result = runner.invoke(customers_app, ["import-value", str(path), "--user",
                                               "hq_analyst", "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert (summary["stored"], summary["rejected"], summary["rejects_file"]) == (2, 0, None)
        assert summary["months"][0]["month"] == "2026-11"

    def test_a_bad_month_option_exits_2_naming_the_field(self, bank: str,
                                                         tmp_path: Path) -> None:
        path = tmp_path / "value.csv"
        _write_csv(path, ROWS[:1])
        result = runner.invoke(customers_app, ["import-value", str(path), "--month", "soon"])
        assert result.exit_code == 2
        assert "(month)" in result.output

    def test_a_user_without_the_right_is_refused(self, bank: str, tmp_path: Path) -> None:
        path = tmp_path / "value.csv"
        _write_csv(path, ROWS[:1])
        result = runner.invoke(customers_app, ["import-value", str(path), "--month", "2026-10",
                                               "--user", "bj_handler"])
        assert result.exit_code == 2
        assert _counts(bank)[:2] == (0, 0)


class TestAttritionCommand:
    def test_prints_the_segments_as_json(self, bank: str, tmp_path: Path) -> None:
        path = tmp_path / "value.csv"
        _write_csv(path, ROWS[:5])
        runner.invoke(customers_app, ["import-value", str(path), "--month", "2026-10",
                                      "--user", "hq_analyst"])
        result = runner.invoke(customers_app, ["attrition", "--period", "2026-10",
                                               "--user", "hq_admin", "--json"])
        assert result.exit_code == 0, result.output
        body = last_json(result.stdout)
        # Row 6's customer (important_win_back) left on 18 October: 1 of 5.
        assert (body["total"]["customers"], body["total"]["attrited"]) == (5, 1)
        assert {r["segment"]: r["rate"] for r in body["segments"]}["important_win_back"] == 100.0
