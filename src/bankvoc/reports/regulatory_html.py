"""The annual consumer-complaint disclosure as one self-contained HTML page (a packaged Jinja2
template, autoescaped; inline styles, no external resource, so it reads the same offline)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from jinja2 import Environment, Template

from bankvoc.reports.regulatory import AnnualDisclosure

TEMPLATE = "templates/regulatory/disclosure.html"


@lru_cache(maxsize=1)
def _template() -> Template:
    source = resources.files("bankvoc.reports").joinpath(TEMPLATE).read_text("utf-8")
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    return env.from_string(source)


def _num(value: float | None, digits: int = 1) -> str:
    """A figure as shown: — when unknown, whole numbers without decimals."""
    if value is None:
        return "—"
    if float(value).is_integer() and digits <= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def disclosure_html(disclosure: AnnualDisclosure) -> str:
    return _template().render(d=disclosure)
