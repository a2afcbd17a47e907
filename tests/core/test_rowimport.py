"""The row imports (contact-centre interactions, service data, training) under a corpus of
malformed files made here: each file is refused with a message (exit 2) or imported with its bad
rows rejected and counted, never a traceback. (`bankvoc import` has its own corpus:
tests/intake/test_malformed.py.)"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from tests.contact import test_contact_cli as contact
from tests.people import test_cli as people
from tests.servicedata import test_cli as servicedata
from tests.sheets import csv_text, xlsx_bytes

runner = CliRunner()
HUGE = "长" * (1 << 20)  # a 1 MB cell


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    return csv_text(header, rows).encode()


def corpus(header: list[str], good: list[str]) -> dict[str, tuple[str, bytes, int | None]]:
    """name -> (file name, bytes, data rows, or None when the whole file must be refused)."""
    huge = [HUGE if i == len(good) // 2 else cell for i, cell in enumerate(good)]
    broken = _csv(header, [good]) + ",".join(good).encode()[:-1] + b"\xff\xfe(\n"
    return {
        "empty": ("empty.csv", b"", None),
        "broken UTF-16": ("u16.csv", "a,b\n".encode("utf-16")[:-1] + b"\xd8", None),
        "NUL bytes": ("nul.csv", _csv(header, [good]).replace(b",", b"\x00,", 1), None),
        "a truncated workbook": ("cut.xlsx", xlsx_bytes(header, [good])[:600], None),
        "text named .xlsx": ("text.xlsx", _csv(header, [good]), None),
        "header only": ("header.csv", _csv(header, []), 0),
        "wrong columns": ("cols.csv", _csv(["编号", "备注"], [["x", "y"]]), 1),
        "a 1 MB cell": ("huge.csv", _csv(header, [good, huge]), 2),
        "a line of broken UTF-8": ("broken.csv", broken, 2),
        "GB18030": ("gb.csv", _csv(header, [good]).decode().encode("gb18030"), 1),
        "cells missing": ("narrow.csv", _csv(header, [good, good[:2]]), 2),
    }


COMMANDS: dict[str, tuple[Callable[[Path], list[str]], list[str], list[str]]] = {
    "contact interactions": (lambda p: ["contact", "import", str(p), "--user", "hq_admin"],
                             contact.HEADER, contact.GOOD[0]),
    "service data": (lambda p: ["servicedata", "import", "queue", str(p), "--user", "hq_admin"],
                     servicedata.HEADER, servicedata.ROWS[0]),
    "training": (lambda p: ["people", "training", "import", str(p), "--user", "hq_admin"],
                 people.HEADER, people.ROWS[0]),
}



@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_malformed_file_is_refused_or_its_bad_rows_rejected(
    bank: str, tmp_path: Path, command: str
) -> None:
    args, header, good = COMMANDS[command]
    for name, (filename, content, rows) in corpus(header, good).items():
        path = tmp_path / name.replace(" ", "-") / filename
        path.parent.mkdir()
        path.write_bytes(content)
        result = runner.invoke(app, [*args(path), "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            name, result.exception)
        if rows is None:
            assert result.exit_code == 2, (name, result.output)
            assert result.output.strip(), name
            continue
        assert result.exit_code == 0, (name, result.output)
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        counted = sum(summary[k] for k in ("accepted", "updated", "unchanged", "rejected"))
        assert counted == rows, (name, summary)
        if summary["rejected"]:
            with Path(summary["rejects_file"]).open(encoding="utf-8-sig") as handle:
                refused = list(csv.DictReader(handle))
            assert len(refused) == summary["rejected"], name
            assert all(r["row"] and r["field"] and r["reason"] for r in refused), name
