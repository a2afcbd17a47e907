"""The `bankvoc` command as scripts use it: --json ends stdout with one JSON object."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import service as org_service

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


class TestDbUpgrade:
    def test_a_new_database_gets_the_head_office_and_an_admin(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
        reset_settings()
        reset_engines()
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        status = runner.invoke(app, ["status", "--json"])
        info = last_json(status.stdout)
        assert (info["orgs"], info["users"], info["cases"], info["records"]) == (1, 1, 0, 0)
        assert info["migration"] == info["migration_head"]
        reset_engines()


class TestUsersCreate:
    def test_prints_a_token_that_authenticates(self, database: str) -> None:
        result = runner.invoke(app, ["users", "create", "--org", "HQ", "--role", "handler",
                                     "--name", "li.lei", "--json"])
        assert result.exit_code == 0, result.output
        token = str(last_json(result.stdout)["token"])
        with unit_of_work(build_engine(database)) as session:
            assert org_service.authenticate(session, token=token).username == "li.lei"

    def test_an_unknown_role_is_a_clear_error(self, database: str) -> None:
        result = runner.invoke(app, ["users", "create", "--org", "HQ", "--role", "boss",
                                     "--name", "x"])
        assert result.exit_code == 2
        assert "unknown role 'boss'" in result.stderr
        assert "Traceback" not in result.output

    def test_contact_sets_where_deadline_alarms_go(self, database: str) -> None:
        runner.invoke(app, ["users", "create", "--org", "HQ", "--role", "team_lead",
                            "--name", "han.mei", "--email", "han.mei@bank.example"])
        result = runner.invoke(app, ["users", "contact", "--name", "han.mei", "--mobile",
                                     "13900001111", "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout) == {"user": "han.mei", "email": "han.mei@bank.example",
                                            "mobile": "13900001111"}
        bad = runner.invoke(app, ["users", "contact", "--name", "han.mei", "--email", "x"])
        assert bad.exit_code == 2
        assert "e-mail" in bad.stderr


class TestImport:
    def _file(self, tmp_path: Path) -> Path:
        path = tmp_path / "cases.csv"
        with path.open("w", encoding="gb18030", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["工单编号", "受理时间", "投诉内容", "涉及金额"])
            writer.writerow(["1", "2026-11-01 10:00", "信用卡年费多扣", "200"])
            writer.writerow(["2", "2026-11-31 10:00", "日期不对", ""])
        return path

    def test_json_is_the_last_line_and_the_counts_add_up(
        self, database: str, tmp_path: Path
    ) -> None:
        result = runner.invoke(app, ["import", str(self._file(tmp_path)), "--json"])
        assert result.exit_code == 0, result.output
        assert len(result.stdout.strip().splitlines()) == 1, "only the JSON line on stdout"
        summary = last_json(result.stdout)
        assert summary == {"accepted": 1, "merged": 0, "updated": 0, "unchanged": 0,
                           "rejected": 1, "rejects_file": str(tmp_path / "cases.rejects.csv")}
        status = last_json(runner.invoke(app, ["status", "--json"]).stdout)
        assert (status["cases"], status["records"]) == (1, 1)

    def test_without_json_it_prints_a_readable_summary(
        self, database: str, tmp_path: Path
    ) -> None:
        result = runner.invoke(app, ["import", str(self._file(tmp_path))])
        assert "1 accepted" in result.stdout
        assert "rejects.csv" in result.stdout

    def test_an_unknown_channel_is_refused_before_reading(
        self, database: str, tmp_path: Path
    ) -> None:
        result = runner.invoke(app, ["import", str(self._file(tmp_path)), "--channel", "fax"])
        assert result.exit_code == 2
        assert "unknown channel 'fax'" in result.stderr

    def test_a_missing_file_is_named(self, database: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["import", str(tmp_path / "nope.csv")])
        assert result.exit_code == 2
        assert "nope.csv" in result.stderr

    def test_a_file_without_a_text_column_says_how_to_map_one(
        self, database: str, tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.csv"
        path.write_text("a,b\n1,2\n", encoding="utf-8")
        result = runner.invoke(app, ["import", str(path)])
        assert result.exit_code == 2
        assert "--mapping" in result.stderr

    def test_refuses_to_run_without_the_banks_keys(
        self, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("BANKVOC_PII_KEY")
        reset_settings()
        result = runner.invoke(app, ["import", str(self._file(tmp_path))])
        assert result.exit_code == 2
        assert "BANKVOC_PII_KEY" in result.stderr


class TestDatabaseAway:
    def test_a_command_says_the_database_is_unavailable_without_a_trace(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from bankvoc.core.cliutil import DATABASE_UNAVAILABLE_EXIT
        from tests.faults.servers import free_port

        path = tmp_path / "cases.csv"
        path.write_text("text\n年费多扣\n", encoding="utf-8")
        monkeypatch.setenv("BANKVOC_DATABASE_URL",
                           f"postgresql://postgres@127.0.0.1:{free_port()}/bankvoc")
        reset_settings()
        reset_engines()
        result = runner.invoke(app, ["import", str(path), "--json"])
        reset_engines()
        assert result.exit_code == DATABASE_UNAVAILABLE_EXIT == 3, result.output
        assert "error: the database is unavailable; run the command again once it is back" \
            in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
