"""Lists exported as spreadsheets: CSV (UTF-8 with a byte-order mark, so Excel opens Chinese
correctly) or XLSX, every cell safe to open.

A text that starts with = + - @ (or a tab or carriage return) is a formula to Excel and to
LibreOffice: an exported complaint saying `=HYPERLINK("http://…")` would become a link that
leaks data when clicked (CSV/formula injection, OWASP). Such texts are written with a leading
apostrophe in CSV and as explicit text cells in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Cell = str | int | float | Decimal | date | datetime | bool | None


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def as_csv_text(value: str) -> str:
    """`value` as a CSV cell that a spreadsheet shows and never runs: a formula-like text gets
    a leading apostrophe (CSV/formula injection, OWASP)."""
    return f"'{value}" if is_formula_like(value) else value


def neutralise_row(cells: Iterable[Any]) -> None:
    """Make the formula-like texts of a row of openpyxl cells plain text cells."""
    for cell in cells:
        if is_formula_like(cell.value):
            cell.data_type = "s"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([as_csv_text(value) if isinstance(value, str) else _plain(value)
                         for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], *,
               title: str = "Sheet1") -> bytes:
    # Rows are made first: a row source that fails part-way (a refused filter, say) leaves no
    # half-written write-only sheet behind to fail again when it is collected.
    made = [list(row) for row in rows]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in made:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_bytes(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], *,
                title: str = "Sheet1") -> bytes:
    if fmt == "csv":
        return csv_bytes(header, rows)
    if fmt == "xlsx":
        return xlsx_bytes(header, rows, title=title)
    raise ValueError(f"unknown format {fmt!r}")


def _plain(value: Cell) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else value


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    if is_formula_like(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # a string, never parsed as a formula
        return cell
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: local wall time
    return value
