"""`bankvoc report monthly` on a fresh database, and the monthly job that writes every report
and e-mails it once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.jobs.registry import discover
from bankvoc.notify.models import Notification
from bankvoc.orgs import service as org_service
from bankvoc.reports import delivery
from tests.analytics.conftest import Bank
from tests.conftest import build_world
from tests.reports.conftest import MONTH, NOW, Voc, build_voc

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    found: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return found


def seed(database: str) -> None:
    engine = build_engine(database)
    with unit_of_work(engine) as session:
        build_voc(Bank(world=build_world(session), session=session))
    engine.dispose()


class TestMonthlyCommand:
    def test_writes_the_formats_and_ends_with_one_json_line(self, database: str,
                                                            tmp_path: Path) -> None:
        seed(database)
        result = runner.invoke(app, ["report", "monthly", "--month", MONTH, "--org", "BJ",
                                     "--format", "xlsx,html", "--out", str(tmp_path),
                                     "--json"])
        assert result.exit_code == 0, result.output
        found = last_json(result.stdout)
        assert found["files"] == [str(tmp_path / "voc-monthly-2026-10-BJ.html"),
                                  str(tmp_path / "voc-monthly-2026-10-BJ.xlsx")]
        assert isinstance(found["seconds"], float)
        html = (tmp_path / "voc-monthly-2026-10-BJ.html").read_text("utf-8")
        assert "北京分行" in html
        all_branches = runner.invoke(app, ["report", "monthly", "--month", MONTH,
                                           "--all-branches", "--format", "html", "--quarterly",
                                           "--out", str(tmp_path), "--json"])
        assert all_branches.exit_code == 0, all_branches.output
        reports = last_json(all_branches.stdout)["reports"]
        assert isinstance(reports, list)
        assert [(r["org"], r["period"]) for r in reports] == [
            ("HQ", "2026-08..2026-10"), ("BJ", "2026-08..2026-10"), ("SH", "2026-08..2026-10")]

    def test_errors_name_the_field_without_a_trace(self, database: str,
                                                   tmp_path: Path) -> None:
        seed(database)
        for args, words in ((["--month", "2026-13"], "month"),
                            (["--month", MONTH, "--format", "doc"], "format"),
                            (["--month", MONTH, "--org", "SH", "--user", "bj_handler"], "org")):
            result = runner.invoke(app, ["report", "monthly", *args, "--out", str(tmp_path)])
            assert result.exit_code == 2, result.output
            assert words in result.output
            assert "Traceback" not in result.output


class TestMonthlyJob:
    def test_registered(self) -> None:
        assert "reports.monthly" in discover().names()

    def test_due_only_in_the_first_days(self) -> None:
        assert delivery.due_month(datetime(2026, 11, 1, 1, tzinfo=UTC)) == "2026-10"
        assert delivery.due_month(datetime(2026, 10, 31, 17, tzinfo=UTC)) == "2026-10"  # 1 Nov
        assert delivery.due_month(datetime(2026, 11, 20, tzinfo=UTC)) is None

    def test_writes_every_report_and_e_mails_once(self, voc: Voc, tmp_path: Path) -> None:
        s = voc.session
        hq = org_service.get_org_by_code(s, code="HQ")
        org_service.create_user(s, username="hq_cpo", display_name="hq_cpo", org=hq,
                                roles=["cpo"], email="cpo@bank.example")
        org_service.create_user(s, username="sh_cpo", display_name="sh_cpo",
                                org=org_service.get_org_by_code(s, code="SH"), roles=["cpo"])
        first = delivery.deliver_month(s, month=MONTH, now=NOW, user="hq_admin",
                                       folder=tmp_path)
        assert (first.reports, first.kept, first.notifications) == (3, 0, 2)
        assert first.unreachable == ["sh_cpo"]  # no work address on file
        assert len(list(tmp_path.glob("voc-monthly-2026-10-*.*"))) == 9
        assert sorted(p.name for p in tmp_path.glob("*.pdf")) == [
            "voc-monthly-2026-10-BJ.pdf", "voc-monthly-2026-10-HQ.pdf",
            "voc-monthly-2026-10-SH.pdf"]
        rows = list(s.scalars(select(Notification).where(
            Notification.template == delivery.TEMPLATE)))
        assert len(rows) == 2
        assert all("2026-10" in row.subject for row in rows)
        again = delivery.deliver_month(s, month=MONTH, now=NOW, user="hq_admin",
                                       folder=tmp_path)
        assert (again.reports, again.kept) == (0, 3)
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.template == delivery.TEMPLATE)) == 2
