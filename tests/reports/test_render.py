"""The report's three formats: HTML self-contained, PDF with an embedded CJK font, XLSX with
native charts, masked texts and no formula from a text; and the SVG charts themselves."""

from __future__ import annotations

import re
import zipfile
import zlib
from html.parser import HTMLParser
from io import BytesIO

import pytest
from openpyxl import load_workbook

from bankvoc.reports import charts, files, monthly
from bankvoc.reports.render_html import render_html
from bankvoc.reports.render_xlsx import put
from tests.reports.conftest import FEE_TEXT, FORMULA_TEXT, MONTH, NOW, SUGGESTION_TEXT, Voc


def build(voc: Voc, **kwargs: object) -> monthly.MonthlyReport:
    return monthly.build_report(voc.session, actor=voc.bank.world.actor("hq_admin"),
                                month=MONTH, now=NOW, **kwargs)  # type: ignore[arg-type]


class _Resources(HTMLParser):
    """Every tag that could load something, and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "img", "iframe", "object", "embed", "image", "use"):
            self.loads.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data") and value:
                self.loads.append(f"{tag}[{name}]")


def embedded_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts embedded in a PDF (its object streams are deflated)."""
    def inflate(data: bytes) -> bytes:
        try:
            return zlib.decompress(data)
        except zlib.error:
            return b""
    blob = pdf + b"".join(inflate(m.group(1)) for m in re.finditer(
        rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S))
    names = {name.decode() for name in re.findall(rb"/BaseFont\s*/([^\s/<>\[\]]+)", blob)}
    return names if b"/FontFile" in blob else set()


class TestHtml:
    def test_self_contained_with_inline_svg_charts(self, voc: Voc) -> None:
        html = render_html(build(voc))
        parser = _Resources()
        parser.feed(html)
        assert parser.loads == []
        assert "@import" not in html
        assert "url(" not in html
        assert html.count("<svg") >= 4  # categories, two trends, products, channels, orgs
        for text in ("客户之声月度报告", "一、核心指标", "收费争议", "北京分行", FEE_TEXT,
                     SUGGESTION_TEXT, "P-FEE-01"):
            assert text in html

    def test_texts_are_escaped(self, voc: Voc) -> None:
        voc.formula_case.text_masked = '<script>alert(1)</script>建议'
        html = render_html(build(voc))
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;建议" in html

    def test_english(self, voc: Voc) -> None:
        html = render_html(build(voc, lang="en"))
        assert "1. Headline KPIs" in html
        assert "Fee dispute" in html


class TestPdf:
    def test_embeds_a_cjk_font(self, voc: Voc) -> None:
        report = build(voc, org="BJ")
        pdf = files.render(report, "pdf")
        assert pdf.startswith(b"%PDF")
        fonts = embedded_fonts(pdf)
        assert any("CJK" in name for name in fonts), fonts
        assert b"/JavaScript" not in pdf
        assert b"/URI" not in pdf


class TestXlsx:
    def test_native_charts_masked_texts_and_no_formula(self, voc: Voc) -> None:
        content = files.render(build(voc), "xlsx")
        with zipfile.ZipFile(BytesIO(content)) as package:
            names = package.namelist()
            chart_xml = b"".join(package.read(n) for n in names
                                 if n.startswith("xl/charts/chart"))
            sheets = b"".join(package.read(n) for n in names
                              if n.startswith("xl/worksheets/sheet"))
        assert b"<c:pieChart>" in chart_xml or b"pieChart" in chart_xml
        assert b"barChart" in chart_xml
        assert b"lineChart" in chart_xml
        assert b"<f>" not in sheets  # no formula anywhere: every figure is a value
        book = load_workbook(BytesIO(content))
        assert book.sheetnames[:3] == ["核心指标", "类别", "趋势"]
        suggestions = book["客户建议"]
        texts = [row[1] for row in suggestions.iter_rows(min_row=4, values_only=True)]
        assert FORMULA_TEXT in texts
        assert SUGGESTION_TEXT in texts
        cell = next(c for row in suggestions.iter_rows(min_row=4) for c in row
                    if c.value == FORMULA_TEXT)
        assert cell.data_type == "s"
        assert cell.quotePrefix
        hot = [row for row in book["热点问题"].iter_rows(min_row=2, values_only=True) if row[0]]
        assert FEE_TEXT in {row[7] for row in hot}
        kpis = {row[1]: row[2] for row in book["核心指标"].iter_rows(min_row=7,
                                                                     values_only=True)}
        assert kpis["complaints"] == 8

    @pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x"])
    def test_a_formula_like_text_is_text(self, text: str) -> None:
        from openpyxl import Workbook

        book = Workbook()
        cell = put(book.active, 1, 1, text)
        assert (cell.value, cell.data_type) == (text, "s")
        out = BytesIO()
        book.save(out)
        with zipfile.ZipFile(BytesIO(out.getvalue())) as package:
            assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")
        assert put(book.active, 2, 1, "收费争议").quotePrefix is False
        assert put(book.active, 3, 1, -2.5).data_type == "n"


class TestCharts:
    def test_bar_escapes_labels_and_scales_to_the_largest(self) -> None:
        svg = charts.bar_chart([("<b>&收费", 10.0), ("服务", 5.0)], title="t", suffix="%")
        assert "<b>" not in svg
        assert "&lt;b&gt;&amp;收费" in svg
        widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
        assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)  # rounded to 0.1 px
        assert "10%" in svg
        assert "5%" in svg

    def test_line_breaks_at_missing_months(self) -> None:
        svg = charts.line_chart(["01", "02", "03", "04"], [("a", [1.0, 2.0, None, 4.0])],
                                title="t")
        assert svg.count("<polyline") == 1  # 01-02 joined; 04 a lone point
        assert svg.count("<circle") == 3

    def test_donut_shares(self) -> None:
        svg = charts.donut_chart([("甲", 3.0), ("乙", 1.0)], title="t")
        assert "75.0%" in svg
        assert "25.0%" in svg
        assert "—" in charts.donut_chart([], title="t")

    def test_nothing_external_in_any_chart(self) -> None:
        for svg in (charts.bar_chart([("a", 1.0)], title="t"),
                    charts.line_chart(["x", "y"], [("a", [1.0, 2.0])], title="t"),
                    charts.donut_chart([("a", 1.0)], title="t")):
            assert "href" not in svg
            assert "<script" not in svg
            assert "<style" not in svg
