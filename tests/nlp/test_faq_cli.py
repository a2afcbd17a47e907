"""`bankvoc faq ...` as people and scripts use it, on a fresh database of its own."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.nlp import faq_service
from bankvoc.nlp.faq_cli import faq_app

runner = CliRunner()

HEADER = ["标准问题", "答案", "类别", "相似问题"]
ROWS = [
    ["信用卡年费怎么收取", "普卡首年免年费。", "信用卡", "信用卡年费多少钱"],
    ["信用卡年费怎么收取", "", "", "年费能不能免"],
    ["手机银行登录不上怎么办", "请更新到最新版本。", "手机银行", "手机银行打不开"],
    ["如何挂失银行卡", "请拨打客服热线挂失。", "银行卡", "银行卡丢了怎么办"],
    ["没有答案的问题", "", "", ""],
]


@pytest.fixture
def database(database: str) -> Iterator[str]:
    """The shared fresh database, with no FAQ index cached from another one."""
    faq_service.clear_cache()
    yield database
    faq_service.clear_cache()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "faq.csv", HEADER, ROWS)


def last_json(output: str) -> dict[str, object]:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def run_import(*args: str) -> dict[str, object]:
    result = runner.invoke(faq_app, ["import", *args, "--json"])
    assert result.exit_code == 0, result.output
    return last_json(result.stdout)


class TestImport:
    def test_reads_the_chinese_default_columns_and_is_idempotent(
        self, database: str, faq_file: Path
    ) -> None:
        first = run_import(str(faq_file))
        assert (first["added"], first["updated"], first["unchanged"]) == (3, 0, 0)
        assert first["rejected"] == [
            {"row": 6, "field": "answer", "reason": "no row gives this question an answer"}]
        second = run_import(str(faq_file))
        assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 3)

    def test_takes_named_columns(self, database: str, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "kb.csv", ["Q", "A"],
                         [["How do I reset my PIN?", "At an ATM."]])
        summary = run_import(str(path), "--question", "Q", "--answer", "A")
        assert summary["added"] == 1

    def test_a_missing_column_is_an_error_naming_the_option(
        self, database: str, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "kb.csv", ["Q", "A"], [["q", "a"]])
        result = runner.invoke(faq_app, ["import", str(path)])
        assert result.exit_code == 2
        assert "--question" in result.output

    def test_prints_a_summary_for_people(self, database: str, faq_file: Path) -> None:
        result = runner.invoke(faq_app, ["import", str(faq_file)])
        assert result.exit_code == 0, result.output
        assert "3 added, 0 updated, 0 unchanged, 1 rejected" in result.stdout


class TestSuggest:
    def test_suggests_the_matching_question_with_its_answer(
        self, database: str, faq_file: Path
    ) -> None:
        run_import(str(faq_file))
        result = runner.invoke(faq_app, ["suggest", "我的银行卡丢了", "--k", "2", "--json"])
        assert result.exit_code == 0, result.output
        suggestions = last_json(result.stdout)["suggestions"]
        assert isinstance(suggestions, list)
        assert len(suggestions) <= 2
        assert suggestions[0]["question"] == "如何挂失银行卡"
        assert suggestions[0]["answer"] == "请拨打客服热线挂失。"

    def test_an_unknown_user_is_an_error_not_a_trace(self, database: str) -> None:
        result = runner.invoke(faq_app, ["suggest", "年费", "--user", "nobody"])
        assert result.exit_code == 2
