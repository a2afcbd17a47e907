from __future__ import annotations

from decimal import Decimal

import pytest

from bankvoc.nlp.grading import grade


class TestGrade:
    def test_plain_complaint_is_general_with_no_reasons(self) -> None:
        result = grade("网点排队时间有点长", amount=None)
        assert (result.severity, result.reasons) == ("general", [])

    @pytest.mark.parametrize(("amount", "severity"), [
        (Decimal("49999"), "general"), (Decimal("50000"), "important"),
        (Decimal("500000"), "urgent"), (Decimal("5000000"), "major"),
    ])
    def test_amount_thresholds(self, amount: Decimal, severity: str) -> None:
        assert grade("转账问题", amount=amount).severity == severity

    @pytest.mark.parametrize("text", [
        "再不处理我就打12378", "我要找媒体曝光", "我已经请了律师准备起诉", "I will sue the bank",
        "I complained to the CFPB"])
    def test_threats_to_escalate_make_it_urgent_with_the_reason(self, text: str) -> None:
        result = grade(text, amount=None)
        assert result.severity == "urgent"
        assert "escalate" in result.reasons[0]

    @pytest.mark.parametrize("text", ["我的电话是13812345678", "this issue needs courtesy",
                                      "属于个人行为", "an intermediary bank"])
    def test_lookalikes_do_not_escalate(self, text: str) -> None:
        assert grade(text, amount=None).severity == "general"

    def test_vulnerable_customer_is_important(self) -> None:
        result = grade("我家老人在柜台被推销理财", amount=None)
        assert result.severity == "important"
        assert "vulnerable" in result.reasons[0]

    def test_the_highest_reason_wins_and_all_reasons_are_kept(self) -> None:
        result = grade("老人被骗了，太过分了，我要报警", amount=Decimal("60000"))
        assert result.severity == "urgent"
        assert len(result.reasons) == 4
