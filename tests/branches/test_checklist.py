"""The shipped checklist parses; a bad file is refused with the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankvoc.branches.checklist import (
    ChecklistError,
    load_checklist,
    parse_checklist,
    read_checklist,
)
from tests.branches.conftest import SMALL

STEPS = ["greeting", "queue_guidance", "identity", "handling", "risk_disclosure", "farewell",
         "environment"]


class TestShipped:
    def test_follows_the_service_standard_steps(self) -> None:
        checklist = load_checklist()
        assert [s.code for s in checklist.steps] == STEPS
        assert [s.zh for s in checklist.steps] == ["迎候", "分流引导", "身份核验", "业务办理",
                                                   "风险提示", "送别", "环境设施"]
        assert all(3 <= len(s.items) <= 5 for s in checklist.steps)
        assert all(i.zh and i.en and i.weight > 0 for _, i in checklist.items())
        assert any(i.critical for _, i in checklist.items())
        assert len(checklist.checksum) == 64

    def test_codes_are_unique(self) -> None:
        codes = load_checklist().codes()
        assert len(codes) == len(set(codes))


class TestRefused:
    @pytest.mark.parametrize(("change", "line", "reason"), [
        (("weight: 3}", "weight: -3}"), 8, "greater than 0"),
        (("code: g2", "code: G 2"), 8, "not a valid code"),
        (("code: i2", "code: g1"), 15, "given twice"),
        (("      - {code: g3, zh: 工号牌, en: Badge, weight: 1}\n", ""), 6, "3 to 5 items"),
        (("en: Badge,", "english: Badge,"), 9, "not a field here"),
        (("    en: Identity check\n", ""), 10, "required but missing"),
        (("version: \"t1\"", "version: [t1"), None, "not valid YAML"),
    ])
    def test_a_bad_file_names_the_line_and_reason(self, change: tuple[str, str],
                                                  line: int | None, reason: str) -> None:
        before, after = change
        assert before in SMALL
        with pytest.raises(ChecklistError) as caught:
            parse_checklist(SMALL.replace(before, after, 1), source="checklist.yaml")
        error = caught.value
        assert error.message.startswith("checklist.yaml line "), error.message
        found = [p for p in error.problems if reason in p.reason]
        assert found, error.message
        if line is not None:
            assert found[0].line == line, found
            assert f"line {line}:" in found[0].describe("checklist.yaml")
        assert caught.value.status == 422
        assert caught.value.field == "checklist"

    def test_a_file_not_utf8_is_refused_with_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "checklist.yaml"
        path.write_bytes(SMALL.encode("utf-8") + "# 备注\n".encode("gbk"))
        with pytest.raises(ChecklistError, match="line 17: not UTF-8"):
            read_checklist(path)

    def test_the_checksum_follows_the_text(self) -> None:
        assert parse_checklist(SMALL).checksum != parse_checklist(SMALL + "\n").checksum
