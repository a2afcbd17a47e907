"""Reading import files: formats, encodings, header rows and spreadsheet row numbers."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bankvoc.intake.readers import FileFormatError, RowSource, SourceRow, open_rows

HEADER_ZH = "工单编号,投诉内容,联系电话\n"
KNOWN_HEADERS = {"工单编号", "投诉内容", "联系电话", "受理时间", "涉及金额", "text", "id"}


def known_header_count(cells: list[str]) -> int:
    """A stand-in for mapping.header_score, so these tests need only the reader."""
    return sum(1 for c in cells if c in KNOWN_HEADERS)


def write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    raw = data.encode(encoding) if isinstance(data, str) else data
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    return path


def rows_of(source: RowSource) -> list[SourceRow]:
    return list(source)


def make_register_xlsx(path: Path) -> None:
    """A bank register as branches keep it: merged title row on top, then the header."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["XX银行客户投诉登记表"])
    ws.merge_cells("A1:E1")
    ws.append(["工单编号", "受理时间", "涉及金额", "投诉内容", "备注"])
    ws.append(["T-1", datetime(2024, 6, 3, 9, 30), 1200.5, "信用卡被重复扣款", "加急"])
    ws.append(["T-2", datetime(2024, 6, 4, 14, 0), 300, "网点排队时间太长", None])
    wb.save(path)


