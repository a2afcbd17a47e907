"""`bankvoc people training import`, `people training pass-rate`, `people scorecard` and
`people appraisal` on a fresh database of their own."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from typer.testing import CliRunner

from bankvoc.cli import app

runner = CliRunner()

HEADER = ["session", "topic", "date", "trainer", "org", "categories", "pass_mark", "attendee",
          "score"]
ROWS = [
    ["TR-1", "开场白规范", "2026-10-09", "王老师", "BJ", "greeting;closing", "", "a1", "75"],
    ["TR-1", "开场白规范", "2026-10-09", "王老师", "BJ", "greeting;closing", "", "a2", "95"],
    ["TR-1", "开场白规范", "2026-10-09", "王老师", "BJ", "greeting;closing", "", "a3", "x"],
]



def run(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


def test_training_import_twice_then_the_pass_rate(bank: str, tmp_path: Path) -> None:
    path = tmp_path / "training.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])
    first = run("people", "training", "import", str(path), "--json")
    assert first == {"accepted": 2, "updated": 0, "unchanged": 0, "rejected": 1,
                     "rejects_file": str(tmp_path / "training.rejects.csv")}
    with Path(first["rejects_file"]).open(encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle)) == [["row", "field", "reason"],
                                            ["4", "score", "score: 'x' is not a number"]]
    again = run("people", "training", "import", str(path), "--json")
    assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 2, 1)
    rate = run("people", "training", "pass-rate", "--month", "2026-10", "--json")
    assert (rate["passed"], rate["assessed"], rate["pass_rate"], rate["met"]) == (
        2, 2, 100.0, True)


def test_scorecard_and_appraisal(bank: str, tmp_path: Path) -> None:
    cards = run("people", "scorecard", "--level", "branch", "--month", "2026-10", "--json")
    assert [c["key"] for c in cards["cards"]] == ["BJ", "SH"]
    assert cards["cards"][0]["total"] is None  # a month without data: nothing to score
    out = tmp_path / "appraisal.xlsx"
    appraisal = run("people", "appraisal", "--month", "2026-10", "--xlsx", str(out), "--json")
    assert [b["key"] for b in appraisal["branches"]] == ["BJ", "SH"]
    sheet = load_workbook(out).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["branch", "BJ", "SH"]


def test_a_bad_level_names_the_field(bank: str) -> None:
    result = runner.invoke(app, ["people", "scorecard", "--level", "desk", "--month",
                                 "2026-10"])
    assert result.exit_code == 2
    assert "level" in result.output


def test_training_import_from_a_workbook(bank: str, tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    path = tmp_path / "training.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["TR-9", "风险提示", datetime(2026, 10, 20), "李老师", "SH", "risk_disclosure",
                  80, "s1", 79.5])
    workbook.save(path)
    assert run("people", "training", "import", str(path), "--json")["accepted"] == 1
    rate = run("people", "training", "pass-rate", "--month", "2026-10", "--org", "SH",
               "--json")
    assert (rate["passed"], rate["assessed"], rate["met"]) == (0, 1, False)  # 79.5 < 80
