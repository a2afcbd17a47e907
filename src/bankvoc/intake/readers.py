"""Read bulk-import files row by row: CSV, TSV, XLSX and JSON Lines, plain or gzipped.

Bank exports come in whatever the exporting system produced: UTF-8 with or without a BOM,
GB18030/GBK from older Windows tools, a title row above the header in Excel. This module turns
any of them into a stream of `SourceRow`s numbered as a spreadsheet numbers them, so a rejected
row can be reported as "row 17" and found by the person who opens the same file.

Reading is streaming (a 1M-row export never sits in memory) and does the least work per row:
header names are settled once in `open_rows`, rows are plain dicts keyed by them.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast
from xml.etree.ElementTree import ParseError

from bankvoc.core.errors import Invalid

HeaderHint = Callable[[list[str]], int]

# Title rows and blank lines above the header: look this far down for it.
HEADER_SCAN_ROWS = 10
# JSON Lines has no header row: the column list is the keys seen this far down.
JSONL_HEADER_SCAN_LINES = 100

_HEAD_BYTES = 64 * 1024
_CHUNK_BYTES = 1024 * 1024
# The csv module refuses fields over 128 KiB by default; a complaint text may be up to 200,000
# characters (schemas.TEXT_HARD_LIMIT). A bigger field is a broken quote, and stopping there
# bounds the memory an unclosed quote can swallow.
_CSV_FIELD_LIMIT = 1_000_000

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and other old Office binaries
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    # Excel's "Unicode text (*.txt)" export: tab-separated UTF-16 with a BOM.
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Tried in order when there is no BOM; GB18030 is a superset of GBK and GB2312.
_FALLBACK_ENCODINGS = ("utf-8", "gb18030")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_DIALECTS: dict[str, type[csv.Dialect]] = {"csv": csv.excel, "tsv": csv.excel_tab}
# What a damaged or mislabelled workbook makes openpyxl raise (ParseError: a broken XML part).
_WORKBOOK_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    OSError,
    ParseError,
)


class FileFormatError(Invalid):
    """The file as a whole cannot be imported: unknown format, empty, no header row, ..."""

    code = "invalid_file"

    def __init__(self, message: str, *, field: str | None = "file") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class SourceRow:
    """One row of the file, numbered as a spreadsheet (or, for JSON Lines, an editor) shows it."""

    number: int
    values: dict[str, Any]
    # Set when the row itself cannot be read; the row is still yielded so it is reported.
    error: str | None = None


@dataclass
class RowSource:
    """An opened import file: its format, encoding and header, and its rows on iteration.

    Each iteration reopens the file, so a source can be read more than once (count, then import).
    """

    path: Path
    format: str  # "csv" | "tsv" | "xlsx" | "jsonl"
    encoding: str | None  # None for xlsx
    headers: list[str]
    # Row number of the header (title rows may sit above it); 0 for JSON Lines, which has none.
    header_row: int = 1
    compressed: bool = False
    # Lines whose bytes do not decode in `encoding`; their rows come with an error.
    broken_lines: int = 0
    _sheet_rows: int | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[SourceRow]:
        if self.format == "xlsx":
            return self._xlsx_rows()
        if self.format == "jsonl":
            return self._jsonl_rows()
        return self._delimited_rows()

    def count_rows(self) -> int | None:
        """How many rows iteration will yield, for a progress bar.

        Text formats are counted exactly by a parse without the per-row dicts (about 600,000
        CSV rows/s): counting lines instead is off by a factor of 3 on files of multi-line
        narratives. XLSX trusts the sheet's recorded size (blank rows included) and gives None
        when the sheet records none, since parsing the XML is most of the cost of reading it.
        """
        if self.format == "xlsx":
            return None if self._sheet_rows is None else max(0, self._sheet_rows - self.header_row)
        if self.format == "jsonl":
            with self._text_lines(newline=None) as (lines, _):
                return sum(1 for line in lines if line.strip())
        with self._text_lines(newline="") as (lines, bad_lines):
            records = _csv_records(lines, self.format, bad_lines)
            return sum(
                1
                for number, cells, error in records
                if number > self.header_row and (error is not None or any(cells))
            )

    # -- CSV / TSV ----------------------------------------------------------------------------

    def _delimited_rows(self) -> Iterator[SourceRow]:
        headers = self.headers
        width = len(headers)
        padding = [""] * width
        with self._text_lines(newline="") as (lines, bad_lines):
            for number, cells, error in _csv_records(lines, self.format, bad_lines):
                if number <= self.header_row:
                    continue
                if error is None and not any(cells):
                    continue  # blank line: nothing to import, but it keeps its row number
                if len(cells) < width:
                    cells = cells + padding[len(cells) :]
                # Extra cells beyond the header are ignored: zip stops at the shorter.
                values = {h: (c or None) for h, c in zip(headers, cells, strict=False)}
                yield SourceRow(number, values, error)

    # -- JSON Lines ---------------------------------------------------------------------------

    def _jsonl_rows(self) -> Iterator[SourceRow]:
        with self._text_lines(newline=None) as (lines, bad_lines):
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                values, error = _parse_json_object(line)
                if bad_lines and number in bad_lines:
                    error = bad_lines[number]  # the encoding is the root cause: report that
                yield SourceRow(number, values, error)

    # -- XLSX ---------------------------------------------------------------------------------

    def _xlsx_rows(self) -> Iterator[SourceRow]:
        headers = self.headers
        width = len(headers)
        with _open_sheet(self.path, self.compressed) as (rows, _):
            for number, cells in enumerate(rows, 1):
                if number <= self.header_row or _is_empty_sheet_row(cells):
                    continue
                if len(cells) < width:
                    cells = cells + (None,) * (width - len(cells))
                # Native cell types are kept (datetime, int, float); only "" becomes None.
                values = {h: (None if c == "" else c) for h, c in zip(headers, cells, strict=False)}
                yield SourceRow(number, values)

    @contextmanager
    def _text_lines(self, *, newline: str | None) -> Iterator[tuple[Iterator[str], dict[int, str]]]:
        """The file's decoded lines, and a map line number -> error filled in as lines are read."""
        assert self.encoding is not None
        bad_lines: dict[int, str] = {}
        with _open_binary(self.path, self.compressed) as binary:
            if self.broken_lines == 0:
                # Fast path: the whole file was checked to decode cleanly.
                with io.TextIOWrapper(binary, encoding=self.encoding, newline=newline) as text:
                    yield text, bad_lines
            else:
                yield _decode_lines(binary, self.encoding, bad_lines), bad_lines


