"""The monthly report as a PDF: the very HTML page (render_html.py) laid out by WeasyPrint, as
the case dossier is (cases/dossier_pdf.py).

The fonts are the machine's, found by fontconfig (Noto Sans CJK SC from Debian's
fonts-noto-cjk), and embedded in the PDF as subsets, so it reads the same on any machine. The
charts are inline SVG drawn on the server (WeasyPrint runs no JavaScript). Nothing is fetched:
the page has no external resource and the URL fetcher refuses every scheme but `data:`.
"""

from __future__ import annotations

from bankvoc.reports.monthly import MonthlyReport
from bankvoc.reports.render_html import render_html


def render_pdf(report: MonthlyReport, *, html: str | None = None) -> bytes:
    """PDF bytes (A4, CJK fonts embedded); `html` when the page is rendered already."""
    # Imported here: WeasyPrint (and its Pango bindings) takes a moment to load.
    from weasyprint import HTML, URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=["data"])
    pdf = HTML(string=html if html is not None else render_html(report),
               url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
