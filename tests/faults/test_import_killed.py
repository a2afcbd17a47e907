"""SIGKILL of `bankvoc import FILE` half way, then the same command again: every source row is
stored exactly once, the counts are those of an uninterrupted run, and each rejected row is
reported once. On SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.db import unit_of_work
from bankvoc.intake.models import IntakeRecord
from bankvoc.notify.models import Notification
from tests.faults.conftest import command_env

pytestmark = pytest.mark.slow

HEADER = ["工单编号", "受理时间", "受理渠道", "联系电话", "投诉内容", "涉及金额", "所属机构"]
ROWS = 3000
BATCH = 100


@dataclass
class SourceFile:
    path: Path
    good: set[str]
    bad: set[int]
    repeats: set[str]


def source_file(path: Path) -> SourceFile:
    """A file of `ROWS` rows: the ids of its good rows, the spreadsheet row numbers of its bad
    ones (an amount that is no number), and the ids of the repeats (the customer and words of
    the row before, a day later: merged into that row's case)."""
    good: set[str] = set()
    bad: set[int] = set()
    repeats: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(ROWS):
            source_id = f"F{i:05d}"
            if i % 10 == 3:  # the row before, again a day later
                phone, words, day = f"139{i - 1:08d}", f"第{i - 1}号：信用卡年费被多扣了，请退还", 2
                repeats.add(source_id)
            else:
                phone, words, day = f"139{i:08d}", f"第{i}号：信用卡年费被多扣了，请退还", 1
            amount = "abc" if i % 50 == 7 else str(100 + i % 900)
            writer.writerow([source_id, f"2026-11-0{day} 09:30", "网点", phone, words, amount,
                             "BJ"])
            if i % 50 == 7:
                bad.add(i + 2)  # the header is row 1
            else:
                good.add(source_id)
    return SourceFile(path, good, bad, repeats)


def assert_imported_once(engine: Engine, report: dict[str, Any], source: SourceFile, *,
                         unchanged: int) -> None:
    """The run that finished an interrupted import: the `unchanged` rows stored before it,
    the rest new or merged; every good row stored exactly once, every bad one reported once."""
    good, bad, repeats = source.good, source.bad, source.repeats
    assert report["unchanged"] == unchanged
    assert report["accepted"] + report["merged"] + report["unchanged"] == len(good)
    assert report["rejected"] == len(bad)
    # Every rejected row reported once, in order, none of the good ones.
    assert rejects_of(Path(report["rejects_file"])) == sorted(bad)

    with unit_of_work(engine) as session:
        ids = session.execute(select(IntakeRecord.source_id,
                                     func.count()).group_by(IntakeRecord.source_id)).all()
        assert {source_id for source_id, _ in ids} == good
        assert [source_id for source_id, n in ids if n != 1] == []
        merged = set(session.scalars(select(IntakeRecord.source_id)
                                     .where(IntakeRecord.outcome == "merged")))
        assert merged == repeats & good
        cases = session.scalar(select(func.count()).select_from(Case))
        assert cases == len(good) - len(merged)
        # Each case has its record(s) and one "received" event: nothing half stored.
        orphans = session.scalar(select(func.count()).select_from(Case).where(
            ~Case.id.in_(select(IntakeRecord.case_id))))
        assert orphans == 0
        received = session.execute(
            select(CaseEvent.case_id, func.count()).where(CaseEvent.type == "received")
            .group_by(CaseEvent.case_id)).all()
        assert len(received) == cases
        assert all(n == 1 for _, n in received)
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def import_command(path: Path, *, batch: int = BATCH) -> list[str]:
    return [sys.executable, "-m", "bankvoc", "import", str(path), "--json", "--batch-size",
            str(batch), "--user", "hq_admin", "--workers", "0"]


def stored_records(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(IntakeRecord)) or 0


def rejects_of(path: Path) -> list[int]:
    with path.open(encoding="utf-8-sig") as handle:
        return [int(row["row"]) for row in csv.DictReader(handle)]


class TestImportKilled:
    def test_killed_half_way_and_run_again_stores_every_row_exactly_once(
        self, fault_db: str, engine: Engine, tmp_path: Path
    ) -> None:
        source = source_file(tmp_path / "cases.csv")
        command = import_command(source.path)
        env = command_env(fault_db)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while stored_records(engine) < ROWS // 3 and process.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        assert process.returncode == -signal.SIGKILL, stderr.decode(errors="replace")[-2000:]
        before = stored_records(engine)
        assert ROWS // 3 <= before < len(source.good), "the kill must land half way"

        finished = subprocess.run(command, env=env, capture_output=True, text=True,
                                  timeout=300, check=False)
        assert finished.returncode == 0, finished.stderr[-2000:]
        report = json.loads(finished.stdout.strip().splitlines()[-1])

        assert_imported_once(engine, report, source, unchanged=before)
