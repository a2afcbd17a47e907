"""Mapping file headers onto canonical case fields: synonyms and mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankvoc.intake.mapping import (
    HEADER_SYNONYMS,
    HeaderMapping,
    MappingError,
    build_mapping,
    canonical_field,
    header_score,
    load_mapping_file,
    normalise_header,
)
from bankvoc.intake.schemas import CANONICAL_FIELDS


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class TestNormaliseHeader:
    def test_full_width_punctuation_and_spaces_are_dropped(self) -> None:
        assert normalise_header(" 金额（元）： ") == "金额元"

    def test_case_underscores_and_required_marks_do_not_matter(self) -> None:
        assert normalise_header("*Customer_Name") == normalise_header("customer name")

    def test_full_width_latin_becomes_half_width(self) -> None:
        assert normalise_header("ＩＤ　Ｎｕｍｂｅｒ") == "idnumber"


class TestHeaderSynonyms:
    def test_every_synonym_names_a_canonical_field(self) -> None:
        assert set(HEADER_SYNONYMS.values()) <= set(CANONICAL_FIELDS)

    def test_every_canonical_field_is_its_own_synonym(self) -> None:
        assert all(HEADER_SYNONYMS[normalise_header(f)] == f for f in CANONICAL_FIELDS)

    def test_keys_are_in_normalised_form(self) -> None:
        assert all(normalise_header(k) == k for k in HEADER_SYNONYMS)


class TestCanonicalField:
    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("工单编号", "source_id"),
            ("投诉时间", "received_at"),
            ("受理渠道", "channel"),
            ("客户姓名", "customer_name"),
            ("手机号码", "customer_phone"),
            ("身份证号码", "customer_id_number"),
            ("诉求内容", "text"),
            ("摘要", "title"),
            ("争议金额", "amount"),
            ("被投诉机构", "org"),
            ("业务品种", "product"),
            ("投诉原因", "category"),
            ("工单类型", "kind"),
            ("紧急程度", "severity"),
            ("来源系统", "source_system"),
        ],
    )
    def test_chinese_headers_are_recognised(self, header: str, field: str) -> None:
        assert canonical_field(header) == field

    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("Complaint ID", "source_id"),
            ("Date received", "received_at"),
            ("Consumer complaint narrative", "text"),
            ("Submitted via", "channel"),
            ("Product", "product"),
            ("Issue", "category"),
            ("Mobile", "customer_phone"),
            ("ID number", "customer_id_number"),
            ("Branch", "org"),
            ("customer_name", "customer_name"),
        ],
    )
    def test_english_headers_are_recognised(self, header: str, field: str) -> None:
        assert canonical_field(header) == field

    def test_a_bracketed_note_after_the_name_is_ignored(self) -> None:
        assert canonical_field("涉及金额（元）") == "amount"

    @pytest.mark.parametrize("header", ["序号", "备注", "处理结果", "", "Company"])
    def test_row_counters_remarks_and_answers_are_not_mapped(self, header: str) -> None:
        assert canonical_field(header) is None


class TestHeaderScore:
    def test_counts_the_cells_that_are_known_column_names(self) -> None:
        assert header_score(["序号", "工单编号", "投诉内容", "", "备注"]) == 2

    def test_a_title_row_scores_nothing(self) -> None:
        assert header_score(["XX银行客户投诉登记表", "", ""]) == 0


class TestBuildMapping:
    def test_known_headers_are_mapped_and_the_rest_listed_as_unmapped(self) -> None:
        mapping = build_mapping(["序号", "工单号", "投诉内容", "联系电话", "备注"])

        assert mapping.columns == {
            "工单号": "source_id",
            "投诉内容": "text",
            "联系电话": "customer_phone",
        }
        assert mapping.unmapped == ["序号", "备注"]

    def test_a_file_without_a_text_column_is_refused(self) -> None:
        with pytest.raises(MappingError, match="no column for the case text") as caught:
            build_mapping(["工单号", "备注"])

        assert caught.value.field == "text"
        assert "工单号, 备注" in caught.value.message

    def test_mapping_file_maps_a_header_no_synonym_knows(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "columns:\n  客户心声: text\n  网点号: org\n")

        mapping = build_mapping(["客户心声", "网点号", "备注"], path)

        assert mapping.columns == {"客户心声": "text", "网点号": "org"}
        assert mapping.unmapped == ["备注"]

    def test_flat_mapping_file_overrides_an_automatic_mapping(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "标题: category\n")

        mapping = build_mapping(["标题", "投诉内容"], path)

        assert mapping.columns == {"标题": "category", "投诉内容": "text"}

    def test_mapped_field_is_no_longer_taken_from_a_recognised_column(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "详细经过: text\n")

        mapping = build_mapping(["内容", "详细经过"], path)

        assert mapping.columns == {"详细经过": "text"}
        assert mapping.unmapped == ["内容"]

    def test_null_in_the_mapping_file_ignores_a_column(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "姓名: ~\n")

        mapping = build_mapping(["姓名", "投诉内容"], path)

        assert mapping.columns == {"投诉内容": "text"}
        assert mapping.unmapped == ["姓名"]

    def test_entry_for_a_header_absent_from_the_file_is_ignored(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "columns:\n  不存在的列: amount\n")

        assert build_mapping(["投诉内容"], path).columns == {"投诉内容": "text"}

    def test_entries_match_headers_that_differ_only_in_spacing(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "客户 心声: text\n")

        assert build_mapping(["客户心声"], path).columns == {"客户心声": "text"}

    def test_unknown_field_in_the_mapping_file_names_line_header_and_choices(
        self, tmp_path: Path
    ) -> None:
        path = mapping_file(tmp_path, "columns:\n  投诉内容: text\n  客户心声: txt\n")

        with pytest.raises(MappingError) as caught:
            build_mapping(["客户心声"], path)

        message = caught.value.message
        assert "line 3" in message
        assert "'客户心声'" in message
        assert "'txt'" in message
        assert "valid fields: text, kind" in message
        assert caught.value.field == "mapping"

    def test_yaml_syntax_error_names_its_line(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "columns:\n  投诉内容: text\n  客户心声: [text\n")

        with pytest.raises(MappingError, match=r"line \d+: YAML syntax error"):
            build_mapping(["客户心声"], path)

    def test_yaml_syntax_error_on_a_known_line_reports_that_line(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "a: text\nb: org\n  c: amount\n")

        with pytest.raises(MappingError, match="line 3: YAML syntax error"):
            build_mapping(["a"], path)


class TestLoadMappingFile:
    def test_reversed_entry_gets_a_hint_to_swap_it(self, tmp_path: Path) -> None:
        path = mapping_file(tmp_path, "text: 客户心声\n")

        with pytest.raises(MappingError, match="write '客户心声: text'"):
            load_mapping_file(path)

    def test_empty_file_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(MappingError, match="empty"):
            load_mapping_file(mapping_file(tmp_path, "# nothing here\n"))

    def test_a_list_instead_of_a_mapping_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(MappingError, match="line 1: expected 'file header: field'"):
            load_mapping_file(mapping_file(tmp_path, "- text\n- org\n"))

    def test_field_names_are_accepted_in_any_case(self, tmp_path: Path) -> None:
        assert load_mapping_file(mapping_file(tmp_path, "心声: Text\n")) == {"心声": "text"}

    def test_missing_mapping_file_is_a_mapping_error(self, tmp_path: Path) -> None:
        with pytest.raises(MappingError, match="cannot read the mapping file"):
            load_mapping_file(tmp_path / "absent.yaml")


class TestHeaderMappingApply:
    def test_only_mapped_columns_with_values_come_out(self) -> None:
        mapping = HeaderMapping({"内容": "text", "电话": "customer_phone"}, ["备注"])

        assert mapping.apply({"内容": "卡被吞了", "电话": None, "备注": "x"}) == {
            "text": "卡被吞了"
        }

    def test_first_non_empty_column_wins_for_a_shared_field(self) -> None:
        mapping = HeaderMapping({"内容": "text", "问题描述": "text", "详情": "text"}, [])

        assert mapping.apply({"内容": "  ", "问题描述": "转账失败", "详情": "另一段"}) == {
            "text": "转账失败"
        }

    def test_native_values_pass_through_unchanged(self) -> None:
        mapping = HeaderMapping({"金额": "amount"}, [])

        assert mapping.apply({"金额": 0}) == {"amount": 0}
