"""`bankvoc qa inspect`: JSON Lines, one object per interaction in input order, nothing else on
stdout; refused lines in their place; gzip and stdin; the worker pool keeps the order."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import cast

import orjson
import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.config import service as config_service
from bankvoc.contact import service
from bankvoc.core import configstore
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.contact.conftest import CLEAN, record

runner = CliRunner()


def line(turns: list[tuple[str, float, float, str]] = CLEAN, **fields: object) -> str:
    return json.dumps(record(turns, **fields), ensure_ascii=False)


def rude(id_: str) -> str:
    turns = list(CLEAN)
    turns[0] = ("agent", 0.0, 6.0, "喂，说吧，什么问题。")
    return line(turns, id=id_)


GOOD_AND_BAD = "\n".join([
    line(id="c1"),
    rude("c2"),
    "",  # blank lines are skipped
    '{"id": "c3", "agent": "A1", "started_at": "2026-03-02T01:00:00Z", "turns": '
    '[{"speaker": "robot", "start_ms": 0, "end_ms": 10, "text": "x"}]}',
    "{not json",
    line(id="c5"),
]) + "\n"


def objects(stdout: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in stdout.splitlines()]


class TestInspectJson:
    def test_one_object_per_interaction_in_order(self, tmp_path: Path) -> None:
        path = tmp_path / "calls.jsonl"
        path.write_text(GOOD_AND_BAD, encoding="utf-8")
        result = runner.invoke(app, ["qa", "inspect", str(path), "--json"])
        assert result.exit_code == 0, result.output
        out = objects(result.stdout)
        assert [o["id"] for o in out] == ["c1", "c2", "c3", None, "c5"]
        assert out[0] == {"id": "c1", "score": 100, "hits": []}
        assert out[1] == {"id": "c2", "score": 95, "hits": [
            {"category": "greeting", "rule": "greeting_first_turn", "turn": 0,
             "evidence": "喂，说吧，什么问题。"}]}

    def test_refused_lines_name_line_field_and_reason(self, tmp_path: Path) -> None:
        path = tmp_path / "calls.jsonl"
        path.write_text(GOOD_AND_BAD, encoding="utf-8")
        result = runner.invoke(app, ["qa", "inspect", str(path), "--json"])
        out = objects(result.stdout)
        assert out[2] == {"id": "c3", "line": 4, "error": {
            "field": "turns[0].speaker", "reason": "Input should be 'agent' or 'customer'"}}
        assert out[3]["line"] == 5
        assert out[3]["error"]["field"] is None  # type: ignore[index]
        assert str(out[3]["error"]["reason"]).startswith("not valid JSON")  # type: ignore[index]
        assert "refused: line 4 (c3): turns[0].speaker" in result.stderr
        assert "3 inspected, 2 refused" in result.stderr

    def test_gzipped_file(self, tmp_path: Path) -> None:
        path = tmp_path / "calls.data"  # told by its bytes, not its name
        path.write_bytes(gzip.compress(GOOD_AND_BAD.encode()))
        result = runner.invoke(app, ["qa", "inspect", str(path), "--json"])
        assert [o["id"] for o in objects(result.stdout)] == ["c1", "c2", "c3", None, "c5"]

    @pytest.mark.parametrize("zipped", [False, True])
    def test_stdin(self, zipped: bool) -> None:
        data = (rude("s1") + "\n" + line(id="s2") + "\n").encode()
        result = runner.invoke(app, ["qa", "inspect", "-", "--json"],
                               input=gzip.compress(data) if zipped else data)
        assert result.exit_code == 0, result.output
        assert [(o["id"], o["score"]) for o in objects(result.stdout)] == [("s1", 95),
                                                                           ("s2", 100)]

    def test_own_rules(self, tmp_path: Path) -> None:
        rules = tmp_path / "r.yaml"
        rules.write_text("version: 7\nrules:\n  - {id: rude, category: forbidden_phrase, "
                         "check: forbidden, weight: 30, match: {phrases: [说吧]}}\n",
                         encoding="utf-8")
        data = rude("r1") + "\n"
        result = runner.invoke(app, ["qa", "inspect", "-", "--json", "--rules", str(rules)],
                               input=data)
        assert objects(result.stdout) == [{"id": "r1", "score": 70, "hits": [
            {"category": "forbidden_phrase", "rule": "rude", "turn": 0, "evidence": "说吧"}]}]

    def test_a_bad_rules_file_is_refused_with_its_lines(self, tmp_path: Path) -> None:
        rules = tmp_path / "r.yaml"
        rules.write_text("version: 0\nrules:\n  - {id: x, category: nope, check: silence, "
                         "weight: 1}\n", encoding="utf-8")
        result = runner.invoke(app, ["qa", "inspect", "-", "--rules", str(rules)], input="")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert f"{rules} line 1: version:" in result.stderr
        assert f"{rules} line 3: rules[0].category:" in result.stderr


class TestInspectVersionInForce:
    @pytest.fixture(autouse=True)
    def _fresh_view(self) -> Iterator[None]:
        configstore.reset()
        yield
        configstore.reset()

    def test_an_activated_version_changes_what_inspect_reports(self, database: str) -> None:
        data = line(id="c1") + "\n"
        before = runner.invoke(app, ["qa", "inspect", "-", "--json"], input=data)
        assert before.exit_code == 0, before.output
        assert objects(before.stdout)[0]["hits"] == []
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                admin = org_service.actor_for(org_service.get_user(session, username="admin"))
                shipped = config_service.get_version(session, actor=admin, kind="qa_rules",
                                                     version=0).content
                assert shipped.count("phrases: [不归我管") == 1
                made = config_service.save_version(
                    session, actor=admin, kind="qa_rules", note="test",
                    content=shipped.replace("phrases: [不归我管", "phrases: [生活愉快, 不归我管"))
                config_service.activate(session, actor=admin, kind="qa_rules",
                                        version=made.version)
        finally:
            engine.dispose()
        configstore.invalidate()
        after = runner.invoke(app, ["qa", "inspect", "-", "--json"], input=data)
        assert after.exit_code == 0, after.output
        [found] = objects(after.stdout)
        assert set(found) == {"id", "score", "hits"}
        hits = cast(list[dict[str, object]], found["hits"])
        assert [(h["rule"], h["evidence"]) for h in hits] == [
            ("forbidden_phrases", "生活愉快")]
        # An explicit --rules file still wins over the version in force.
        shipped_file = Path(str(resources.files("bankvoc.contact").joinpath("qa_rules.yaml")))
        explicit = runner.invoke(app, ["qa", "inspect", "-", "--json", "--rules",
                                       str(shipped_file)], input=data)
        assert objects(explicit.stdout)[0]["hits"] == []


class TestInspectTable:
    def test_readable(self) -> None:
        result = runner.invoke(app, ["qa", "inspect", "-"], input=rude("t1") + "\n{}\n")
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "t1  score 95  1 hit",
            "    turn   0  greeting         greeting_first_turn              喂，说吧，什么问题。",
            "line 2  refused: Field required"]


class TestWorkerPool:
    def test_chunks_come_back_in_order(self) -> None:
        lines = [(i + 1, (rude(f"p{i}") if i % 3 else line(id=f"p{i}")).encode())
                 for i in range(40)]
        out = [orjson.loads(o.json) for o in
               service.inspect_lines(iter(lines), service.load_ruleset(), workers=2, chunk=4)]
        assert [(o["id"], o["score"]) for o in out] == [
            (f"p{i}", 95 if i % 3 else 100) for i in range(40)]
