"""`bankvoc problems …` on a fresh database of its own."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from tests.conftest import build_world
from tests.problems.conftest import with_staff
from tests.problems.test_actions import action, plant_panel, sub_branches

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    found: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return found


class TestList:
    def test_lists_the_library_as_one_json_line(self, database: str) -> None:
        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = with_staff(build_world(session))
            action(world, [])
        engine.dispose()
        result = runner.invoke(app, ["problems", "list", "--json"])
        assert result.exit_code == 0, result.output
        found = last_json(result.stdout)
        assert found["total"] == 1
        problems = found["problems"]
        assert isinstance(problems, list)
        (row,) = problems
        assert {k: row[k] for k in ("title", "title_en", "status", "cases")} == {
            "title": "信用卡年费重复扣收", "title_en": "Card fee charged twice",
            "status": "open", "cases": 0}
        assert row["code"].startswith("P-ACT-")


class TestEffect:
    def test_prints_the_measured_effect_with_the_cost_beside_it(self, database: str) -> None:
        engine = build_engine(database)
        with unit_of_work(engine) as session:
            world = with_staff(build_world(session))
            orgs = sub_branches(world, 12)
            action_id = action(world, orgs[:6])
            plant_panel(world, orgs, 6, change=-0.3)
        engine.dispose()
        result = runner.invoke(app, ["problems", "effect", str(action_id), "--json",
                                     "--months-after", "6"])
        assert result.exit_code == 0, result.output
        found = last_json(result.stdout)
        outcomes = found["outcomes"]
        assert isinstance(outcomes, list)
        assert [o["name"] for o in outcomes] == ["complaint_rate", "csat", "problem_cases"]
        assert outcomes[0]["ci_high"] < 0
        assert found["benefit"]["cost"] == "30000.00"  # type: ignore[index]

    def test_an_unknown_action_is_a_clear_error(self, database: str) -> None:
        result = runner.invoke(app, ["problems", "effect", "99"])
        assert result.exit_code == 2
        assert "no improvement action 99" in result.stderr
