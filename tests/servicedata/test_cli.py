"""`bankvoc servicedata import` and `bankvoc servicedata trend` on a fresh database of their
own: a queue-system export with Chinese headers and a bad row, imported twice; a usage
workbook; the trend of a metric as JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from typer.testing import CliRunner

from bankvoc.cli import app

runner = CliRunner()

HEADER = ["网点代码", "排队号", "业务类型", "取号时间", "叫号时间", "办结时间"]
ROWS = [
    ["BJ01", "A001", "现金业务", "2026-09-10 09:00", "2026-09-10 09:04", "2026-09-10 09:09"],
    ["BJ01", "A002", "现金业务", "2026-09-10 09:01", "2026-09-10 09:07", "2026-09-10 09:10"],
    ["BJ01", "A001", "现金业务", "2026-10-10 09:00", "2026-10-10 09:20", "2026-10-10 09:25"],
    ["BJ01", "A002", "现金业务", "2026-10-10 09:00", "2026-10-10 08:50", ""],  # called early
]



def run(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


def test_import_twice_then_trend(bank: str, tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])
    first = run("servicedata", "import", "queue", str(path), "--json")
    assert first == {"kind": "queue", "accepted": 3, "updated": 0, "unchanged": 0,
                     "rejected": 1, "rejects_file": str(tmp_path / "tickets.rejects.csv")}
    with Path(first["rejects_file"]).open(encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle)) == [["row", "field", "reason"],
                                            ["5", "called_at",
                                             "called before the ticket was issued"]]
    again = run("servicedata", "import", "queue", str(path), "--json")
    assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 3, 1)

    trend = run("servicedata", "trend", "queue_wait_avg", "--org", "BJ", "--months", "2",
                "--json")
    assert (trend["metric"], trend["org"], trend["unit"]) == ("queue_wait_avg", "BJ", "minutes")
    assert (trend["from"], trend["to"]) == ("2026-09", "2026-10")
    cash = next(s for s in trend["series"] if s["group"] == "cash")
    # September: waits 4 and 6 min → 5; October: 20 min, over the 10-minute target
    assert [m["value"] for m in cash["months"]] == [5.0, 20.0]
    assert (cash["target"], cash["met"], cash["change"]) == (10.0, False, 15.0)


def test_a_usage_workbook(bank: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["机构", "月份", "手机银行月活", "自助交易笔数", "柜面交易笔数"])
    sheet.append(["BJ01", "2026-10", 1200, 750, 250])
    sheet.append(["SH01", "2026-13", 900, 1, 1])
    path = tmp_path / "usage.xlsx"
    book.save(path)
    summary = run("servicedata", "import", "usage", str(path), "--json")
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    trend = run("servicedata", "trend", "self_service_share", "--months", "1", "--json")
    assert trend["series"][0]["latest"] == 75.0  # 750 / (750 + 250)


def test_bad_arguments_are_named(bank: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["servicedata", "import", "tickets", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "KIND" in result.output
    result = runner.invoke(app, ["servicedata", "trend", "wait"])
    assert result.exit_code == 2
    assert "METRIC" in result.output
