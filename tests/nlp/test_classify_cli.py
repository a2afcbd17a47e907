"""`bankvoc classify`: exactly one JSON object per input, in order, nothing else on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bankvoc.cli import app

runner = CliRunner()
KEYS = {"product", "category", "product_confidence", "category_confidence", "explanation",
        "severity", "severity_reasons", "sentiment", "pii", "masked_text"}


class TestClassify:
    def test_stdin_gives_one_object_per_line_in_order(self, database: str) -> None:
        lines = ["信用卡年费乱收费", "", "The mortgage on my housing loan is wrong", "网点排队太久"]
        result = runner.invoke(app, ["classify", "-", "--json"], input="\n".join(lines) + "\n")
        assert result.exit_code == 0, result.output
        objects = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(objects) == len(lines)
        assert all(set(o) >= KEYS for o in objects)
        assert [o["product"] for o in objects] == ["credit_card", "other", "mortgage",
                                                   "other"]
        assert objects[3]["category"] == "process_waiting"

    def test_reads_a_column_of_a_file(self, database: str, tmp_path: Path) -> None:
        path = tmp_path / "texts.csv"
        path.write_text("id,内容\n1,手机银行闪退\n2,理财亏损了，说好保本\n", encoding="utf-8")
        result = runner.invoke(app, ["classify", str(path), "--text", "内容", "--json"])
        assert result.exit_code == 0, result.output
        products = [json.loads(line)["product"] for line in result.stdout.splitlines()]
        assert products == ["digital_banking", "wealth"]

    def test_an_unknown_column_lists_the_files_columns(
        self, database: str, tmp_path: Path
    ) -> None:
        path = tmp_path / "texts.csv"
        path.write_text("id,body\n1,x\n", encoding="utf-8")
        result = runner.invoke(app, ["classify", str(path), "--text", "内容"])
        assert result.exit_code == 2
        assert "id, body" in result.stderr
