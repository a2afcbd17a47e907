"""`bankvoc alerts …` on a fresh database of its own."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.alerts.factory import SCAN_DAY, add_cases, case_row
from tests.conftest import build_world

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    value = json.loads(output.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


class TestScan:
    def test_scans_a_day_lists_and_acknowledges_its_alerts(self, database: str) -> None:
        engine = build_engine(database)
        with unit_of_work(engine) as session:
            build_world(session)
            bj01 = org_service.get_org_by_code(session, code="BJ01").id
            add_cases(session, [case_row(org_id=bj01, day=SCAN_DAY, text="多名客户集体投诉")])
        engine.dispose()
        result = runner.invoke(app, ["alerts", "scan", "--day", SCAN_DAY.isoformat(), "--json"])
        assert result.exit_code == 0, result.output
        summary = last_json(result.stdout)
        assert (summary["day"], summary["mass_complaints"], summary["stored"]) == (
            "2026-11-10", 1, 1)
        again = last_json(runner.invoke(app, ["alerts", "scan", "--day", "2026-11-10",
                                              "--json"]).stdout)
        assert again["stored"] == 0
        listed = last_json(runner.invoke(app, ["alerts", "list", "--json"]).stdout)
        assert listed["count"] == 1
        alerts = listed["alerts"]
        assert isinstance(alerts, list)
        acked = runner.invoke(app, ["alerts", "ack", str(alerts[0]["id"]), "--json"])
        assert acked.exit_code == 0, acked.output
        assert last_json(acked.stdout)["status"] == "acknowledged"

    def test_a_bad_day_is_refused_naming_it(self, database: str) -> None:
        result = runner.invoke(app, ["alerts", "scan", "--day", "tomorrow"])
        assert result.exit_code == 2
        assert "(day)" in result.stderr

    def test_an_unknown_alert_is_refused(self, database: str) -> None:
        result = runner.invoke(app, ["alerts", "ack", "999"])
        assert result.exit_code == 2
        assert "no alert 999" in result.stderr
