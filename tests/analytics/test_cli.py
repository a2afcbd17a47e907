"""`bankvoc kpi …` on a fresh database of its own."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from tests.analytics.conftest import Bank
from tests.conftest import build_world

runner = CliRunner()


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture
def stored(database: str) -> str:
    """A Beijing complaint on 5 and 12 October 2026, the first decided on time."""
    engine = build_engine(database)
    with unit_of_work(engine) as session:
        bank = Bank(world=build_world(session), session=session)
        bank.case("BJ", "2026-10-05", decided_after_days=2)
        bank.case("BJ01", "2026-10-12", text_masked="@SUM(A1)")
    engine.dispose()
    return database


class TestShow:
    def test_the_roll_up_catches_up_on_refresh(self, stored: str) -> None:
        before = runner.invoke(app, ["kpi", "show", "complaints", "--period", "2026-10",
                                     "--json"])
        assert before.exit_code == 0, before.output
        assert last_json(before.stdout)["value"] == 0  # not rolled up yet
        refreshed = runner.invoke(app, ["kpi", "refresh", "--json"])
        assert last_json(refreshed.stdout)["marks"] >= 2
        after = runner.invoke(app, ["kpi", "show", "on_time_rate", "--period", "2026-10",
                                    "--by", "org", "--json"])
        body = last_json(after.stdout)
        assert (body["value"], body["source"]) == (100.0, "rollup:month")
        assert [g["label"] for g in body["groups"]] == ["北京分行"]

    def test_the_headline_lists_the_headline_kpis(self, stored: str) -> None:
        runner.invoke(app, ["kpi", "refresh"])
        result = runner.invoke(app, ["kpi", "headline", "--period", "2026-10", "--json"])
        assert result.exit_code == 0, result.output
        kpis = {k["kpi"]: k["value"] for k in last_json(result.stdout)["kpis"]}
        assert kpis["complaints"] == 2

    def test_a_bad_period_exits_2_naming_the_field(self, stored: str) -> None:
        result = runner.invoke(app, ["kpi", "show", "complaints", "--period", "soon"])
        assert result.exit_code == 2
        assert "period" in result.output


class TestExport:
    def test_writes_one_row_per_case_with_formulas_defused(self, stored: str,
                                                            tmp_path: Path) -> None:
        out = tmp_path / "complaints.xlsx"
        result = runner.invoke(app, ["kpi", "export", "complaints", "--period", "2026-10",
                                     "--out", str(out), "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout)["cases"] == 2
        sheet = openpyxl.load_workbook(out).active
        assert sheet is not None
        texts = {row[-1].value: row[-1].data_type for row in sheet.iter_rows(min_row=2)}
        assert texts == {"年费多扣": "s", "@SUM(A1)": "s"}


class TestImportStats:
    def test_good_rows_are_stored_and_bad_ones_reported_with_row_and_field(
            self, stored: str, tmp_path: Path) -> None:
        path = tmp_path / "stats.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([
                ["机构代码", "月份", "客户数", "个人客户数", "网点数"],
                ["BJ", "2026-10", "2000", "1800", "4"],
                ["XX", "2026-10", "10", "", ""],
                ["SH", "October", "10", "", ""],
            ])
        result = runner.invoke(app, ["kpi", "import-stats", str(path), "--json"])
        assert result.exit_code == 0, result.output
        assert (last_json(result.stdout)["stored"], last_json(result.stdout)["rejected"]) == (
            1, 2)
        rejects = (tmp_path / "stats.rejects.csv").read_text("utf-8-sig")
        assert "3,org," in rejects
        assert "4,month," in rejects
        runner.invoke(app, ["kpi", "refresh"])
        shown = runner.invoke(app, ["kpi", "show", "complaints_per_10k_customers", "--period",
                                    "2026-10", "--org", "BJ", "--json"])
        assert last_json(shown.stdout)["value"] == pytest.approx(2 / 2000 * 10_000)


class TestTargets:
    def test_a_target_set_from_the_command_line_is_judged(self, stored: str) -> None:
        runner.invoke(app, ["kpi", "refresh"])
        result = runner.invoke(app, ["kpi", "target", "set", "on_time_rate", "95", "--from",
                                     "2026-01-01", "--json"])
        assert result.exit_code == 0, result.output
        shown = last_json(runner.invoke(app, ["kpi", "show", "on_time_rate", "--period",
                                              "2026-10", "--json"]).stdout)
        assert (shown["target"], shown["met"]) == (95, True)
