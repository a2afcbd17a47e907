"""The report's files: rendering to the formats asked for and writing them to a folder."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bankvoc.core.errors import Invalid
from bankvoc.reports.monthly import MonthlyReport
from bankvoc.reports.render_html import render_html
from bankvoc.reports.render_pdf import render_pdf
from bankvoc.reports.render_xlsx import render_xlsx

FORMATS = ("html", "pdf", "xlsx")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def parse_formats(text: str | Iterable[str]) -> list[str]:
    """`html,pdf,xlsx` (any order, any subset) → the formats, each once, in that order."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    wanted = {part.strip().lower() for part in parts if part.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise Invalid(f"format: {', '.join(unknown) or 'none given'}; one or more of "
                      f"{', '.join(FORMATS)}", field="format")
    return [f for f in FORMATS if f in wanted]


def file_stem(report: MonthlyReport) -> str:
    period = re.sub(r"[^0-9A-Za-z-]+", "_", report.period)
    org = re.sub(r"[^0-9A-Za-z_-]+", "_", report.org_code)
    suffix = "" if report.lang == "zh" else f"-{report.lang}"
    return f"voc-{report.kind}-{period}-{org}{suffix}"


def render(report: MonthlyReport, fmt: str) -> bytes:
    """The report in one format."""
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(report)
    if fmt == "xlsx":
        return render_xlsx(report)
    raise Invalid(f"format: {fmt!r} is not one of {', '.join(FORMATS)}", field="format")


def render_all(report: MonthlyReport, formats: Iterable[str]) -> dict[str, bytes]:
    """Each format asked for; the page is rendered once for HTML and PDF alike."""
    found: dict[str, bytes] = {}
    html: str | None = None
    for fmt in formats:
        if fmt in ("html", "pdf") and html is None:
            html = render_html(report)
        if fmt == "html":
            assert html is not None
            found[fmt] = html.encode("utf-8")
        elif fmt == "pdf":
            found[fmt] = render_pdf(report, html=html)
        else:
            found[fmt] = render(report, fmt)
    return found


def write_files(report: MonthlyReport, formats: Iterable[str], folder: Path) -> list[Path]:
    """Write the report to `folder` in each format; each file appears whole or not at all
    (written aside, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, content in render_all(report, formats).items():
        target = folder / f"{file_stem(report)}.{fmt}"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".report-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
