"""The cases behind a figure as a spreadsheet: one row per case, personal data masked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bankvoc.cases.models import Case
from bankvoc.core import tables
from bankvoc.core.i18n import t
from bankvoc.core.timeutil import to_local
from bankvoc.nlp.taxonomy import load_taxonomy

COLUMNS = (  # (key, Chinese, English)
    ("reference", "受理编号", "Reference"), ("kind", "类型", "Kind"),
    ("received_at", "受理时间", "Received"), ("org", "机构", "Org"),
    ("channel", "渠道", "Channel"), ("product", "产品", "Product"),
    ("category", "问题类别", "Category"), ("severity", "等级", "Severity"),
    ("status", "状态", "Status"), ("due_at", "办结时限", "Due"),
    ("resolved_at", "办结时间", "Decided"), ("on_time", "按期", "On time"),
    ("customer", "客户（脱敏）", "Customer (masked)"), ("text", "诉求（脱敏）", "Text (masked)"),
)


def header(lang: str) -> list[str]:
    return [zh if lang == "zh" else en for _, zh, en in COLUMNS]


def rows(cases: Iterable[Case], *, lang: str, tz: ZoneInfo) -> Iterator[list[tables.Cell]]:
    taxonomy = load_taxonomy()

    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else to_local(moment, tz)

    for case in cases:
        product = taxonomy.product(case.product) if case.product else None
        category = taxonomy.category(case.category) if case.category else None
        on_time = (None if case.resolved_at is None or case.due_at is None
                   else case.resolved_at <= case.due_at)
        yield [
            case.reference, t(f"kind.{case.kind}", lang), local(case.received_at),
            case.org.name if lang == "zh" else (case.org.name_en or case.org.name),
            t(f"channel.{case.channel}", lang),
            product.label(lang) if product else case.product,
            category.label(lang) if category else case.category,
            t(f"severity.{case.severity}", lang), t(f"status.{case.status}", lang),
            local(case.due_at), local(case.resolved_at),
            None if on_time is None else (("是" if on_time else "否") if lang == "zh"
                                          else ("yes" if on_time else "no")),
            case.customer.name_masked if case.customer else None,
            case.text_masked,
        ]


def export(cases: Iterable[Case], *, fmt: str, lang: str, tz: ZoneInfo,
           title: str = "cases") -> bytes:
    return tables.table_bytes(fmt, header(lang), rows(cases, lang=lang, tz=tz), title=title)


def keys() -> Sequence[str]:
    return [key for key, _, _ in COLUMNS]
