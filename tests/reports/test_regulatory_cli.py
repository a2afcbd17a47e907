"""`bankvoc report regulatory …` on a fresh database of its own."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from tests.analytics.conftest import Bank
from tests.conftest import build_world
from tests.reports.test_regulatory import plant

runner = CliRunner()


@pytest.fixture
def planted_db(database: str) -> str:
    engine = build_engine(database)
    with unit_of_work(engine) as session:
        plant(Bank(world=build_world(session), session=session))
    engine.dispose()
    return database


def last_json(output: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return parsed


class TestJrt:
    def test_writes_the_workbook_and_ends_with_json(self, planted_db: str,
                                                    tmp_path: Path) -> None:
        out = tmp_path / "q3.xlsx"
        result = runner.invoke(app, ["report", "regulatory", "jrt", "--period", "2026-Q3",
                                     "--out", str(out), "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert (summary["complaints"], summary["file"], summary["period"]) == (6, str(out),
                                                                               "2026-Q3")
        assert summary["dimensions"]["business"]["by_org"] == {"BJ": 2, "PBC": 0, "SH": 3,
                                                               "HQ": 1}
        assert "机构 Orgs" in load_workbook(io.BytesIO(out.read_bytes())).sheetnames

    def test_a_branch_user_gets_its_branch_and_may_not_ask_for_another(
        self, planted_db: str, tmp_path: Path
    ) -> None:
        out = tmp_path / "bj.xlsx"
        own = runner.invoke(app, ["report", "regulatory", "jrt", "--period", "2026-Q3",
                                  "--user", "bj_handler", "--out", str(out), "--json"])
        assert (own.exit_code, last_json(own.stdout)["complaints"]) == (0, 2)
        other = runner.invoke(app, ["report", "regulatory", "jrt", "--period", "2026-Q3",
                                    "--user", "bj_handler", "--org", "SH", "--out",
                                    str(tmp_path / "sh.xlsx")])
        assert other.exit_code == 2
        assert "outside your organisation (org)" in other.stderr
        assert not (tmp_path / "sh.xlsx").exists()

    def test_a_bad_period_is_a_clear_error(self, planted_db: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["report", "regulatory", "jrt", "--period", "Q3",
                                     "--out", str(tmp_path / "x.xlsx")])
        assert result.exit_code == 2
        assert "(period)" in result.stderr
        assert "Traceback" not in result.output


class TestDisclosure:
    def test_writes_html_and_xlsx(self, planted_db: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["report", "regulatory", "disclosure", "--year", "2026",
                                     "--format", "html,xlsx", "--out", str(tmp_path),
                                     "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert summary["complaints"] == 8
        assert [Path(f).name for f in summary["files"]] == [
            "complaint-disclosure-HQ-2026.html", "complaint-disclosure-HQ-2026.xlsx"]
        assert "年度消费投诉情况" in Path(summary["files"][0]).read_text("utf-8")

    def test_an_unknown_format_is_refused(self, planted_db: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["report", "regulatory", "disclosure", "--year", "2026",
                                     "--format", "pdf", "--out", str(tmp_path)])
        assert result.exit_code == 2
        assert "--format: pdf" in result.stderr


class TestSelfCheck:
    def test_ends_with_the_items_as_json(self, planted_db: str) -> None:
        result = runner.invoke(app, ["report", "regulatory", "self-check", "--year", "2026",
                                     "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert {i["code"]: i["status"] for i in summary["items"]}["csat"] == "attention"
        assert "regulator_on_time_rate" not in summary["attention"]

    def test_prints_a_line_per_item(self, planted_db: str) -> None:
        result = runner.invoke(app, ["report", "regulatory", "self-check", "--year", "2026"])
        assert result.exit_code == 0, result.output
        assert "attention 满意度 / Satisfaction (CSAT): 50.00 (min 80)" in result.stdout
