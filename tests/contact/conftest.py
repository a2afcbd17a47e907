"""Interactions written compactly: (speaker, start s, end s, text) per turn."""

from __future__ import annotations

from typing import Any

from bankvoc.contact.schemas import Interaction

A, C = "agent", "customer"
Spec = tuple[str, float, float, str]

# A clean call under the shipped rules: greeting, identity check before the balance, a look-up
# announced as a hold and its result, a closing; ordinary pauses and speech rates.
CLEAN: list[Spec] = [
    (A, 0.0, 6.0, "您好，工号1234为您服务，请问有什么可以帮您？"),  # 21 characters: 210 a minute
    (C, 7.0, 10.0, "你好，我想查一下卡里的余额。"),
    (A, 11.0, 17.0, "好的，需要先核实一下您的身份，请提供身份证后四位。"),  # 22: 220
    (C, 18.0, 19.5, "后四位是1234。"),
    (A, 20.0, 28.0, "好的，您账户的余额是3,500元。我帮您查一下最近的交易，请您稍等。"),  # 29: 217.5
    (A, 53.0, 59.0, "让您久等了，查询到最近一笔是3号的工资入账。"),  # 25 s on hold; 20: 200
    (C, 60.0, 61.5, "好的，谢谢你。"),
    (A, 62.0, 67.0, "不客气，感谢您的来电，祝您生活愉快，再见！"),  # 17: 204
]


def record(turns: list[Spec], **fields: Any) -> dict[str, Any]:
    return {"id": fields.pop("id", "CALL-1"), "agent": "A1001", "queue": "借记卡",
            "product": fields.pop("product", "debit_card"), "started_at": "2026-03-02T01:00:00Z",
            "turns": [{"speaker": s, "start_ms": round(a * 1000), "end_ms": round(b * 1000),
                       "text": t} for s, a, b, t in turns], **fields}


def call(turns: list[Spec], **fields: Any) -> Interaction:
    return Interaction.model_validate(record(turns, **fields))
