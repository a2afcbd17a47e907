"""Bulk import of whole files: formats, encodings, rejects, re-runs and a killed run resumed."""

from __future__ import annotations

import csv
import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, event, func, select

from bankvoc.analytics import service as analytics
from bankvoc.analytics.models import RollupMark
from bankvoc.cases.models import Case
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.intake.draft import Draft
from bankvoc.intake.importer import ReadAhead, RejectsWriter, _Batch, import_file
from bankvoc.intake.models import IntakeRecord
from bankvoc.intake.readers import SourceRow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor
from tests.conftest import TEST_PII_KEY, TEST_SECRET, build_world

HEADER = ["工单编号", "受理时间", "受理渠道", "客户姓名", "联系电话", "证件号码", "投诉内容",
          "涉及金额", "所属机构", "业务类型"]
GOOD = [
    ["A1", "2026-11-01 09:30:00", "电话银行", "张三", "13812345678", "11010519491231002X",
     "信用卡年费被多扣了200元，客服态度很差", "200", "BJ", "信用卡"],
    ["A2", "2026/11/01 09:30", "网点", "李四", "13912345678", "", "排队等了两个小时，效率太低",
     "", "北京海淀支行", ""],
    ["A3", "2026-11-03", "手机银行", "张三", "13812345678", "11010519491231002X",
     "信用卡年费被多扣了200元，客服态度很差", "", "BJ", ""],
]
BAD = [
    ["B1", "2026-02-30 10:00", "网点", "王五", "13912345679", "", "日期错误", "", "BJ", ""],
    ["B2", "2026-11-02", "网点", "王五", "13912345679", "", "金额错误", "abc", "BJ", ""],
    ["B3", "2026-11-02", "网点", "王五", "13912345679", "", "", "", "BJ", ""],
    ["B4", "2026-11-02", "网点", "王五", "1391234", "", "电话错误", "", "BJ", ""],
]


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_db_url)
    with unit_of_work(engine) as session:
        build_world(session)
    yield engine
    engine.dispose()


@pytest.fixture
def admin(engine: Engine) -> Actor:
    with unit_of_work(engine) as session:
        return org_service.actor_for(org_service.get_user(session, username="hq_admin"))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def counts(engine: Engine) -> tuple[int, int]:
    # A plain read: a unit of work takes SQLite's write lock at its start, and polling with one
    # while an import commits batch after batch could wait out the whole import.
    with engine.connect() as connection:
        cases = connection.scalar(select(func.count()).select_from(Case)) or 0
        records = connection.scalar(select(func.count()).select_from(IntakeRecord)) or 0
    return cases, records


