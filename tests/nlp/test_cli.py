"""`bankvoc model ...` as people and scripts use it, on a fresh database of its own."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.nlp import model_store
from bankvoc.nlp.cli import model_app
from bankvoc.orgs import service as org_service

runner = CliRunner()

ROWS = [
    ("信用卡年费扣多了", "credit_card"), ("信用卡额度太低", "credit_card"),
    ("信用卡账单有误", "credit_card"), ("credit card fee charged twice", "credit_card"),
    ("房贷利率太高", "mortgage"), ("房贷提前还款手续费", "mortgage"),
    ("按揭贷款审批太慢", "mortgage"), ("mortgage rate went up", "mortgage"),
    ("手机银行登录不上", "mobile_banking"), ("手机银行转账失败", "mobile_banking"),
    ("网银密码锁了", "mobile_banking"), ("the app keeps logging me out", "mobile_banking"),
]


@pytest.fixture
def database(database: str) -> str:
    """The shared fresh database, with no model cached from another one."""
    model_store.clear_cache()
    return database


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """A labelled CSV with one row lacking a label and one lacking a text."""
    path = tmp_path / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "内容", "产品"])
        for number, (text, label) in enumerate(ROWS * 2, 1):
            writer.writerow([number, text, label])
        writer.writerow([98, "没有标签的一行", ""])
        writer.writerow([99, "", "mortgage"])
    return path


def last_json(output: str) -> dict[str, object]:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def train(path: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(model_app, ["train", str(path), "--text", "内容", "--label", "产品",
                                       "--name", "products", "--json", *extra])
    assert result.exit_code == 0, result.output
    return last_json(result.stdout)


class TestTrain:
    def test_stores_a_version_and_ends_with_one_json_line(
        self, database: str, labelled: Path
    ) -> None:
        summary = train(labelled)
        assert (summary["model"], summary["rows"], summary["skipped"], summary["labels"]) == (
            "products@1", 24, 2, 3)
        assert isinstance(summary["cv_macro_f1"], float)
        assert train(labelled)["model"] == "products@2"

    def test_reads_gzipped_json_lines_too(self, database: str, tmp_path: Path) -> None:
        path = tmp_path / "labelled.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            for text, label in ROWS * 2:
                handle.write(json.dumps({"内容": text, "产品": label}, ensure_ascii=False) + "\n")
        assert train(path, "--field", "product")["field"] == "product"

    def test_a_bad_column_names_it_and_lists_the_files_columns(
        self, database: str, labelled: Path
    ) -> None:
        result = runner.invoke(model_app, ["train", str(labelled), "--text", "正文", "--label",
                                           "产品", "--name", "products"])
        assert result.exit_code == 2
        assert ("no column '正文' in labelled.csv; its columns are: 编号, 内容, 产品"
                in result.stderr)
        assert "Traceback" not in result.output

    def test_one_label_only_is_refused(self, database: str, tmp_path: Path) -> None:
        path = tmp_path / "one.csv"
        path.write_text("text,label\n信用卡年费,credit_card\n信用卡额度,credit_card\n",
                        encoding="utf-8")
        result = runner.invoke(model_app, ["train", str(path), "--text", "text", "--label",
                                           "label", "--name", "products"])
        assert result.exit_code == 2
        assert "at least two" in result.stderr

    def test_texts_without_any_word_are_a_clear_error(
        self, database: str, tmp_path: Path
    ) -> None:
        path = tmp_path / "marks.csv"
        path.write_text("text,label\n？？,a\n！！,b\n", encoding="utf-8")
        result = runner.invoke(model_app, ["train", str(path), "--text", "text", "--label",
                                           "label", "--name", "marks"])
        assert result.exit_code == 2
        assert "cannot train on marks.csv: no feature is left" in result.stderr

    def test_a_handler_may_not_train(self, database: str, labelled: Path) -> None:
        with unit_of_work(build_engine(database)) as session:
            root = org_service.get_org_by_code(session, code="HQ")
            org_service.create_user(session, username="li.lei", display_name="李雷", org=root,
                                    roles=["handler"])
        result = runner.invoke(model_app, ["train", str(labelled), "--text", "内容", "--label",
                                           "产品", "--name", "products", "--user", "li.lei"])
        assert result.exit_code == 2
        assert "may not model.manage" in result.stderr


class TestEval:
    def test_json_has_the_scores_speed_per_class_and_confusion(
        self, database: str, labelled: Path
    ) -> None:
        train(labelled)
        result = runner.invoke(model_app, ["eval", str(labelled), "--model", "products@1",
                                           "--text", "内容", "--label", "产品", "--json"])
        assert result.exit_code == 0, result.output
        report = last_json(result.stdout)
        assert {"accuracy", "macro_f1", "docs_per_s", "per_class", "confusion"} <= set(report)
        assert report["model"] == "products@1"
        assert report["accuracy"] == 1.0
        confusion = report["confusion"]
        assert isinstance(confusion, dict)
        assert confusion["labels"] == ["credit_card", "mobile_banking", "mortgage"]

    def test_prints_a_table_and_a_confusion_matrix_for_people(
        self, database: str, labelled: Path
    ) -> None:
        train(labelled)
        result = runner.invoke(model_app, ["eval", str(labelled), "--model", "products",
                                           "--text", "内容", "--label", "产品"])
        assert result.exit_code == 0, result.output
        assert "products@1 on 24 rows (2 skipped): accuracy 1.0000" in result.stdout
        assert "confusion matrix" in result.stdout

    def test_an_unknown_model_is_a_clear_error(self, database: str, labelled: Path) -> None:
        result = runner.invoke(model_app, ["eval", str(labelled), "--model", "nope@1",
                                           "--text", "内容", "--label", "产品"])
        assert result.exit_code == 2
        assert "no model nope@1" in result.stderr


class TestList:
    def test_lists_versions_with_their_active_fields(
        self, database: str, labelled: Path
    ) -> None:
        train(labelled)
        train(labelled)
        runner.invoke(model_app, ["activate", "products@1", "--field", "product"])
        result = runner.invoke(model_app, ["list", "--json"])
        assert result.exit_code == 0, result.output
        models = last_json(result.stdout)["models"]
        assert isinstance(models, list)
        assert [(m["model"], m["active_for"], m["created_by"]) for m in models] == [
            ("products@2", [], "admin"), ("products@1", ["product"], "admin")]

    def test_an_empty_store_says_so(self, database: str) -> None:
        result = runner.invoke(model_app, ["list"])
        assert result.exit_code == 0
        assert "no models stored yet" in result.stdout


class TestActivateAndRollback:
    def test_activate_then_roll_back_to_the_previous_version(
        self, database: str, labelled: Path
    ) -> None:
        train(labelled)
        train(labelled)
        for version in (1, 2):
            result = runner.invoke(model_app, ["activate", f"products@{version}", "--field",
                                               "product"])
            assert result.exit_code == 0, result.output
        assert "product: products@2 is active" in result.stdout
        result = runner.invoke(model_app, ["rollback", "--field", "product", "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout) == {"field": "product", "action": "rollback",
                                            "model": "products@1"}

    def test_rolling_back_with_nothing_before_is_a_clear_error(
        self, database: str, labelled: Path
    ) -> None:
        train(labelled)
        runner.invoke(model_app, ["activate", "products@1", "--field", "product"])
        result = runner.invoke(model_app, ["rollback", "--field", "product"])
        assert result.exit_code == 2
        assert "nothing to roll back to" in result.stderr


def write_csv(path: Path, header: list[str], rows: Sequence[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


MOODS = [("服务很好很满意", "1"), ("非常满意，点赞", "1"), ("态度很好，谢谢", "1"),
         ("办得快，满意", "1"), ("太差了，很失望", "0"), ("非常失望，态度恶劣", "0"),
         ("等了很久，太差", "0"), ("乱收费，差评", "0")] * 3

PAIRS = [("信用卡年费怎么退", "信用卡年费能退吗", "1"), ("房贷利率太高", "房贷的利率太高了", "1"),
         ("手机银行登录不上", "手机银行无法登录", "1"), ("转账没有到账", "转账一直没到账", "1"),
         ("信用卡年费怎么退", "房贷利率太高", "0"), ("手机银行登录不上", "转账没有到账", "0"),
         ("房贷的利率太高了", "信用卡年费能退吗", "0"),
         ("转账一直没到账", "手机银行无法登录", "0")] * 3


class TestOtherKinds:
    """`--kind sentiment` trains the replacement of the lexicon, `--kind pairs` the duplicate
    matcher; both are evaluated, listed and activated like classifiers."""

    def test_a_sentiment_model_trains_evaluates_and_activates_for_sentiment(
        self, database: str, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "moods.csv", ["text", "label"], MOODS)
        result = runner.invoke(model_app, ["train", str(path), "--text", "text", "--label",
                                           "label", "--name", "moods", "--field", "sentiment",
                                           "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert (summary["kind"], summary["field"], summary["rows"]) == ("sentiment", "sentiment",
                                                                        24)
        assert isinstance(summary["cv_accuracy"], float)
        result = runner.invoke(model_app, ["eval", str(path), "--model", "moods", "--text",
                                           "text", "--label", "label", "--json"])
        report = last_json(result.stdout)
        assert report["accuracy"] == 1.0
        assert report["kind"] == "sentiment"
        assert {"macro_f1", "docs_per_s", "per_class", "confusion"} <= report.keys()
        result = runner.invoke(model_app, ["activate", "moods@1", "--field", "sentiment"])
        assert result.exit_code == 0, result.output

    def test_sentiment_labels_that_are_not_obvious_must_be_named(
        self, database: str, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "moods.csv", ["text", "label"],
                         [(t, "好评" if v == "1" else "差评") for t, v in MOODS])
        args = ["train", str(path), "--text", "text", "--label", "label", "--name", "moods",
                "--kind", "sentiment"]
        refused = runner.invoke(model_app, args)
        assert refused.exit_code == 2
        assert "--positive" in refused.output
        accepted = runner.invoke(model_app, [*args, "--positive", "好评", "--json"])
        assert accepted.exit_code == 0, accepted.output

    def test_a_pair_model_trains_on_two_text_columns_and_reports_auc(
        self, database: str, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "pairs.csv", ["a", "b", "same"], PAIRS)
        result = runner.invoke(model_app, ["train", str(path), "--text", "a", "--text-b", "b",
                                           "--label", "same", "--name", "dupes", "--field",
                                           "duplicates", "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert summary["kind"] == "pairs"
        assert isinstance(summary["cv_auc"], float)
        result = runner.invoke(model_app, ["eval", str(path), "--model", "dupes@1", "--text", "a",
                                           "--text-b", "b", "--label", "same", "--json"])
        report = last_json(result.stdout)
        assert report["auc"] == 1.0
        assert {"accuracy", "macro_f1", "docs_per_s", "precision", "recall",
                "threshold"} <= report.keys()

    def test_a_pair_model_without_the_second_column_is_a_clear_error(
        self, database: str, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "pairs.csv", ["a", "b", "same"], PAIRS)
        result = runner.invoke(model_app, ["train", str(path), "--text", "a", "--label", "same",
                                           "--name", "dupes", "--kind", "pairs"])
        assert result.exit_code == 2
        assert "--text-b" in result.output

    def test_an_unknown_kind_is_refused(self, database: str, labelled: Path) -> None:
        result = runner.invoke(model_app, ["train", str(labelled), "--text", "内容", "--label",
                                           "产品", "--name", "x", "--kind", "magic"])
        assert result.exit_code == 2
        assert "--kind" in result.output
