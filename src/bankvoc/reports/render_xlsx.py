"""The monthly report as an Excel workbook (openpyxl): one sheet per section, with native Excel
charts (a pie and a bar of the category share, lines of the trends, bars of products, channels
and orgs) over the sheet's own cells, so they stay live when an analyst edits the numbers.

Texts are the report's, masked already. Guard against formula injection (CSV/Excel injection,
OWASP): a text beginning with = + - @ (or a tab or carriage return) is written as a string
with Excel's quote prefix, never as a formula.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bankvoc.core.i18n import t
from bankvoc.reports.labels import label
from bankvoc.reports.monthly import KpiLine, MonthlyReport, Outcome, Share, TypicalCase

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="EEF2F7")
BOLD = Font(bold=True)
PERCENT_FORMAT = "0.0%"
NUMBER_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
MAX_SHEET_TITLE = 31


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one cell; a text that Excel would take for a formula stays text."""
    cell: Cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        if value.startswith(FORMULA_STARTS):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for column, title in enumerate(titles, start=1):
        cell = put(ws, row, column, title)
        cell.font, cell.fill = BOLD, HEADER_FILL


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = width


def _sheet(wb: Workbook, key: str, lang: str) -> Worksheet:
    ws: Worksheet = wb.create_sheet(label(key, lang)[:MAX_SHEET_TITLE])
    return ws


def _number_format(unit: str) -> str:
    return COUNT_FORMAT if unit == "count" else NUMBER_FORMAT


def _kpi_rows(ws: Worksheet, start: int, lines: list[KpiLine], lang: str) -> int:
    def L(key: str) -> str:
        return label(key, lang)

    _header(ws, start, [L("kpi"), "code", L("value"), L("previous"), L("change"),
                        L("year_before"), L("year_change"), L("target"), L("met"),
                        L("numerator"), L("denominator"), L("formula")])
    row = start
    for line in lines:
        row += 1
        met = (None if line.met is None
               else L("status_met") if line.met else L("status_missed"))
        values: list[Any] = [line.label, line.code, line.value, line.previous, line.change,
                             line.year_before, line.year_change, line.target, met,
                             line.numerator, line.denominator, line.formula]
        for column, value in enumerate(values, start=1):
            cell = put(ws, row, column, value)
            if 3 <= column <= 8 or column in (10, 11):
                cell.number_format = _number_format(line.unit)
    return row


def _share_rows(ws: Worksheet, start: int, shares: list[Share], title: str, lang: str,
                previous: bool = False) -> int:
    def L(key: str) -> str:
        return label(key, lang)

    titles = [title, "code", L("count"), L("share")] + ([L("previous_count")] if previous else [])
    _header(ws, start, titles)
    row = start
    for share in shares:
        row += 1
        put(ws, row, 1, share.label)
        put(ws, row, 2, share.key)
        put(ws, row, 3, share.count).number_format = COUNT_FORMAT
        put(ws, row, 4, share.share).number_format = PERCENT_FORMAT
        if previous:
            put(ws, row, 5, share.previous).number_format = COUNT_FORMAT
    return row