class TestImportFile:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
    def test_mixed_good_and_bad_rows_in_each_encoding(
        self, engine: Engine, admin: Actor, tmp_path: Path, encoding: str
    ) -> None:
        path = write_csv(tmp_path / "cases.csv", [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2],
                                                  BAD[2], BAD[3]], encoding)
        report = import_file(path, engine=engine, actor=admin)
        assert report.as_dict() == {
            "accepted": 2, "merged": 1, "updated": 0, "unchanged": 0, "rejected": 4,
            "rejects_file": str(tmp_path / "cases.rejects.csv")}
        with (tmp_path / "cases.rejects.csv").open(encoding="utf-8-sig") as handle:
            rejects = list(csv.DictReader(handle))
        assert [(r["row"], r["field"]) for r in rejects] == [
            ("3", "received_at"), ("5", "amount"), ("7", "text"), ("8", "customer_phone")]
        assert all(r["reason"] for r in rejects)
        assert counts(engine) == (2, 3)

    def test_on_postgresql_the_rows_are_stored_with_copy(
        self, engine: Engine, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        copied: list[str] = []
        real = psycopg.Cursor.copy

        def spy(cursor: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
            copied.append(str(statement).split("(")[0].strip())
            return real(cursor, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", spy)
        inserts: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, sql, *_: inserts.append(sql.split("(")[0].strip())
                     if sql.lstrip().upper().startswith("INSERT") else None)
        import_file(write_csv(tmp_path / "cases.csv", GOOD), engine=engine, actor=admin)
        assert counts(engine) == (2, 3)
        bulk = ['COPY "customer"', 'COPY "case"', 'COPY "rollup_mark"', 'COPY "case_event"',
                'COPY "intake_record"']
        if engine.dialect.name == "postgresql":
            assert sorted(copied) == sorted(bulk)
            # No row by INSERT; the reference numbers are drawn on a connection of their own.
            assert inserts == []
        else:
            assert copied == []

    def test_each_batch_is_planned_for_its_own_values_on_postgresql(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        settings: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, sql, *_: settings.append(sql)
                     if "plan_cache_mode" in sql else None)
        import_file(write_csv(tmp_path / "cases.csv", GOOD), engine=engine, actor=admin,
                    batch_size=2)
        expected = 2 if engine.dialect.name == "postgresql" else 0  # one per batch
        assert settings == ["SET LOCAL plan_cache_mode = force_custom_plan"] * expected

    def test_new_cases_mark_their_org_and_day_for_the_roll_up_once_each(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        rows = [GOOD[0], GOOD[1], [*GOOD[1][:6], "网点排队等了三个小时", *GOOD[1][7:]]]
        rows[2][0] = "A4"
        import_file(write_csv(tmp_path / "cases.csv", rows), engine=engine, actor=admin)
        with unit_of_work(engine) as session:
            marks = session.execute(select(RollupMark.utc_day, RollupMark.org_id)).all()
            stored = session.execute(select(Case.received_at, Case.org_id)).all()
            assert len(stored) == 3
            assert sorted(marks) == sorted({(at.astimezone(UTC).date(), org_id)
                                            for at, org_id in stored})
            assert len(marks) == 2  # two cases of one org on one day: one mark
            assert analytics.refresh_rollup(session).marks == 2
            report = analytics.kpi_report(session, actor=admin, kpi="complaints",
                                          period="2026-11")
            assert (report.source, report.figure.value) == ("rollup:month", 3)

    def test_running_the_same_file_twice_changes_nothing(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "cases.csv", GOOD + BAD)
        import_file(path, engine=engine, actor=admin)
        before = counts(engine)
        again = import_file(path, engine=engine, actor=admin).as_dict()
        assert (again["accepted"], again["merged"], again["unchanged"], again["rejected"]) == (
            0, 0, 3, 4)
        assert counts(engine) == before

    def test_a_corrected_row_is_an_update(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        import_file(write_csv(tmp_path / "v1.csv", GOOD), engine=engine, actor=admin)
        corrected = [[*GOOD[0][:7], "250", "BJ", "信用卡"], *GOOD[1:]]
        report = import_file(write_csv(tmp_path / "v2.csv", corrected), engine=engine,
                             actor=admin)
        assert (report.counts["updated"], report.counts["unchanged"]) == (1, 2)
        assert report.rejects_file is None

    def test_gzipped_jsonl_without_source_ids_is_keyed_by_content(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        path = tmp_path / "cases.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write('{"投诉内容": "ATM吞卡了", "受理时间": "2026-11-01 10:00"}\n')
            handle.write('{"投诉内容": "建议多开窗口", "工单类型": "建议"}\n')
            handle.write('{"投诉内容": "ATM吞卡了", "受理时间": "2026-11-01 10:00"}\n')
        first = import_file(path, engine=engine, actor=admin, channel="self_service")
        second = import_file(path, engine=engine, actor=admin, channel="self_service")
        assert (first.counts["accepted"], first.counts["unchanged"]) == (2, 1)
        assert second.counts["unchanged"] == 3

    def test_spreadsheet_with_a_title_row_merged_cells_and_extra_columns(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        book = Workbook()
        sheet = book.active
        sheet.append(["XX银行客户投诉登记表"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
        sheet.append(["序号", "工单编号", "受理时间", "投诉内容", "涉及金额", "备注"])
        sheet.append([1, "X1", datetime(2026, 11, 1, 9, 30), "理财产品亏损，销售时说保本", 50000,
                      "extra"])
        sheet.append([2, "X2", "2026-13-01", "日期不对", None, None])
        sheet.append([3, "X3", 46327.5, "转账手续费不合理", "12.5元", None])
        path = tmp_path / "cases.xlsx"
        book.save(path)
        report = import_file(path, engine=engine, actor=admin)
        assert (report.counts["accepted"], report.counts["rejected"]) == (2, 1)
        with (tmp_path / "cases.rejects.csv").open(encoding="utf-8-sig") as handle:
            (reject,) = list(csv.DictReader(handle))
        assert (reject["row"], reject["field"]) == ("4", "received_at")

    def test_a_worker_process_prepares_rows_with_the_same_outcome(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "cases.csv", GOOD + BAD)
        report = import_file(path, engine=engine, actor=admin, workers=1, batch_size=2)
        assert report.workers == 1
        assert (report.counts["accepted"], report.counts["merged"],
                report.counts["rejected"]) == (2, 1, 4)
        again = import_file(path, engine=engine, actor=admin, workers=0)
        assert again.counts["unchanged"] == 3

    def test_outcomes_add_up_to_the_data_rows(
        self, engine: Engine, admin: Actor, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "cases.csv", GOOD + BAD + GOOD)
        report = import_file(path, engine=engine, actor=admin, batch_size=2)
        assert sum(report.counts.values()) == len(GOOD + BAD + GOOD)


def _numbered_batches(count: int) -> Iterator[_Batch]:
    for number in range(count):
        yield _Batch(1, [], [SourceRow(number, {})])


def _drafts(where: str) -> Callable[[list[SourceRow]], list[Draft]]:
    return lambda rows: [Draft(row=r.number, raw={"prepared": where}) for r in rows]


class TestRejectsWriter:
    def test_a_field_or_reason_quoting_a_formula_is_written_as_text(
        self, tmp_path: Path
    ) -> None:
        writer = RejectsWriter(tmp_path / "x.rejects.csv")
        writer.write(3, "=HYPERLINK(\"http://x\")", "@SUM(1) is not a channel")
        writer.write(4, "amount", "not a number")
        writer.close()
        with (tmp_path / "x.rejects.csv").open(encoding="utf-8-sig") as handle:
            assert list(csv.reader(handle))[1:] == [
                ["3", "'=HYPERLINK(\"http://x\")", "'@SUM(1) is not a channel"],
                ["4", "amount", "not a number"]]


class TestWorkerStart:
    def test_a_preparing_process_imports_neither_scikit_learn_nor_scipy(self) -> None:
        # Every import worker (and API process) imports the pipeline: scikit-learn and SciPy
        # would add about a second of CPU to each start, and the pipeline's defaults use neither.
        probe = ("import sys, bankvoc.intake.importer; "
                 "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))")
        found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               check=True)
        assert found.stdout.strip() == "[]"


class TestReadAhead:
    def test_while_the_workers_are_slow_this_process_prepares_later_batches_in_file_order(
        self,
    ) -> None:
        started = threading.Event()  # the workers are "up" once a later batch is made here
        prepare_there, prepare_here = _drafts("there"), _drafts("here")

        def there(rows: list[SourceRow]) -> list[Draft]:
            started.wait(timeout=10)
            return prepare_there(rows)

        def here(rows: list[SourceRow]) -> list[Draft]:
            if rows[0].number > 0:
                started.set()
            return prepare_here(rows)

        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = ReadAhead(_numbered_batches(12), pool=pool, there=there, here=here,
                              workers=1)
            seen = [(d.row, d.raw["prepared"]) for batch in ahead for d in batch.drafts]
        assert [row for row, _ in seen] == list(range(12))
        assert seen[:2] == [(0, "here"), (1, "there")]  # the first never waits for the pool
        assert any(row > 0 and where == "here" for row, where in seen)

    def test_when_the_workers_keep_up_they_prepare_all_but_the_first(self) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = ReadAhead(_numbered_batches(6), pool=pool, there=_drafts("there"),
                              here=_drafts("here"), workers=1)
            seen = []
            for batch in ahead:
                for future in list(ahead.queue):
                    if future[1] is not None:
                        future[1].result()  # storing takes longer than preparing
                seen += [d.raw["prepared"] for d in batch.drafts]
        assert seen == ["here"] + ["there"] * 5


def _big_file(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            amount = "abc" if i % 97 == 0 else str(i % 1000)
            writer.writerow([f"K{i}", "2026-11-01 09:30", "网点", "", f"138{i:08d}", "",
                             f"第{i}号：信用卡账单有误，请核实", amount, "BJ", ""])
    return path


@pytest.mark.slow
def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (Linux /proc; none elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class TestKilledImport:
    def test_a_run_killed_half_way_and_run_again_stores_every_row_once(
        self, engine: Engine, fresh_db_url: str, tmp_path: Path
    ) -> None:
        rows = 6000
        path = _big_file(tmp_path / "big.csv", rows)
        rejected = len(range(0, rows, 97))
        env = {**os.environ, "BANKVOC_DATABASE_URL": fresh_db_url,
               "BANKVOC_SECRET_KEY": TEST_SECRET, "BANKVOC_PII_KEY": TEST_PII_KEY}
        command = [sys.executable, "-m", "bankvoc", "import", str(path), "--json",
                   "--batch-size", "200", "--user", "hq_admin"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while counts(engine)[1] < 400 and process.poll() is None:
            assert time.monotonic() < deadline, "import made no progress"
            time.sleep(0.05)
        workers = children_of(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored_before_kill = counts(engine)[1]
        assert 0 < stored_before_kill < rows - rejected, "kill must land half way"
        # Its worker processes do not outlive it (one blocked writing a result for ever did).
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, f"workers {workers} outlived the import"
            time.sleep(0.1)

        finished = subprocess.run(command, env=env, capture_output=True, text=True,
                                  timeout=300, check=True)
        summary = finished.stdout.strip().splitlines()[-1]
        import json

        result = json.loads(summary)
        assert result["unchanged"] >= stored_before_kill
        assert result["accepted"] + result["unchanged"] == rows - rejected
        assert result["rejected"] == rejected
        assert counts(engine) == (rows - rejected, rows - rejected)