def open_rows(path: Path, *, header_hint: HeaderHint | None = None) -> RowSource:
    """Open an import file: detect compression, format, encoding and the header row.

    `header_hint(cells)` scores a candidate header row (e.g. how many cells are known column
    names); the best-scoring of the first rows is taken as the header, so title rows above it
    are skipped.
    """
    path = Path(path)
    compressed, head = _read_head(path)
    if head.startswith(_OLE_MAGIC):
        raise FileFormatError(
            "this is a legacy Excel .xls (or other old Office) file; save it as .xlsx or CSV"
        )
    name = path.name.lower().removesuffix(".gz")
    extension = Path(name).suffix
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(path, compressed, header_hint)
    if _EXTENSIONS.get(extension) == "xlsx":
        raise FileFormatError(f"the file is named {extension} but is not an Excel workbook")

    encoding, broken_lines = _detect_encoding(path, compressed, head)
    text_head = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text_head.strip() and len(head) < _HEAD_BYTES:
        raise FileFormatError("the file is empty")
    if "\x00" in text_head:
        raise FileFormatError(
            "the file holds NUL bytes, so it is not a text file (expected CSV, TSV, XLSX or "
            "JSON Lines; UTF-16 text needs a byte-order mark)"
        )
    fmt = _EXTENSIONS.get(extension) or _sniff_text_format(text_head)
    source = RowSource(path, fmt, encoding, [], compressed=compressed, broken_lines=broken_lines)
    if fmt == "jsonl":
        if text_head.lstrip().startswith("["):
            raise FileFormatError(
                "the file is a JSON array; expected JSON Lines (one JSON object per line)"
            )
        source.header_row = 0
        source.headers = _jsonl_headers(source)
    else:
        source.header_row, source.headers = _delimited_header(source, header_hint)
    return source


# -- opening and detection -------------------------------------------------------------------


def _open_binary(path: Path, compressed: bool) -> IO[bytes]:
    # GzipFile is not typed as an IO[bytes], but it is one for everything done here.
    return cast(IO[bytes], gzip.open(path, "rb")) if compressed else path.open("rb")


def _read_head(path: Path) -> tuple[bool, bytes]:
    """Whether the file is gzipped (by its magic bytes, not its name) and its first bytes."""
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
        with _open_binary(path, compressed) as binary:
            return compressed, binary.read(_HEAD_BYTES)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FileFormatError(f"cannot read {path.name}: {reason}") from exc