def _bar(title: str, ws: Worksheet, first: int, last: int, *, value_column: int = 3,
         horizontal: bool = True) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.legend = None
    chart.add_data(Reference(ws, min_col=value_column, min_row=first - 1, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = max(6.0, 0.8 * (last - first + 1) + 3), 16.0
    return chart


def render_xlsx(report: MonthlyReport) -> bytes:
    lang = report.lang
    def L(key: str) -> str:
        return label(key, lang)

    wb = Workbook()
    ws: Worksheet = wb.active
    ws.title = L("sheet_kpis")[:MAX_SHEET_TITLE]
    put(ws, 1, 1, report.title).font = Font(bold=True, size=14)
    put(ws, 2, 1, f"{L('org')}: {report.org_name} ({report.org_code})")
    put(ws, 3, 1, f"{L('period')}: {report.period} ({report.start.isoformat()} – "
                  f"{report.end.isoformat()})")
    put(ws, 4, 1, L("masked_note"))
    row = _kpi_rows(ws, 6, report.headline, lang)
    put(ws, row + 2, 1, L("satisfaction")).font = BOLD
    _kpi_rows(ws, row + 3, report.satisfaction, lang)
    _widths(ws, [26, 26, 12, 12, 12, 12, 12, 10, 10, 12, 12, 50])

    if report.month_columns:
        ws = _sheet(wb, "sheet_months", lang)
        _header(ws, 1, [L("kpi"), "code", *report.months])
        for index, kpi_column in enumerate(report.month_columns, start=2):
            put(ws, index, 1, kpi_column.label)
            put(ws, index, 2, kpi_column.code)
            for offset, value in enumerate(kpi_column.values, start=3):
                put(ws, index, offset, value).number_format = _number_format(kpi_column.unit)
        _widths(ws, [26, 26, 12, 12, 12])

    ws = _sheet(wb, "sheet_categories", lang)
    last = _share_rows(ws, 1, report.categories, L("category"), lang, previous=True)
    _widths(ws, [24, 22, 10, 10, 12])
    if report.categories:
        pie = PieChart()
        pie.title = L("categories")
        pie.add_data(Reference(ws, min_col=3, min_row=1, max_row=last), titles_from_data=True)
        pie.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
        pie.height, pie.width = 8.0, 14.0
        ws.add_chart(pie, "G2")
        ws.add_chart(_bar(L("categories"), ws, 2, last, value_column=4), "G20")

    ws = _sheet(wb, "sheet_trends", lang)
    trends = report.trends
    _header(ws, 1, [L("month"), *[s.label for s in trends.series]])
    for index, month in enumerate(trends.months, start=2):
        put(ws, index, 1, month)
        for column, series in enumerate(trends.series, start=2):
            put(ws, index, column, series.points[index - 2]).number_format = _number_format(
                series.unit)
    _widths(ws, [10] + [14] * len(trends.series))
    if trends.months:
        end = len(trends.months) + 1
        months = Reference(ws, min_col=1, min_row=2, max_row=end)
        anchor = 2
        for codes, title in ((("complaints",), L("complaints")),
                             (("on_time_rate", "resolution_rate", "csat", "callback_rate"),
                              L("trends"))):
            line = LineChart()
            line.title = title
            line.height, line.width = 7.5, 18.0
            for column, series in enumerate(trends.series, start=2):
                if series.code in codes:
                    line.add_data(Reference(ws, min_col=column, min_row=1, max_row=end),
                                  titles_from_data=True)
            line.set_categories(months)
            ws.add_chart(line, f"{ws.cell(row=1, column=len(trends.series) + 3).column_letter}"
                               f"{anchor}")
            anchor += 16

    ws = _sheet(wb, "sheet_breakdowns", lang)
    last = _share_rows(ws, 1, report.products, L("product"), lang)
    if report.products:
        ws.add_chart(_bar(L("product"), ws, 2, last), "G2")
    second = last + 3
    last2 = _share_rows(ws, second, report.channels, L("channel"), lang)
    if report.channels:
        ws.add_chart(_bar(L("channel"), ws, second + 1, last2), "G20")
    _widths(ws, [24, 22, 10, 10])

    if report.orgs:
        ws = _sheet(wb, "sheet_orgs", lang)
        _header(ws, 1, [L("org"), L("code"), *[title for _, title, _ in report.org_kpis]])
        for index, org in enumerate(report.orgs, start=2):
            put(ws, index, 1, org.name)
            put(ws, index, 2, org.code)
            for column, (code, _, unit) in enumerate(report.org_kpis, start=3):
                put(ws, index, column, org.values.get(code)).number_format = _number_format(
                    unit)
        ws.add_chart(_bar(L("orgs"), ws, 2, len(report.orgs) + 1), "H2")
        _widths(ws, [22, 10, 12, 14, 14, 12])

    ws = _sheet(wb, "sheet_hot", lang)
    _header(ws, 1, [L("issue"), L("org"), L("days"), L("observed"), L("expected"),
                    L("ratio"), L("reference"), L("typical")])
    row = 1
    for issue in report.hot_issues:
        cases: list[TypicalCase | None] = list(issue.typical) or [None]
        for case in cases:
            row += 1
            values: list[Any] = [issue.label, issue.org or "—", issue.days, issue.observed,
                                 issue.expected, issue.ratio,
                                 case.reference if case else None, case.text if case else None]
            for column, value in enumerate(values, start=1):
                put(ws, row, column, value)
    if report.alert_counts:
        row += 2
        put(ws, row, 1, L("alerts_other")).font = BOLD
        for kind, count in report.alert_counts.items():
            row += 1
            put(ws, row, 1, t(f"alert_kind.{kind}", lang))
            put(ws, row, 2, count)
    _widths(ws, [28, 10, 10, 12, 10, 8, 18, 70])

    ws = _sheet(wb, "sheet_problems", lang)
    row = 1
    for key, lines, section in (("new_problems", report.new_problems, report.problems_section),
                                ("recurring_problems", report.recurring_problems,
                                 report.problems_section)):
        put(ws, row, 1, L(key)).font = BOLD
        row += 1
        if not section.available or not lines:
            put(ws, row, 1, section.note or L("no_data"))
            row += 2
            continue
        _header(ws, row, [L("code"), L("problem"), L("status"), L("cases"), L("reasons")])
        for line in lines:
            row += 1
            cells: list[Any] = [line.code, line.title, line.status, line.cases,
                                "; ".join(line.reasons)]
            for column, content in enumerate(cells, start=1):
                put(ws, row, column, content)
        row += 2
    put(ws, row, 1, L("actions")).font = BOLD
    row += 1
    if not report.actions_section.available or not report.actions:
        put(ws, row, 1, report.actions_section.note or L("no_data"))
    else:
        _header(ws, row, [L("code"), L("action"), L("status"), L("started_on"), L("pilots"),
                          L("cost"), L("outcome"), L("before_after"), L("did"),
                          "CI low", "CI high", L("p_value"), L("reliable"), L("note")])
        for action in report.actions:
            outcomes: list[Outcome | None] = list(action.outcomes) or [None]
            for outcome in outcomes:
                row += 1
                base: list[Any] = [action.problem, action.title, action.status,
                                   action.started_on.isoformat() if action.started_on else None,
                                   ", ".join(action.pilots), action.cost]
                if outcome is None:
                    extra: list[Any] = [None] * 7 + [action.note]
                else:
                    before_after = (None if not outcome.measured else
                                    f"{outcome.pilot_before} → {outcome.pilot_after}")
                    extra = [outcome.label, before_after, outcome.did, outcome.ci_low,
                             outcome.ci_high, outcome.p_value,
                             L("yes") if outcome.reliable else L("no"),
                             "; ".join(outcome.notes)]
                for column, value in enumerate(base + extra, start=1):
                    put(ws, row, column, value)
    _widths(ws, [14, 30, 10, 12, 14, 12, 22, 16, 10, 10, 10, 8, 8, 60])

    ws = _sheet(wb, "sheet_suggestions", lang)
    put(ws, 1, 1, L("suggestion_count"))
    put(ws, 1, 2, report.suggestion_count)
    _header(ws, 3, [L("reference"), L("text")])
    for index, suggestion in enumerate(report.suggestions, start=4):
        put(ws, index, 1, suggestion.reference)
        put(ws, index, 2, suggestion.text).alignment = Alignment(wrap_text=True)
    _widths(ws, [20, 90])

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
