"""`bankvoc contact import` and `bankvoc contact kpis` on a fresh database of their own."""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core import configstore
from bankvoc.core.db import build_engine, unit_of_work

runner = CliRunner()

HEADER = ["id", "kind", "agent", "team", "queue", "org", "started_at", "routed_to_agent",
          "answered", "abandoned", "transferred", "wait_s", "talk_s", "hold_s", "wrap_s",
          "outcome", "phone", "issue_key", "csat"]
GOOD = [
    ["C1", "call", "A1", "T1", "Q1", "BJ01", "2026-10-01 10:00", "1", "1", "0", "0", "10",
     "100", "20", "30", "resolved", "13800138000", "card", "5"],
    ["C2", "call", "A1", "T1", "Q1", "BJ01", "2026-10-01 11:00", "1", "0", "1", "0", "50",
     "0", "0", "0", "", "", "", ""],
    ["C3", "chat", "A2", "T2", "Q1", "SH01", "2026-10-02 09:00", "1", "1", "0", "1", "30",
     "200", "0", "10", "unresolved", "13900139000", "loan", "3"],
]
BAD = [
    ["C4", "call", "A1", "T1", "Q1", "BJ01", "2026-10-01 12:00", "1", "1", "0", "0", "-5",
     "100", "0", "0", "", "", "", ""],
    ["C5", "call", "A1", "T1", "Q1", "XX", "2026-10-01 12:00", "1", "1", "0", "0", "5",
     "100", "0", "0", "", "", "", ""],
]



def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def run(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


class TestImport:
    def test_stores_good_rows_once_and_reports_the_bad_ones(self, bank: str,
                                                            tmp_path: Path) -> None:
        path = write_csv(tmp_path / "calls.csv", [*GOOD, *BAD])
        summary = run("contact", "import", str(path), "--json")
        rejects_file = tmp_path / "calls.rejects.csv"
        assert summary == {"accepted": 3, "updated": 0, "unchanged": 0, "rejected": 2,
                           "rejects_file": str(rejects_file)}
        # rows as a spreadsheet numbers them: the header is row 1, C4 row 5, C5 row 6
        assert list(csv.reader(rejects_file.read_text("utf-8-sig").splitlines())) == [
            ["row", "field", "reason"],
            ["5", "wait_s", "Input should be greater than or equal to 0"],
            ["6", "org", "no org with code 'XX'"]]

    def test_running_the_same_file_again_stores_nothing_twice(self, bank: str,
                                                              tmp_path: Path) -> None:
        path = write_csv(tmp_path / "calls.csv", GOOD)
        assert run("contact", "import", str(path), "--json")["accepted"] == 3
        again = run("contact", "import", str(path), "--json")
        assert again == {"accepted": 0, "updated": 0, "unchanged": 3, "rejected": 0,
                         "rejects_file": None}
        kpis = run("contact", "kpis", "--json")
        assert kpis["rows"][0]["interactions"] == 3

    def test_a_corrected_file_updates_the_records(self, bank: str, tmp_path: Path) -> None:
        run("contact", "import", str(write_csv(tmp_path / "calls.csv", GOOD)), "--json")
        fixed = [list(r) for r in GOOD]
        fixed[0][HEADER.index("wrap_s")] = "40"
        again = run("contact", "import", str(write_csv(tmp_path / "calls.csv", fixed)),
                    "--json")
        assert (again["updated"], again["unchanged"]) == (1, 2)

    def test_rejects_go_where_asked(self, bank: str, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "calls.csv", BAD)
        target = tmp_path / "out" / "bad.csv"
        target.parent.mkdir()
        summary = run("contact", "import", str(path), "--rejects", str(target), "--json")
        assert (summary["rejected"], summary["rejects_file"]) == (2, str(target))
        assert target.read_text("utf-8-sig").count("\n") == 3

    def test_reads_a_workbook(self, bank: str, tmp_path: Path) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for values in [HEADER, *GOOD]:
            sheet.append(values)
        book.save(tmp_path / "calls.xlsx")
        assert run("contact", "import", str(tmp_path / "calls.xlsx"), "--json")["accepted"] == 3

    def test_reads_json_lines_of_the_transcript_platform(self, bank: str,
                                                         tmp_path: Path) -> None:
        lines = [{"id": "T1", "agent": "A1", "queue": "借记卡", "product": "debit_card",
                  "org": "BJ01", "started_at": "2026-10-01T02:00:00Z", "answered": True,
                  "wait_s": 8, "talk_s": 95,
                  "turns": [{"speaker": "agent", "start_ms": 0, "end_ms": 10, "text": "您好"}]},
                 {"id": "T2", "agent": "A1", "org": "BJ01", "started_at": "2026-10-01",
                  "answered": "perhaps"}]
        path = tmp_path / "calls.jsonl"
        path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines),
                        encoding="utf-8")
        summary = run("contact", "import", str(path), "--json")
        assert (summary["accepted"], summary["rejected"]) == (1, 1)
        assert "2,answered," in (tmp_path / "calls.rejects.csv").read_text("utf-8-sig")

    def test_a_missing_file_is_a_clear_error(self, bank: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["contact", "import", str(tmp_path / "none.csv")])
        assert result.exit_code == 2
        assert "none.csv" in result.output
        assert "Traceback" not in result.output