def _detect_encoding(path: Path, compressed: bool, head: bytes) -> tuple[str, int]:
    """The text encoding and how many lines do not decode in it (0 for a clean file).

    A BOM decides. Otherwise strict UTF-8 over the whole file, then GB18030; a file that is
    neither (a GBK export with a line pasted from elsewhere) takes the one with fewer bad lines,
    and only those lines' rows are rejected.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if _decodes_cleanly(path, compressed, encoding):
                return encoding, 0
            if encoding == "utf-16":
                # Line-by-line recovery splits on b"\n", which is not a line end in UTF-16.
                raise FileFormatError("the file has a UTF-16 byte-order mark but broken UTF-16")
            return encoding, _count_broken_lines(path, compressed, encoding)
    for encoding in _FALLBACK_ENCODINGS:
        if _decodes_cleanly(path, compressed, encoding):
            return encoding, 0
    broken = {enc: _count_broken_lines(path, compressed, enc) for enc in _FALLBACK_ENCODINGS}
    best = min(_FALLBACK_ENCODINGS, key=broken.__getitem__)
    return best, broken[best]


def _decodes_cleanly(path: Path, compressed: bool, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with _open_binary(path, compressed) as binary:
            while chunk := binary.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _count_broken_lines(path: Path, compressed: bool, encoding: str) -> int:
    broken = 0
    with _open_binary(path, compressed) as binary:
        for raw in binary:
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                broken += 1
    return broken


def _decode_lines(binary: IO[bytes], encoding: str, bad_lines: dict[int, str]) -> Iterator[str]:
    """Decode line by line, so one broken line costs one row and not the file.

    Splitting on b"\\n" is safe for UTF-8 and GB18030: 0x0A is never part of a multi-byte
    character in either.
    """
    for number, raw in enumerate(binary, 1):
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as exc:
            bad_lines[number] = (
                f"broken encoding: bytes at line {number}, byte {exc.start + 1} "
                f"cannot be read as {encoding}"
            )
            yield raw.decode(encoding, errors="replace")


def _sniff_text_format(text_head: str) -> str:
    """For .txt and unknown names: JSON Lines if it starts with '{', else tabs vs commas."""
    stripped = text_head.lstrip()
    if stripped.startswith(("{", "[")):
        return "jsonl"
    first_line = stripped.split("\n", 1)[0]
    return "tsv" if first_line.count("\t") > first_line.count(",") else "csv"


# -- headers ---------------------------------------------------------------------------------


def _pick_header(rows: list[list[str]], hint: HeaderHint | None) -> int | None:
    """Index of the header among the first rows (cells as stripped text), None if all empty."""
    candidates = [i for i, cells in enumerate(rows) if any(cells)]
    if not candidates:
        return None
    if hint is not None:
        scores = [hint(rows[i]) for i in candidates]
        best = max(scores)
        if best > 0:
            return candidates[scores.index(best)]
    # No usable hint: a row with a single filled cell above wider rows is a title
    # ("XX银行客户投诉登记表" merged across the sheet), not the header.
    return max(candidates, key=lambda i: (min(_filled(rows[i]), 2), -i))


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c)


def _name_columns(cells: list[str]) -> list[str]:
    """Header names from header cells: unnamed columns get `column_<letter>`, repeats `(2)`.

    Trailing unnamed columns are dropped: they are Excel's habit of exporting a final comma or
    formatted-but-empty cells, not data.
    """
    cells = list(cells)
    while cells and not cells[-1]:
        cells.pop()
    taken: set[str] = set()
    names: list[str] = []
    for index, cell in enumerate(cells):
        base = cell or f"column_{_column_letter(index)}"
        name, copy = base, 2
        while name in taken:
            name, copy = f"{base} ({copy})", copy + 1
        taken.add(name)
        names.append(name)
    return names


def _column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _header_from_rows(
    rows: list[list[str]], hint: HeaderHint | None, what: str
) -> tuple[int, list[str]]:
    index = _pick_header(rows, hint)
    if index is None:
        if len(rows) < HEADER_SCAN_ROWS:
            raise FileFormatError(f"the {what} is empty")
        raise FileFormatError(f"no header row found in the first {HEADER_SCAN_ROWS} rows")
    return index + 1, _name_columns(rows[index])


def _delimited_header(source: RowSource, hint: HeaderHint | None) -> tuple[int, list[str]]:
    with source._text_lines(newline="") as (lines, bad_lines):
        records = islice(_csv_records(lines, source.format, bad_lines), HEADER_SCAN_ROWS)
        rows = [[c.strip() for c in cells] for _, cells, _ in records]
    return _header_from_rows(rows, hint, "file")


def _jsonl_headers(source: RowSource) -> list[str]:
    headers: dict[str, None] = {}  # insertion-ordered set: order of first appearance
    seen_object = False
    with source._text_lines(newline=None) as (lines, _):
        for line in islice(lines, JSONL_HEADER_SCAN_LINES):
            values, error = _parse_json_object(line) if line.strip() else ({}, "blank")
            if error is None:
                seen_object = True
                headers.update(dict.fromkeys(values))
    if not seen_object:
        raise FileFormatError(f"no JSON object in the first {JSONL_HEADER_SCAN_LINES} lines")
    return list(headers)


# -- CSV records -----------------------------------------------------------------------------


def _csv_records(
    lines: Iterable[str], fmt: str, bad_lines: dict[int, str]
) -> Iterator[tuple[int, list[str], str | None]]:
    """(record number, cells, error) per CSV record, counting records and not lines.

    A quoted field may span lines, and a spreadsheet shows that record as one row, so
    numbering follows records. With broken bytes about, a record is in error when any line
    it spans is.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(lines, _DIALECTS[fmt])
    number = 0
    last_line = 0
    while True:
        error: str | None = None
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = [], f"cannot be read as {fmt.upper()}: {exc}"
        number += 1
        if bad_lines:
            spanned = range(last_line + 1, reader.line_num + 1)
            error = next((bad_lines[n] for n in spanned if n in bad_lines), error)
        last_line = reader.line_num
        yield number, cells, error


