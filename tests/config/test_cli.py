"""`bankvoc config …` on a database of its own (commands commit for real); and a second process
(a fresh view, another engine) picking up what the first activated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.config.kinds import KINDS
from bankvoc.core import configstore
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.nlp.taxonomy import load_taxonomy

runner = CliRunner()
STAR = "keywords: [星球卡, 信用卡, 分期"


def last_json(output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return data


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def star_file(tmp_path: Path) -> Path:
    _, text, _ = invoke("config", "show", "taxonomy")
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text.replace("keywords: [信用卡, 分期", STAR), encoding="utf-8")
    return path


def credit_card_words() -> list[str]:
    term = load_taxonomy().product("credit_card")
    assert term is not None
    return term.keywords


class TestConfigCommands:
    def test_list_shows_every_kind_with_the_file_in_force(self, database: str) -> None:
        code, out, _ = invoke("config", "list", "--json")
        assert code == 0
        kinds = {k["kind"]: k for k in last_json(out)["kinds"]}
        assert set(kinds) == set(KINDS)
        assert kinds["taxonomy"]["active"] == 0

    def test_import_activate_diff_and_rollback(self, database: str, tmp_path: Path) -> None:
        path = star_file(tmp_path)
        code, out, _ = invoke("config", "import", "taxonomy", str(path), "--note", "星球卡",
                              "--json")
        assert (code, last_json(out)["version"], last_json(out)["active"]) == (0, 1, False)
        code, out, _ = invoke("config", "diff", "taxonomy", "0", "1", "--json")
        diff = last_json(out)
        assert code == 0
        assert diff["changed"]
        assert any(line.startswith("+") and "星球卡" in line for line in diff["diff"])
        code, out, _ = invoke("config", "activate", "taxonomy", "1", "--note", "go", "--json")
        assert (code, last_json(out)["previous"]) == (0, 0)
        code, out, _ = invoke("config", "show", "taxonomy", "--json")
        assert (last_json(out)["version"], last_json(out)["active"]) == (1, True)
        code, out, _ = invoke("config", "rollback", "taxonomy", "--json")
        assert (code, last_json(out)["version"], last_json(out)["action"]) == (0, 0, "rollback")
        _, out, _ = invoke("config", "list", "--json")
        assert {k["kind"]: k["active"] for k in last_json(out)["kinds"]}["taxonomy"] == 0

    def test_a_bad_file_is_refused_with_each_problem_s_line(self, database: str,
                                                            tmp_path: Path) -> None:
        path = tmp_path / "workflow.yaml"
        path.write_text("version: x\nauthority_limits: {intern: 5}\nrouting:\n"
                        "  - {when: {severity: [huge]}, queue: HQ}\n", encoding="utf-8")
        code, out, err = invoke("config", "import", "workflow", str(path), "--note", "n",
                                "--json")
        assert code == 2
        problems = last_json(out)["problems"]
        assert [p["line"] for p in problems] == [2, 4]
        assert "'huge' is not a severity" in problems[1]["reason"]
        assert "error:" in err
        _, out, _ = invoke("config", "list", "--json")
        assert {k["kind"]: k["versions"] for k in last_json(out)["kinds"]}["workflow"] == 0

    def test_an_unknown_kind_fails_cleanly(self, database: str) -> None:
        code, _, err = invoke("config", "show", "horoscope")
        assert code == 2
        assert "no kind of configuration 'horoscope'" in err


class TestAnotherProcess:
    def test_picks_up_an_activation_at_its_next_unit_of_work(self, database: str,
                                                             tmp_path: Path) -> None:
        path = star_file(tmp_path)
        configstore.reset()
        other = build_engine(database)  # the other process's own engine and pool
        try:
            with unit_of_work(other):
                assert "星球卡" not in credit_card_words()
            seen = configstore.current()
            assert invoke("config", "import", "taxonomy", str(path), "--note", "n",
                          "--activate")[0] == 0
            # (The command ran in this process: give back the other one's view, just read.)
            configstore.install(seen)
            # Within REFRESH_SECONDS of its last read, the other process keeps its view …
            with unit_of_work(other):
                assert "星球卡" not in credit_card_words()
            # … and once that has passed, its next unit of work reads the new version.
            configstore.invalidate()
            with unit_of_work(other):
                assert "星球卡" in credit_card_words()
        finally:
            other.dispose()
            configstore.reset()

    def test_the_activating_process_sees_it_once_committed(self, database: str,
                                                           tmp_path: Path) -> None:
        path = star_file(tmp_path)
        with unit_of_work():
            assert "星球卡" not in credit_card_words()
        assert invoke("config", "import", "taxonomy", str(path), "--note", "n",
                      "--activate")[0] == 0
        with unit_of_work():
            assert "星球卡" in credit_card_words()