class TestKpis:
    @pytest.fixture
    def imported(self, bank: str, tmp_path: Path) -> str:
        run("contact", "import", str(write_csv(tmp_path / "calls.csv", GOOD)), "--json")
        return bank

    def test_one_json_object_per_team(self, imported: str) -> None:
        result = run("contact", "kpis", "--by", "team", "--json")
        rows = {r["group"]: r for r in result["rows"]}
        # T1: C1 answered in 10 s, C2 abandoned -> connect 1/2, abandonment 1/2;
        # AHT of C1 = 100 + 20 + 30 = 150
        assert (rows["T1"]["connect_rate"], rows["T1"]["abandonment_rate"],
                rows["T1"]["aht_s"], rows["T1"]["service_level"]) == (0.5, 0.5, 150.0, 1.0)
        # T2: C3 answered in 30 s (> 20), transferred, CSAT 3
        assert (rows["T2"]["service_level"], rows["T2"]["transfer_rate"],
                rows["T2"]["csat"]) == (0.0, 1.0, 3.0)

    def test_the_period_and_the_service_level_threshold(self, imported: str) -> None:
        (row,) = run("contact", "kpis", "--from", "2026-10-02", "--to", "2026-10-02",
                     "--service-level-s", "30", "--json")["rows"]
        assert (row["group"], row["interactions"], row["service_level"]) == ("all", 1, 1.0)

    def test_the_default_window_is_the_one_in_force(self, imported: str,
                                                    tmp_path: Path) -> None:
        # answered: C1 in 10 s, C3 in 30 s
        shipped = run("contact", "kpis", "--json")
        assert (shipped["service_level_s"], shipped["rows"][0]["service_level"]) == (20, 0.5)
        text = (files("bankvoc.contact") / "targets.yaml").read_text("utf-8")
        own = tmp_path / "targets.yaml"
        own.write_text(text.replace("service_level_seconds: 20", "service_level_seconds: 30")
                       .replace("orgs: {}\n", "orgs:\n  SH:\n    service_level_seconds: 25\n"),
                       "utf-8")
        try:
            run("config", "import", "contact_targets", str(own), "--note", "30 s",
                "--activate", "--json")
            in_force = run("contact", "kpis", "--json")
            assert (in_force["service_level_s"], in_force["rows"][0]["service_level"]) == (
                30, 1.0)
            # an org's own window for its subtree; an explicit option still wins
            assert run("contact", "kpis", "--org", "SH", "--json")["service_level_s"] == 25
            explicit = run("contact", "kpis", "--service-level-s", "20", "--json")
            assert (explicit["service_level_s"], explicit["rows"][0]["service_level"]) == (
                20, 0.5)
        finally:
            configstore.reset()

    def test_a_branch_user_sees_only_its_subtree(self, imported: str) -> None:
        rows = run("contact", "kpis", "--by", "org", "--user", "bj_handler", "--json")["rows"]
        assert [(r["group"], r["interactions"]) for r in rows] == [("BJ01", 2)]

    def test_a_table_for_people(self, imported: str) -> None:
        result = runner.invoke(app, ["contact", "kpis", "--by", "queue"])
        assert result.exit_code == 0, result.output
        assert "Q1" in result.stdout
        assert "66.7%" in result.stdout  # connect rate: 2 answered of 3 routed

    def test_an_unknown_grouping_is_a_clear_error(self, imported: str) -> None:
        result = runner.invoke(app, ["contact", "kpis", "--by", "colour"])
        assert result.exit_code == 2
        assert "--by" in result.output

    def test_a_period_ending_before_it_starts_is_a_clear_error(self, imported: str) -> None:
        result = runner.invoke(app, ["contact", "kpis", "--from", "2026-10-02", "--to",
                                     "2026-10-01"])
        assert result.exit_code == 2
        assert "(to)" in result.output


class TestImportTranscripts:
    """The speech-recognition platform's JSON Lines: every call inspected, the risky one
    queued, its complaint registered as a case; a second run changes nothing."""

    def test_every_call_is_inspected_once(self, bank: str, tmp_path: Path) -> None:
        from sqlalchemy import func, select

        from bankvoc.cases.models import Case
        from bankvoc.contact.models import Interaction, QaResult, QaReviewEvent
        from tests.contact.conftest import CLEAN, C, record

        rude = [*CLEAN[:4], ("agent", 20.0, 28.0, "这个我也不知道，你自己去查吧。"),
                (C, 29.0, 31.0, "什么态度，我要投诉你！"), *CLEAN[7:]]
        lines = [record(CLEAN, id="T1"), record(rude, id="T2")]
        for line in lines:
            line.update({"org": "PBC", "phone": "13800138000"})
        path = tmp_path / "calls.jsonl"
        path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines),
                        encoding="utf-8")
        first = run("contact", "import", str(path), "--source", "asr", "--json")
        again = run("contact", "import", str(path), "--source", "asr", "--json")
        assert (first["accepted"], first["rejected"]) == (2, 0)
        assert (again["unchanged"], again["accepted"], again["updated"]) == (2, 0, 0)
        engine = build_engine(bank)
        with unit_of_work(engine) as session:
            statuses = {source_id: status for source_id, status in session.execute(
                select(Interaction.source_id, QaResult.status).join(
                    QaResult, QaResult.interaction_id == Interaction.id))}
            assert statuses == {"T1": "pass", "T2": "pending"}
            assert session.scalar(select(func.count()).select_from(QaReviewEvent)) == 2
            case = session.scalars(select(Case)).one()
            assert case.kind == "complaint_intent"
            assert session.scalars(select(Interaction.case_id).where(
                Interaction.source_id == "T2")).one() == case.id
        engine.dispose()
