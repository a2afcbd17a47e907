"""`bankvoc notify ...` as operators and scripts use it, on a fresh database of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.notify import service
from bankvoc.notify.cli import notify_app
from bankvoc.notify.service import Recipient
from tests.notify.conftest import CONTEXT

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.fixture
def outbox_dir(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database with two SMS due; the demo's file adapter writes under tmp_path."""
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANKVOC_NOTIFY_SMS", "file")
    reset_settings()
    with unit_of_work() as session:
        for key, phone in (("a", "13812345678"), ("b", "13912345678")):
            service.enqueue(session, template="accepted", channel="sms",
                            recipient=Recipient.customer(phone), language="zh",
                            context=CONTEXT, dedupe_key=key)
    return tmp_path / "notify"


class TestDispatch:
    def test_sends_what_is_due_and_reports_the_counts(self, outbox_dir: Path) -> None:
        result = runner.invoke(notify_app, ["dispatch", "--json"])
        assert result.exit_code == 0, result.output
        report = last_json(result.stdout)
        assert (report["claimed"], report["sent"], report["dead"]) == (2, 2, 0)
        lines = (outbox_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()
        assert sorted(json.loads(line)["to"] for line in lines) == ["138****5678",
                                                                   "139****5678"]


class TestList:
    def test_lists_by_status_with_counts_and_no_bodies(self, outbox_dir: Path) -> None:
        runner.invoke(notify_app, ["dispatch", "--limit", "1"])
        result = runner.invoke(notify_app, ["list", "--status", "sent", "--json"])
        assert result.exit_code == 0, result.output
        listed = last_json(result.stdout)
        rows = listed["notifications"]
        assert isinstance(rows, list)
        assert len(rows) == 1
        assert rows[0]["status"] == "sent"
        assert "body" not in rows[0]
        assert listed["counts"] == {"pending": 1, "sending": 0, "sent": 1, "failed": 0,
                                    "dead": 0}
        assert "13812345678" not in result.stdout
        assert "13912345678" not in result.stdout

    def test_a_table_for_people(self, outbox_dir: Path) -> None:
        result = runner.invoke(notify_app, ["list"])
        assert result.exit_code == 0, result.output
        assert "pending" in result.stdout
        assert "138****5678" in result.stdout
        assert "2 pending" in result.stderr

    def test_an_unknown_status_is_a_clear_error(self, outbox_dir: Path) -> None:
        result = runner.invoke(notify_app, ["list", "--status", "lost"])
        assert result.exit_code == 2
        assert "unknown status 'lost'" in result.stderr
        assert "Traceback" not in result.output


class TestRequeue:
    def test_revives_dead_letters(self, outbox_dir: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_NOTIFY_MAX_ATTEMPTS", "1")
        monkeypatch.setenv("BANKVOC_DATA_DIR", str(outbox_dir / "sms.jsonl" / "not-a-dir"))
        (outbox_dir).mkdir(parents=True)
        (outbox_dir / "sms.jsonl").write_text("")  # the file adapter cannot write: dead
        reset_settings()
        assert last_json(runner.invoke(notify_app, ["dispatch", "--json"]).stdout)["dead"] == 2
        dead = last_json(runner.invoke(notify_app, ["list", "--status", "dead", "--json"]).stdout)
        ids = [str(row["id"]) for row in dead["notifications"]]  # type: ignore[attr-defined]
        result = runner.invoke(notify_app, ["requeue", *ids, "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout) == {"requeued": 2}
