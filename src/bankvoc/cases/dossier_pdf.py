"""The dossier as a PDF: HTML from a packaged template, laid out by WeasyPrint.

Chinese first with English beside it. The fonts are the machine's, found by fontconfig (Noto
Sans CJK SC from Debian's fonts-noto-cjk), and embedded in the PDF as subsets; nothing is
fetched while rendering: the template has no external resources and the URL fetcher refuses
every scheme but inline `data:`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, Template
from markupsafe import Markup, escape

from bankvoc.cases.dossier import Dossier, OrgRef
from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import to_local

# What the template's `details()` shows of an event's data, at most.
DETAILS_MAX = 600


@lru_cache(maxsize=1)
def _template() -> Template:
    source = resources.files("bankvoc.cases").joinpath("templates/dossier.html").read_text(
        "utf-8")
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(source)


def _zh(key: str) -> str:
    return t(f"dossier.{key}", "zh")


def _en(key: str) -> str:
    return t(f"dossier.{key}", "en")


def _label(key: str) -> Markup:
    """A dossier label: Chinese, then English beside it."""
    return _pair(f"dossier.{key}")


def _pair(key: str) -> Markup:
    zh, en = t(key, "zh"), t(key, "en")
    if zh == en:
        return Markup("{}").format(zh)
    return Markup('{} <span class="en">{}</span>').format(zh, en)


def _code(namespace: str, value: str | None) -> Markup:
    """A coded value (status, channel, …) by its bilingual label, else as stored."""
    if value is None:
        return Markup("—")
    return _pair(f"{namespace}.{value}")


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    return to_local(moment, get_settings().tz).strftime("%Y-%m-%d %H:%M")


def _money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else f"{amount:,.2f} {currency}"


def _org(org: OrgRef | None) -> str:
    if org is None:
        return "—"
    return f"{org.name} ({org.code})"


def _details(data: dict[str, Any]) -> Markup:
    """An event's data in a line: key: value pairs, long values cut."""
    parts = []
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        shown = value if isinstance(value, str) else json.dumps(
            value, ensure_ascii=False, default=str, sort_keys=True)
        parts.append(Markup("<b>{}</b>: {}").format(key, shown))
    joined = Markup("; ").join(parts)
    if len(joined) > DETAILS_MAX:
        return escape(str(joined.striptags())[:DETAILS_MAX] + "…")
    return joined


def render_html(dossier: Dossier) -> str:
    return _template().render(d=dossier, L=_label, zh=_zh, en=_en, code=_code, when=_when,
                              money=_money, org=_org, details=_details)


def render_pdf(dossier: Dossier) -> bytes:
    """The dossier as PDF bytes (A4, CJK fonts embedded)."""
    # Imported here: WeasyPrint (and its Pango bindings) takes a moment to load, and only this
    # export needs it.
    from weasyprint import HTML, URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=["data"])
    pdf = HTML(string=render_html(dossier), url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
