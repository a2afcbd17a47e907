"""The regulatory statistics and the annual disclosure as XLSX workbooks (openpyxl).

One sheet per JR/T 0169-2018 dimension, one for the bulletin groups and one per org; headers in
Chinese with English. Every text that Excel would read as a formula (starting with = + - @, a
tab or a carriage return: `core.tables.is_formula_like`) is written as a plain text cell, never
a formula: an org name or a bank-edited taxonomy label cannot become a live link (CSV/formula
injection, OWASP).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bankvoc.core.tables import Cell, is_formula_like
from bankvoc.reports.regulatory import (
    DIMENSIONS,
    AnnualDisclosure,
    JrtStatistics,
    KpiFigure,
    ShareRow,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLES = {
    "channel": "渠道 Channel",
    "business": "业务类别 Business type",
    "cause": "投诉原因 Cause",
    "bulletin": "通报类别 Bulletin",
}
_BOLD = Font(bold=True)


def _put(sheet: Any, row: int, column: int, value: Cell, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"  # text, never parsed as a formula
    if bold:
        cell.font = _BOLD


def _write(sheet: Any, rows: Sequence[Sequence[Cell]], *, header_rows: Sequence[int] = (),
           widths: Sequence[int] = ()) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value, bold=r in header_rows)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- JR/T 0169-2018 statistics -------------------------------------------------------------------

def jrt_workbook(stats: JrtStatistics) -> bytes:
    workbook = Workbook()
    about = workbook.active
    about.title = "说明 About"
    _write(about, [
        ["银行业金融机构消费投诉统计 Complaint statistics (banking)"],
        ["统计标准 Standard", stats.standard],
        ["分类版本 Taxonomy version", stats.taxonomy_version],
        ["统计期间 Period", stats.period.label],
        ["起止日期 Dates", f"{stats.period.start.isoformat()} – "
                          f"{(stats.period.end).isoformat()} (不含 excl.)"],
        ["机构 Org", stats.org.code, stats.org.name, stats.org.en],
        ["投诉量 Complaints", stats.total],
        ["千家网点投诉量 Complaints per 1,000 outlets", _round(stats.per_1k_outlets)],
        ["千万个人客户投诉量 Complaints per 10 million individual customers",
         _round(stats.per_10m_individuals)],
        ["口径 Scope", "投诉（不含投诉意向、建议、咨询），合并的重复投诉不计 / complaints only, "
                      "merged duplicates not counted"],
    ], header_rows=(1,), widths=(48, 24, 24, 24))
    org_header = [f"{c.label('zh')} {c.code}" for c in stats.columns]
    for dimension in DIMENSIONS:
        table = stats.tables[dimension]
        sheet = workbook.create_sheet(SHEET_TITLES[dimension])
        rows: list[list[Cell]] = [
            [f"{table.zh} {table.en}", stats.period.label, stats.org.name],
            ["代码 Code", "名称 Name", "Name (English)", *org_header, "合计 Total",
             "占比% Share %"],
        ]
        rows += [[row.code, row.zh, row.en, *[row.counts[c.id] for c in stats.columns],
                  row.total, _round(row.share)] for row in table.rows]
        rows.append(["total", "合计", "Total", *[table.totals[c.id] for c in stats.columns],
                     table.total, 100.0 if table.total else None])
        _write(sheet, rows, header_rows=(1, 2, len(rows)),
               widths=(26, 24, 32, *[16] * len(stats.columns), 12, 12))
    sheet = workbook.create_sheet("机构 Orgs")
    org_rows: list[list[Cell]] = [
        ["分机构统计 By org", stats.period.label, stats.org.name],
        ["机构代码 Org code", "机构 Org", "Org (English)", "投诉量 Complaints",
         "千家网点投诉量 Per 1,000 outlets", "千万个人客户投诉量 Per 10 million individuals"],
    ]
    org_rows += [[row.org.code, row.org.label("zh"), row.org.label("en"), row.complaints,
                  _round(row.per_1k_outlets), _round(row.per_10m_individuals)]
                 for row in stats.orgs]
    org_rows.append([stats.org.code, "合计", "Total", stats.total, _round(stats.per_1k_outlets),
                     _round(stats.per_10m_individuals)])
    _write(sheet, org_rows, header_rows=(1, 2, len(org_rows)),
           widths=(16, 24, 28, 14, 22, 26))
    return _bytes(workbook)


# --- the annual disclosure -----------------------------------------------------------------------

def _share_sheet(workbook: Workbook, title: str, heading: str, rows: Sequence[ShareRow],
                 *, with_year_before: bool = True) -> None:
    sheet = workbook.create_sheet(title)
    header: list[Cell] = ["代码 Code", "名称 Name", "Name (English)", "投诉量 Complaints",
                          "占比% Share %"]
    if with_year_before:
        header += ["上年 Year before", "同比% Change %"]
    lines: list[list[Cell]] = [[heading], header]
    for row in rows:
        line: list[Cell] = [row.code, row.zh, row.en, row.count, _round(row.share)]
        if with_year_before:
            line += [row.year_before, _round(row.year_change_pct)]
        lines.append(line)
    _write(sheet, lines, header_rows=(1, 2), widths=(24, 26, 34, 14, 12, 14, 12))


def _figure_row(figure: KpiFigure) -> list[Cell]:
    return [figure.code, figure.zh, figure.en, _round(figure.value), figure.unit,
            _round(figure.year_before), _round(figure.year_change)]


def disclosure_workbook(disclosure: AnnualDisclosure) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "概况 Summary"
    rows: list[list[Cell]] = [
        [f"{disclosure.year}年度消费投诉情况 Consumer complaints in {disclosure.year}"],
        ["机构 Org", disclosure.org.code, disclosure.org.name, disclosure.org.en],
        ["统计标准 Standard", disclosure.standard, disclosure.taxonomy_version],
        ["投诉量 Complaints", disclosure.complaints],
        ["上年投诉量 Year before", _round(disclosure.total.year_before)],
        ["同比% Change on the year before %", _round(disclosure.year_change_pct)],
        [],
        ["指标 KPI", "名称 Name", "Name (English)", "数值 Value", "单位 Unit",
         "上年 Year before", "同比变化 Change"],
        *[_figure_row(f) for f in disclosure.handling],
    ]
    _write(summary, rows, header_rows=(1, 8), widths=(34, 20, 34, 12, 10, 14, 12))
    quarters = workbook.create_sheet("季度 Quarters")
    _write(quarters, [
        ["分季度投诉量 Complaints by quarter"],
        ["季度 Quarter", "投诉量 Complaints", "上季度 Previous quarter", "环比% QoQ %",
         "上年同期 Year before", "同比% YoY %"],
        *[[q.label, q.complaints, q.previous, _round(q.change_pct), q.year_before,
           _round(q.year_change_pct)] for q in disclosure.quarters],
    ], header_rows=(1, 2), widths=(14, 16, 22, 14, 20, 12))
    _share_sheet(workbook, "业务类别 Business", "按业务类别 By business type (JR/T 0169-2018)",
                 disclosure.by_business)
    _share_sheet(workbook, "地区 Regions", "按地区（机构） By region (org)", disclosure.by_region)
    _share_sheet(workbook, "投诉原因 Causes", "按投诉原因 By cause (JR/T 0169-2018)",
                 disclosure.by_cause)
    _share_sheet(workbook, "处理方式 Outcomes", "处理方式 How complaints were decided",
                 disclosure.outcomes, with_year_before=False)
    return _bytes(workbook)
