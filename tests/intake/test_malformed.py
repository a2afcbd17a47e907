"""A corpus of malformed files for `bankvoc import`, made by code here (no binary blobs kept):
broken encodings, byte-order marks, NUL bytes, truncated workbooks, a 1 MB cell, wrong
columns, empty files. Each either imports with its bad rows rejected (row, field, reason) or is
refused whole with an error naming what is wrong; never a traceback, never half stored."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bankvoc.core.errors import BankvocError
from bankvoc.intake.importer import import_file
from bankvoc.orgs.service import Actor
from tests.intake.test_importer import GOOD, HEADER, admin, counts, engine
from tests.sheets import csv_text, xlsx_bytes

__all__ = ["admin", "engine"]  # the fixtures, shared with the importer's tests


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> str:
    return csv_text(header, rows)


def _xlsx(rows: list[list[str]]) -> bytes:
    return xlsx_bytes(HEADER, rows)


def _with_text(text: str, ident: str = "M1") -> list[str]:
    return [ident, *GOOD[0][1:6], text, *GOOD[0][7:]]


GOOD_CSV = _csv(GOOD[:2])
HUGE = "客户反映" * 262_144  # 1 MiB of text in one cell
# name -> (file name, content, what must come of it: "refused", or the row numbers rejected)
CORPUS: dict[str, tuple[str, Callable[[], bytes], str | set[int]]] = {
    "empty": ("empty.csv", lambda: b"", "refused"),
    "only a BOM": ("bom.csv", lambda: b"\xef\xbb\xbf", "refused"),
    "header only": ("header.csv", lambda: _csv([]).encode(), set()),
    "UTF-8 with BOM": ("bom8.csv", lambda: b"\xef\xbb\xbf" + GOOD_CSV.encode(), set()),
    "GB18030": ("gb.csv", lambda: GOOD_CSV.encode("gb18030"), set()),
    "UTF-16 with BOM": ("u16.csv", lambda: GOOD_CSV.encode("utf-16"), set()),
    "broken UTF-16": ("u16bad.csv", lambda: GOOD_CSV.encode("utf-16")[:-1] + b"\xd8", "refused"),
    "one line of broken UTF-8": (
        "broken.csv", lambda: (_csv([GOOD[0]]) + "M2,2026-11-01,网点,,,,坏").encode()
        + b"\xff\xfe\xc3(" + "字节,,BJ,\n".encode(), {3}),
    "NUL bytes in a cell": ("nul.csv", lambda: _csv([_with_text("年费\x00多扣")]).encode(),
                            "refused"),  # not a text file, says the reader
    "a 1 MB cell": ("huge.csv", lambda: _csv([GOOD[0], _with_text(HUGE, "M2")]).encode(),
                    {3}),
    "no text column": ("cols.csv", lambda: _csv([["x", "y"]], header=["编号", "备注"]).encode(),
                       "refused"),
    "more cells than the header": (
        "wide.csv", lambda: _csv([[*GOOD[0], "多余", "更多"]]).encode(), set()),
    "fewer cells than the header": ("narrow.csv", lambda: _csv([GOOD[0][:3]]).encode(), {2}),
    "an unclosed quote": ("quote.csv", lambda: (_csv([GOOD[0]]) + 'M2,"2026-11-01,网点\n')
                          .encode(), {3}),
    "binary noise": ("noise.csv", lambda: bytes(range(256)) * 40, "refused"),
    "a truncated workbook": ("cut.xlsx", lambda: _xlsx(GOOD[:2])[:700], "refused"),
    "a zip that is no workbook": ("zip.xlsx", lambda: b"PK\x03\x04" + b"\x00" * 200, "refused"),
    "text named .xlsx": ("text.xlsx", lambda: GOOD_CSV.encode(), "refused"),
    "a workbook with a 1 MB cell": ("huge.xlsx", lambda: _xlsx([GOOD[0], _with_text(
        "很长" * 16_000, "M2")]), {3}),
    "JSON lines, one broken": ("cases.jsonl", lambda: "\n".join([
        json.dumps(dict(zip(HEADER, GOOD[0], strict=True)), ensure_ascii=False),
        '{"投诉内容": "坏行', json.dumps(dict(zip(HEADER, GOOD[1], strict=True)),
                                         ensure_ascii=False)]).encode(), {2}),
    "JSON lines, not objects": ("list.jsonl", lambda: b"[1, 2]\n\"x\"\n", "refused"),
}


def test_each_malformed_file_is_refused_or_its_bad_rows_rejected(
    engine: Engine, admin: Actor, tmp_path: Path
) -> None:
    # One database for the whole corpus (a fresh one each would cost seconds a file on
    # PostgreSQL): what each file stored is what the counts moved by.
    for name, (filename, make, expected) in CORPUS.items():
        path = tmp_path / name.replace(" ", "-") / filename
        path.parent.mkdir()
        path.write_bytes(make())
        before = counts(engine)
        if expected == "refused":
            with pytest.raises(BankvocError) as refused:
                import_file(path, engine=engine, actor=admin, workers=0)
            assert refused.value.message, name
            assert counts(engine) == before, name  # nothing half stored
            continue
        report = import_file(path, engine=engine, actor=admin, workers=0)
        rejects_path = path.parent / (path.stem + ".rejects.csv")
        rejected: set[int] = set()
        if rejects_path.exists():
            with rejects_path.open(encoding="utf-8-sig") as handle:
                for row in csv.DictReader(handle):
                    assert row["field"], name
                    assert row["reason"], name
                    rejected.add(int(row["row"]))
        summary = report.as_dict()
        assert (rejected, summary["rejected"]) == (expected, len(expected)), name
        stored = counts(engine)[0] - before[0]
        assert stored == summary["accepted"], name
