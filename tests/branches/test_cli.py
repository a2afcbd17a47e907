"""`bankvoc branches checklist|trend` (the trend on a fresh database of its own)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner

from bankvoc.branches import service
from bankvoc.branches.checklist import load_checklist
from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.branches.conftest import visit
from tests.conftest import build_world

runner = CliRunner()


def last_json(output: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


class TestChecklist:
    def test_prints_the_steps_and_items(self) -> None:
        result = runner.invoke(app, ["branches", "checklist"])
        assert result.exit_code == 0, result.output
        assert "greeting  迎候 / Greeting" in result.stdout
        assert "[critical]" in result.stdout

    def test_json(self) -> None:
        result = runner.invoke(app, ["branches", "checklist", "--json"])
        assert result.exit_code == 0, result.output
        found = last_json(result.stdout)["checklist"]
        assert isinstance(found, dict)
        assert found["version"] == load_checklist().version
        assert [s["code"] for s in found["steps"]][:2] == ["greeting", "queue_guidance"]


class TestTrend:
    def test_per_outlet_and_month_as_json(self, database: str) -> None:
        engine = build_engine(database)
        codes = load_checklist().codes()
        with unit_of_work(engine) as session:
            world = build_world(session)
            actor = world.actor("hq_admin")
            for code in ("BJ01", "SH01"):
                org = org_service.get_org_by_code(session, code=code)
                service.record_visit(session, actor=actor, data=visit(
                    org.id, {c: "fail" if c == codes[0] else "pass" for c in codes},
                    visited_at=datetime(2026, 9, 10, 2, tzinfo=UTC)))
        engine.dispose()
        result = runner.invoke(app, ["branches", "trend", "--org", "BJ", "--json"])
        assert result.exit_code == 0, result.output
        rows = last_json(result.stdout)["trend"]
        assert isinstance(rows, list)
        [row] = rows
        assert {k: row[k] for k in ("org", "month", "visits", "open_findings")} == {
            "org": "BJ01", "month": "2026-09", "visits": 1, "open_findings": 1}
        assert 0 < row["average_score"] < 100

    def test_an_unknown_org_is_an_error(self, database: str) -> None:
        result = runner.invoke(app, ["branches", "trend", "--org", "NOPE", "--json"])
        assert result.exit_code != 0
