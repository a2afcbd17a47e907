"""The KPI registry: each KPI defined once (formula, numerator, denominator, which cases), read by
the API, the screens and the reports alike.

A KPI is a ratio of two sums of roll-up measures (`analytics.measures`), times a scale:
`value = scale × Σ numerator ÷ Σ denominator`. A count has no denominator; a rate per customers
or outlets divides by an imported denominator (`org_month_stat`, averaged over the months of the
period, since customers and outlets are stocks, not flows). `kinds` says which cases count:
complaint KPIs count complaints (投诉) only, satisfaction counts every answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bankvoc.cases.enums import CaseKind
from bankvoc.core.errors import Invalid

COMPLAINTS = (CaseKind.complaint.value,)
SATISFACTION = ("*",)  # every kind, stand-alone surveys included

Unit = Literal["count", "percent", "days", "score", "per_10k", "per_1k", "per_10m"]
Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Kpi:
    code: str
    zh: str
    en: str
    formula_zh: str
    formula_en: str
    numerator: tuple[str, ...]  # measures summed (a difference when `minus` is set)
    denominator: str | None  # a measure, or `stat:<column>` of org_month_stat
    unit: Unit
    better: Better
    kinds: tuple[str, ...] = COMPLAINTS
    scale: float = 1.0
    minus: tuple[str, ...] = ()  # measures subtracted from the numerator (NPS)
    drill: str = "all"  # which of the period's cases a drill-down lists: all | decided | answered

    def label(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en

    def formula(self, lang: str) -> str:
        return self.formula_zh if lang.startswith("zh") else self.formula_en

    @property
    def needs_stat(self) -> bool:
        return bool(self.denominator and self.denominator.startswith("stat:"))

    @property
    def measures(self) -> tuple[str, ...]:
        denominator = (self.denominator,) if self.denominator and not self.needs_stat else ()
        return (*self.numerator, *self.minus, *denominator)


REGISTRY: dict[str, Kpi] = {kpi.code: kpi for kpi in (
    Kpi("complaints", "投诉量", "Complaints", "投诉件数", "number of complaints received",
        ("cases",), None, "count", "lower"),
    Kpi("complaint_rate", "投诉率", "Complaint rate", "投诉客户数 ÷ 客户总数",
        "complaining customers ÷ all customers", ("complainants",), "stat:customers",
        "percent", "lower", scale=100.0),
    Kpi("complaints_per_10k_customers", "万人投诉量", "Complaints per 10,000 customers",
        "投诉件数 ÷ 客户数 × 10,000", "complaints ÷ customers × 10,000", ("cases",),
        "stat:customers", "per_10k", "lower", scale=10_000.0),
    Kpi("complaints_per_1k_outlets", "千家网点投诉量", "Complaints per 1,000 outlets",
        "投诉件数 ÷ 网点数 × 1,000", "complaints ÷ outlets × 1,000", ("cases",),
        "stat:outlets", "per_1k", "lower", scale=1_000.0),
    Kpi("complaints_per_10m_individuals", "千万个人客户投诉量",
        "Complaints per 10 million individual customers", "投诉件数 ÷ 个人客户数 × 10,000,000",
        "complaints ÷ individual customers × 10,000,000", ("cases",),
        "stat:individual_customers", "per_10m", "lower", scale=10_000_000.0),
    Kpi("decision_days", "平均办结时长", "Receipt-to-decision days",
        "已办结投诉自受理至办结天数之和 ÷ 已办结件数",
        "days from receipt to decision, summed over decided complaints ÷ decided complaints",
        ("decision_days",), "decided", "days", "lower", drill="decided"),
    Kpi("on_time_rate", "按时办结率", "On-time rate", "按期办结件数 ÷ 已办结件数",
        "complaints decided by their due date ÷ decided complaints", ("on_time",), "decided",
        "percent", "higher", scale=100.0, drill="decided"),
    Kpi("resolution_rate", "办结率", "Resolution rate", "已办结件数 ÷ 投诉件数",
        "decided complaints ÷ complaints", ("decided",), "cases", "percent", "higher",
        scale=100.0),
    Kpi("reopen_rate", "重启率", "Reopen rate", "重新处理件数 ÷ 已办结件数",
        "complaints reopened after a decision ÷ decided complaints", ("reopened",), "decided",
        "percent", "lower", scale=100.0, drill="decided"),
    Kpi("repeat_rate", "重复投诉率", "Repeat-complaint rate",
        "30 天内同一客户再次投诉件数 ÷ 投诉件数",
        "complaints by a customer who complained in the 30 days before ÷ complaints",
        ("repeats",), "cases", "percent", "lower", scale=100.0),
    Kpi("escalations", "升级件数", "Escalations", "超时升级的投诉件数",
        "complaints escalated up the chain", ("escalated",), None, "count", "lower"),
    Kpi("regulator_transfers", "监管转办件数", "Regulator transfers",
        "监管转办投诉件数（金融监管总局、人民银行、12378）",
        "complaints transferred by a regulator (NFRA, PBoC, 12378)", ("regulator",), None,
        "count", "lower"),
    Kpi("callback_rate", "回访率", "Callback rate", "已回访件数 ÷ 已办结件数",
        "decided complaints called back ÷ decided complaints", ("called_back",), "decided",
        "percent", "higher", scale=100.0, drill="decided"),
    Kpi("csat", "满意度", "Satisfaction (CSAT)", "满意（4–5 分）评价数 ÷ 评价总数",
        "satisfied answers (4–5 of 5) ÷ answers", ("csat_satisfied",), "csat_answers",
        "percent", "higher", kinds=SATISFACTION, scale=100.0, drill="answered"),
    Kpi("nps", "净推荐值", "Net Promoter Score", "(推荐者 − 贬损者) ÷ 评分数 × 100",
        "(promoters − detractors) ÷ NPS answers × 100", ("promoters",), "nps_answers",
        "score", "higher", kinds=SATISFACTION, scale=100.0, minus=("detractors",),
        drill="answered"),
    Kpi("first_contact_resolution", "首次解决率", "First-contact resolution",
        "一日内办结且未转办、未重启件数 ÷ 投诉件数",
        "complaints decided within a day, never transferred or reopened ÷ complaints",
        ("first_contact",), "cases", "percent", "higher", scale=100.0),
)}


def get_kpi(code: str) -> Kpi:
    try:
        return REGISTRY[code]
    except KeyError:
        raise Invalid(f"unknown KPI {code!r}; known: {', '.join(REGISTRY)}",
                      field="kpi") from None
