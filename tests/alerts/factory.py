"""Generated cases for the early-warning tests: written straight to the case table (thousands
in a second), with the columns a scan reads."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case

TZ = ZoneInfo("Asia/Shanghai")
SCAN_DAY = date(2026, 11, 10)  # a Tuesday; its 8 weeks hold the National Day holiday
NOW = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)  # 09:00 the next morning in Shanghai
_serial = itertools.count(1)

# Everyday complaints, worded differently enough that no topic stands out.
QUIET_TEXTS = (
    "网点排队时间太长，等了一个多小时才办理业务", "柜员态度冷漠，问了几遍都不理睬",
    "手机银行登录总是失败，验证码收不到", "转账到账太慢，第二天才到",
    "信用卡账单金额和消费记录对不上", "理财产品收益和宣传的不一致",
    "贷款审批拖了很久没有结果", "自助取款机吞卡，联系不上工作人员",
    "存款利率调整没有提前通知", "外币兑换的汇率比别家高",
    "客服热线一直占线打不进去", "开户需要的材料前后说法不一",
)


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


def case_row(*, org_id: int, day: date, category: str | None = "service_attitude",
             product: str | None = "debit_card", text: str = "网点排队时间太长",
             kind: str = "complaint", status: str = "closed", hour: int = 10,
             **fields: Any) -> dict[str, Any]:
    n = next(_serial)
    received = fields.pop("received_at", local(day, hour))
    return {
        "reference": f"TS{day:%Y%m%d}{n:06d}", "kind": kind, "channel": "hotline",
        "status": status, "severity": "general", "sentiment": None, "org_id": org_id,
        "customer_id": None, "product": product, "category": category, "title": text[:50],
        "text_masked": text, "text_enc": "not-decrypted-in-these-tests",
        "text_hash": hashlib.sha256(f"{n}{text}".encode()).hexdigest(), "similar_key": None,
        "language": "zh", "currency": "CNY", "received_at": received,
        "merged_count": 0, "needs_review": False, "annotations": {},
        "created_at": received, "updated_at": received, "version": 1, **fields}


def add_cases(session: Session, rows: Iterable[dict[str, Any]]) -> list[int]:
    rows = list(rows)
    if rows:
        session.execute(insert(Case), rows)
    session.flush()
    references = [row["reference"] for row in rows]
    return list(session.scalars(select(Case.id).where(Case.reference.in_(references))
                                .order_by(Case.id)))


def quiet_month(org_ids: Iterable[int], *, seed: int = 0, days: int = 57,
                last: date = SCAN_DAY, workday_rate: float = 4.0,
                rest_rate: float = 1.0) -> list[dict[str, Any]]:
    """Poisson counts with the working-week pattern (holidays are rest days) per org and two
    categories, over `days` days ending with `last`."""
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(days):
        day = last - timedelta(days=days - 1 - offset)
        rate = workday_rate if chinese_calendar.is_workday(day) else rest_rate
        for org_id in org_ids:
            for category in ("service_attitude", "business_error"):
                for i in range(int(rng.poisson(rate))):
                    first, second = rng.choice(len(QUIET_TEXTS), size=2, replace=False)
                    text = f"{QUIET_TEXTS[first]}；另外{QUIET_TEXTS[second]}"
                    rows.append(case_row(org_id=org_id, day=day, category=category,
                                         text=text, hour=9 + i % 8))
    return rows