class TestOpenRows:
    def test_utf8_csv_with_chinese_headers_is_read_as_utf8(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,卡被吞了,13800000000\n")

        source = open_rows(path)

        assert (source.format, source.encoding) == ("csv", "utf-8")
        assert source.headers == ["工单编号", "投诉内容", "联系电话"]

    def test_utf8_bom_is_detected_and_kept_out_of_the_first_header(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,卡被吞了,1\n", "utf-8-sig")

        source = open_rows(path)

        assert source.encoding == "utf-8-sig"
        assert source.headers[0] == "工单编号"

    def test_gb18030_csv_is_detected_without_being_told(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,手机银行转账失败,1\n", "gb18030")

        source = open_rows(path)

        assert source.encoding == "gb18030"
        assert source.headers == ["工单编号", "投诉内容", "联系电话"]

    def test_gbk_csv_is_decoded_as_gb18030(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,柜员态度差,1\n", "gbk")

        assert open_rows(path).encoding == "gb18030"

    def test_tsv_is_recognised_by_extension(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.tsv", "工单编号\t投诉内容\nT-1\t有逗号,也没关系\n")

        source = open_rows(path)

        assert (source.format, source.headers) == ("tsv", ["工单编号", "投诉内容"])

    def test_txt_with_tabs_is_sniffed_as_tsv(self, tmp_path: Path) -> None:
        path = write(tmp_path, "export.txt", "工单编号\t投诉内容\nT-1\t内容\n")

        assert open_rows(path).format == "tsv"

    def test_txt_starting_with_a_brace_is_sniffed_as_jsonl(self, tmp_path: Path) -> None:
        path = write(tmp_path, "export.txt", '{"text": "内容"}\n')

        assert open_rows(path).format == "jsonl"

    def test_gzipped_csv_is_read_through(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv.gz", HEADER_ZH + "T-1,内容,1\n")

        source = open_rows(path)

        assert (source.format, source.compressed) == ("csv", True)
        assert source.headers == ["工单编号", "投诉内容", "联系电话"]

    def test_excel_unicode_text_export_is_read_as_utf16(self, tmp_path: Path) -> None:
        path = write(tmp_path, "export.txt", "工单编号\t投诉内容\r\nT-1\t内容\r\n", "utf-16")

        source = open_rows(path)

        assert (source.format, source.encoding) == ("tsv", "utf-16")
        assert [r.values for r in source] == [{"工单编号": "T-1", "投诉内容": "内容"}]

    def test_trailing_empty_header_column_is_dropped(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "工单编号,投诉内容,,\nT-1,内容,,\n")

        assert open_rows(path).headers == ["工单编号", "投诉内容"]

    def test_unnamed_and_repeated_headers_get_distinct_names(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "投诉内容,,投诉内容,备注\n")

        assert open_rows(path).headers == ["投诉内容", "column_B", "投诉内容 (2)", "备注"]

    def test_header_hint_skips_a_title_row_above_the_header(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "投诉登记表,,\n" + HEADER_ZH + "T-1,内容,1\n")

        source = open_rows(path, header_hint=known_header_count)

        assert source.header_row == 2
        assert source.headers == ["工单编号", "投诉内容", "联系电话"]

    def test_jsonl_headers_are_keys_in_order_of_first_appearance(self, tmp_path: Path) -> None:
        lines = [{"id": "1", "text": "a"}, {"text": "b", "phone": "1"}, {"org": "x"}]
        path = write(tmp_path, "cases.jsonl", "".join(json.dumps(o) + "\n" for o in lines))

        source = open_rows(path)

        assert (source.format, source.headers) == ("jsonl", ["id", "text", "phone", "org"])

    def test_xlsx_header_is_found_under_a_merged_title_row(self, tmp_path: Path) -> None:
        path = tmp_path / "register.xlsx"
        make_register_xlsx(path)

        source = open_rows(path, header_hint=known_header_count)

        assert (source.format, source.encoding, source.header_row) == ("xlsx", None, 2)
        assert source.headers == ["工单编号", "受理时间", "涉及金额", "投诉内容", "备注"]

    def test_xlsx_without_hint_takes_a_single_cell_row_as_a_title(self, tmp_path: Path) -> None:
        path = tmp_path / "register.xlsx"
        make_register_xlsx(path)

        assert open_rows(path).header_row == 2

    def test_xlsx_merged_header_cells_name_their_empty_columns(self, tmp_path: Path) -> None:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["投诉内容", "客户信息", None, "备注"])
        ws.merge_cells("B1:C1")
        path = tmp_path / "merged.xlsx"
        wb.save(path)

        assert open_rows(path).headers == ["投诉内容", "客户信息", "column_C", "备注"]

    def test_empty_file_is_a_file_format_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "")

        with pytest.raises(FileFormatError, match="empty") as caught:
            open_rows(path)
        assert caught.value.field == "file"

    def test_file_of_blank_lines_is_empty(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "\n\r\n  \n")

        with pytest.raises(FileFormatError, match="empty"):
            open_rows(path)

    def test_no_header_within_the_first_rows_is_a_file_format_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", ",,\n" * 12 + HEADER_ZH)

        with pytest.raises(FileFormatError, match="no header row found in the first 10 rows"):
            open_rows(path)

    def test_legacy_xls_is_refused_with_advice(self, tmp_path: Path) -> None:
        path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))

        with pytest.raises(FileFormatError, match=r"legacy Excel \.xls"):
            open_rows(path)

    def test_file_named_xlsx_that_is_not_a_workbook_is_refused(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.xlsx", HEADER_ZH)

        with pytest.raises(FileFormatError, match="not an Excel workbook"):
            open_rows(path)

    def test_zip_that_is_not_a_workbook_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "cases.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("cases.csv", HEADER_ZH)

        with pytest.raises(FileFormatError, match=r"cannot be read as an \.xlsx workbook"):
            open_rows(path)

    def test_json_array_is_refused_as_not_json_lines(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.json", '[{"text": "a"}]')

        with pytest.raises(FileFormatError, match="JSON Lines"):
            open_rows(path)

    def test_binary_file_is_refused(self, tmp_path: Path) -> None:
        path = write(tmp_path, "blob.bin", b"\x00\x01\x02binary\x00")

        with pytest.raises(FileFormatError, match="not a text file"):
            open_rows(path)

    def test_missing_file_is_a_file_format_error(self, tmp_path: Path) -> None:
        with pytest.raises(FileFormatError, match=r"cannot read nothere\.csv"):
            open_rows(tmp_path / "nothere.csv")


class TestIterRows:
    def test_csv_rows_are_numbered_from_2_and_empty_cells_are_none(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,卡被吞了,\nT-2,转账失败,139\n")

        rows = rows_of(open_rows(path))

        assert rows == [
            SourceRow(2, {"工单编号": "T-1", "投诉内容": "卡被吞了", "联系电话": None}),
            SourceRow(3, {"工单编号": "T-2", "投诉内容": "转账失败", "联系电话": "139"}),
        ]

    def test_gb18030_rows_decode_to_chinese_text(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,手机银行转账失败,1\n", "gb18030")

        assert rows_of(open_rows(path))[0].values["投诉内容"] == "手机银行转账失败"

    def test_quoted_multiline_field_keeps_spreadsheet_row_numbers(self, tmp_path: Path) -> None:
        text = HEADER_ZH + 'T-1,"第一行\n第二行\n第三行",1\nT-2,"单行",2\n'
        path = write(tmp_path, "cases.csv", text)

        rows = rows_of(open_rows(path))

        assert [(r.number, r.values["工单编号"]) for r in rows] == [(2, "T-1"), (3, "T-2")]
        assert rows[0].values["投诉内容"] == "第一行\n第二行\n第三行"

    def test_blank_rows_are_skipped_but_keep_their_numbers(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,a,1\n\n,,\nT-4,b,2\n")

        assert [r.number for r in rows_of(open_rows(path))] == [2, 5]

    def test_extra_cells_are_ignored_and_short_rows_padded(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,a,1,extra,more\nT-2\n")

        rows = rows_of(open_rows(path))

        assert [r.values for r in rows] == [
            {"工单编号": "T-1", "投诉内容": "a", "联系电话": "1"},
            {"工单编号": "T-2", "投诉内容": None, "联系电话": None},
        ]
        assert all(r.error is None for r in rows)

    def test_rows_below_a_title_row_keep_file_row_numbers(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "投诉登记表\n" + HEADER_ZH + "T-1,a,1\n")

        rows = rows_of(open_rows(path, header_hint=known_header_count))

        assert [r.number for r in rows] == [3]

    def test_tsv_cells_may_hold_commas(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.tsv", "工单编号\t投诉内容\nT-1\t有逗号,也没关系\n")

        assert rows_of(open_rows(path))[0].values["投诉内容"] == "有逗号,也没关系"

    def test_gzipped_csv_rows_are_read(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv.gz", HEADER_ZH + "T-1,内容,1\n")

        assert [r.values["投诉内容"] for r in open_rows(path)] == ["内容"]

    def test_broken_bytes_reject_only_their_row_in_a_gbk_file(self, tmp_path: Path) -> None:
        good = (HEADER_ZH + "T-1,柜员态度差,1\n").encode("gbk")
        broken = b"T-2,\xff\xfe\x81 ,2\n"  # not GBK, not UTF-8
        rest = "T-3,信用卡年费争议,3\n".encode("gbk")
        path = write(tmp_path, "cases.csv", good + broken + rest)

        source = open_rows(path)
        rows = rows_of(source)

        assert (source.encoding, source.broken_lines) == ("gb18030", 1)
        assert [(r.number, r.error is None) for r in rows] == [(2, True), (3, False), (4, True)]
        assert rows[1].error is not None
        assert rows[1].error.startswith("broken encoding: bytes at line 3")
        assert rows[1].error.endswith("cannot be read as gb18030")
        assert rows[1].values["工单编号"] == "T-2"
        assert rows[2].values["投诉内容"] == "信用卡年费争议"

    def test_broken_line_inside_a_quoted_field_marks_that_record(self, tmp_path: Path) -> None:
        data = (
            (HEADER_ZH + 'T-1,"第一行\n').encode("gbk")
            + b"\xff\n"
            + '",1\nT-2,好,2\n'.encode("gbk")
        )
        path = write(tmp_path, "cases.csv", data)

        rows = rows_of(open_rows(path))

        assert [(r.number, r.error is not None) for r in rows] == [(2, True), (3, False)]

    def test_xlsx_rows_keep_sheet_numbers_and_native_types(self, tmp_path: Path) -> None:
        path = tmp_path / "register.xlsx"
        make_register_xlsx(path)

        rows = rows_of(open_rows(path, header_hint=known_header_count))

        assert [r.number for r in rows] == [3, 4]
        assert rows[0].values == {
            "工单编号": "T-1",
            "受理时间": datetime(2024, 6, 3, 9, 30),
            "涉及金额": 1200.5,
            "投诉内容": "信用卡被重复扣款",
            "备注": "加急",
        }
        assert rows[1].values["涉及金额"] == 300
        assert isinstance(rows[1].values["涉及金额"], int)
        assert rows[1].values["备注"] is None

    def test_xlsx_blank_rows_are_skipped_but_keep_their_numbers(self, tmp_path: Path) -> None:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws["A1"], ws["B1"] = "id", "text"
        ws["A2"], ws["B2"] = "1", "第一条"
        ws["A5"], ws["B5"] = "2", "第二条"
        path = tmp_path / "gaps.xlsx"
        wb.save(path)

        assert [r.number for r in open_rows(path)] == [2, 5]

    def test_jsonl_rows_are_numbered_by_line_skipping_blank_lines(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.jsonl", '{"text": "a"}\n\n{"text": "b", "amount": 12.5}\n')

        rows = rows_of(open_rows(path))

        assert rows == [SourceRow(1, {"text": "a"}), SourceRow(3, {"text": "b", "amount": 12.5})]

    def test_gzipped_jsonl_rows_are_read(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.jsonl.gz", '{"text": "卡被吞了", "id": ""}\n')

        assert [r.values for r in open_rows(path)] == [{"text": "卡被吞了", "id": None}]

    def test_malformed_jsonl_line_yields_a_row_with_an_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.jsonl", '{"text": "a"}\n{"text": "b"\n{"text": "c"}\n')

        rows = rows_of(open_rows(path))

        assert [(r.number, r.error is None) for r in rows] == [(1, True), (2, False), (3, True)]
        assert rows[1].error is not None
        assert rows[1].error.startswith("line is not a JSON object: ")

    def test_jsonl_line_that_is_not_an_object_is_in_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.ndjson", '{"text": "a"}\n["text", "b"]\n')

        rows = rows_of(open_rows(path))

        assert rows[1] == SourceRow(2, {}, "line is not a JSON object: got an array")

    def test_a_source_can_be_read_twice(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,a,1\n")
        source = open_rows(path)

        assert rows_of(source) == rows_of(source)


class TestCountRows:
    def test_csv_counts_data_rows(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", HEADER_ZH + "T-1,a,1\nT-2,b,2\nT-3,c,3")

        assert open_rows(path).count_rows() == 3

    def test_csv_counts_records_not_lines_and_skips_blank_rows(self, tmp_path: Path) -> None:
        text = HEADER_ZH + 'T-1,"第一行\n第二行",1\n\n,,\nT-2,b,2\n'
        path = write(tmp_path, "cases.csv", text)

        assert open_rows(path).count_rows() == 2

    def test_csv_count_starts_below_a_title_row(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.csv", "投诉登记表\n" + HEADER_ZH + "T-1,a,1\n")

        assert open_rows(path, header_hint=known_header_count).count_rows() == 1

    def test_gzipped_jsonl_counts_non_blank_lines(self, tmp_path: Path) -> None:
        path = write(tmp_path, "cases.jsonl.gz", '{"text": "a"}\n\n{"text": "b"}\n')

        assert open_rows(path).count_rows() == 2

    def test_xlsx_counts_rows_below_the_header(self, tmp_path: Path) -> None:
        path = tmp_path / "register.xlsx"
        make_register_xlsx(path)

        assert open_rows(path, header_hint=known_header_count).count_rows() == 2
