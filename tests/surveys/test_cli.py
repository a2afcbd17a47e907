"""`bankvoc surveys import` on a fresh database of its own."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from tests.conftest import build_world

runner = CliRunner()


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["问卷编号", "机构", "渠道", "触点", "答卷时间", "满意度",
                                       "推荐度", "是否解决", "意见"], *rows])
    return path


class TestImport:
    def test_stores_good_rows_once_and_reports_the_bad_ones(
        self, database: str, tmp_path: Path
    ) -> None:
        engine = build_engine(database)
        with unit_of_work(engine) as session:
            build_world(session)
        engine.dispose()
        path = write(tmp_path / "answers.csv", [
            ["Q1", "BJ01", "网点", "branch_visit", "2026-10-01 10:00", "5", "9", "是", "很好"],
            ["Q2", "SH01", "branch", "branch_visit", "2026-10-01 11:00", "9", "", "", ""],
            ["Q3", "XX", "branch", "branch_visit", "2026-10-01 11:00", "3", "", "否", ""],
        ])
        result = runner.invoke(app, ["surveys", "import", str(path), "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert (summary["stored"], summary["rejected"]) == (1, 2)
        rejects = (tmp_path / "answers.rejects.csv").read_text("utf-8-sig")
        assert "3,csat," in rejects
        assert "4,org,no org with code 'XX'" in rejects
        again = runner.invoke(app, ["surveys", "import", str(path), "--json"])
        assert json.loads(again.stdout.strip().splitlines()[-1])["unchanged"] == 1


class TestSchedule:
    def test_runs_the_scheduling_job_once(self, database: str) -> None:
        result = runner.invoke(app, ["callbacks", "schedule", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scheduled": 0,
                                                                      "skipped": 0}

    def test_looks_further_back_when_asked(self, database: str) -> None:
        result = runner.invoke(app, ["callbacks", "schedule", "--since", "2026-01-01",
                                     "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"scheduled": 0,
                                                                      "skipped": 0}
