"""The appraisal input (every branch's scorecard for a month) as an XLSX workbook."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from bankvoc.core import tables
from bankvoc.people.scorecard import Scorecards
from bankvoc.people.weights import COMPONENTS


def appraisal_xlsx(cards: Scorecards) -> bytes:
    """One row per branch: its total, rank, and each component's raw and normalised value."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"appraisal {cards.month}"
    header = ["branch", "name", "total", "rank", "note"]
    for code in COMPONENTS:
        header += [f"{code} raw", f"{code} 0-100", f"{code} weight"]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for card in cards.cards:
        row: list[object] = [card.key, card.label,
                             None if card.total is None else round(card.total, 2), card.rank,
                             card.note]
        found = {c.code: c for c in card.components}
        for code in COMPONENTS:
            c = found.get(code)
            row += ([None, None, None] if c is None else
                    [None if c.raw is None else round(c.raw, 2),
                     None if c.normalised is None else round(c.normalised, 2),
                     round(c.applied, 2)])
        sheet.append(row)
        # Org and team names are the bank's to edit: one starting with = stays text.
        tables.neutralise_row(sheet[sheet.max_row])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