# -- JSON Lines ------------------------------------------------------------------------------

_JSON_TYPE_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def _parse_json_object(line: str) -> tuple[dict[str, Any], str | None]:
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"line is not a JSON object: {exc.msg} at column {exc.colno}"
    if not isinstance(parsed, dict):
        return {}, f"line is not a JSON object: got {_JSON_TYPE_NAMES.get(type(parsed), 'a value')}"
    return {k: (None if v == "" else v) for k, v in parsed.items()}, None


# -- XLSX ------------------------------------------------------------------------------------


def _open_xlsx(path: Path, compressed: bool, hint: HeaderHint | None) -> RowSource:
    with _open_sheet(path, compressed) as (rows, recorded_rows):
        head = [
            ["" if c is None else str(c).strip() for c in cells]
            for cells in islice(rows, HEADER_SCAN_ROWS)
        ]
    header_row, headers = _header_from_rows(head, hint, "first worksheet")
    return RowSource(
        path,
        "xlsx",
        None,
        headers,
        header_row=header_row,
        compressed=compressed,
        _sheet_rows=recorded_rows,
    )


@contextmanager
def _open_sheet(
    path: Path, compressed: bool
) -> Iterator[tuple[Iterator[tuple[Any, ...]], int | None]]:
    """Rows of the first worksheet as value tuples (row 1 first, gaps filled with empty rows),
    and the row count the sheet records for itself, if any."""
    workbook = _load_workbook(path, compressed)
    try:
        if not workbook.worksheets:
            raise FileFormatError("the workbook has no worksheet (only chart sheets)")
        sheet = workbook.worksheets[0]
        recorded_rows = sheet.max_row if isinstance(sheet.max_row, int) else None
        # Some generators write a wrong <dimension>; read-only mode would then cut columns off.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        try:
            yield rows, recorded_rows
        finally:
            rows.close()
    finally:
        workbook.close()


def _load_workbook(path: Path, compressed: bool) -> Any:
    from openpyxl import load_workbook  # imported here: CSV imports should not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        if compressed:
            with gzip.open(path, "rb") as packed:
                # openpyxl seeks around the zip; seeking in a gzip stream rereads it each time.
                return load_workbook(io.BytesIO(packed.read()), read_only=True, data_only=True)
        return load_workbook(path, read_only=True, data_only=True)
    except (*_WORKBOOK_ERRORS, InvalidFileException) as exc:
        raise FileFormatError(f"cannot be read as an .xlsx workbook: {exc}") from exc


def _is_empty_sheet_row(cells: tuple[Any, ...]) -> bool:
    return all(c is None or c == "" for c in cells)
