"""Each intake stage on its own: what it sets, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bankvoc.core.settings import get_settings
from bankvoc.intake import stages
from bankvoc.intake.context import OrgDirectory, OrgRef, StageContext
from bankvoc.intake.draft import Draft, Outcome, new_draft
from bankvoc.orgs.service import Actor

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
ORGS = OrgDirectory({
    "HQ": OrgRef(1, "HQ", "/1/"), "总行": OrgRef(1, "HQ", "/1/"),
    "BJ": OrgRef(2, "BJ", "/1/2/"), "SH": OrgRef(3, "SH", "/1/3/"),
})


def context(org_path: str = "/1/", **overrides: Any) -> StageContext:
    actor = Actor(user_id=7, username="tester", org_id=int(org_path.strip("/").split("/")[-1]),
                  org_path=org_path, roles=frozenset({"handler"}))
    fields: dict[str, Any] = {"actor": actor, "settings": get_settings(), "orgs": ORGS,
                              "now": NOW, "source_system": "test", **overrides}
    return StageContext(**fields)


def prepared(raw: dict[str, Any], ctx: StageContext | None = None,
             upto: stages.Stage = stages.SET_SLA) -> Draft:
    """A draft run through the pure stages up to and including `upto`."""
    ctx = ctx or context()
    draft = new_draft(2, raw)
    for stage in stages.PURE_STAGES:
        if draft.outcome in stage.outcomes:
            stage.run(draft, ctx)
        if stage is upto:
            break
    return draft


class TestValidate:
    def test_sets_typed_fields_and_defaults(self) -> None:
        draft = prepared({"text": "网点排队太久", "received_at": "2026-11-19 09:30",
                          "channel": "网点", "amount": "1,200"}, upto=stages.VALIDATE)
        assert (draft.kind, draft.channel, str(draft.amount)) == ("complaint", "branch", "1200.00")
        assert draft.received_at == datetime(2026, 11, 19, 1, 30, tzinfo=UTC)
        assert draft.org_id == 1
        assert draft.source_id.startswith("sha256:")

    def test_the_default_channel_fills_a_gap(self) -> None:
        draft = prepared({"text": "x"}, context(default_channel="wechat"), upto=stages.VALIDATE)
        assert draft.channel == "wechat"

    def test_without_a_receipt_time_it_is_received_now(self) -> None:
        assert prepared({"text": "x"}, upto=stages.VALIDATE).received_at == NOW

    def test_api_calls_without_an_id_get_a_unique_one(self) -> None:
        ctx = context(implicit_source_id="unique")
        first = prepared({"text": "x"}, ctx, upto=stages.VALIDATE)
        second = prepared({"text": "x"}, ctx, upto=stages.VALIDATE)
        assert first.source_id != second.source_id

    @pytest.mark.parametrize(("raw", "field", "reason"), [
        ({"text": "x", "received_at": (NOW + timedelta(hours=1)).isoformat()}, "received_at",
         "is in the future"),
        ({"text": "x", "org": "GZ"}, "org", "unknown org 'GZ'"),
        ({"text": "x" * 20_001}, "text", "is longer than 20000 characters"),
        ({"text": "x", "kind": "rant"}, "kind", "unknown kind 'rant'"),
    ])
    def test_refuses_naming_the_field(self, raw: dict[str, Any], field: str, reason: str) -> None:
        draft = prepared(raw, upto=stages.VALIDATE)
        assert draft.outcome == Outcome.REJECTED
        assert draft.error_field == field
        assert draft.error is not None
        assert draft.error.startswith(reason)

    def test_an_org_outside_the_actors_subtree_is_refused(self) -> None:
        draft = prepared({"text": "x", "org": "SH"}, context("/1/2/"), upto=stages.VALIDATE)
        assert (draft.error_field, draft.error) == ("org", "org 'SH' is outside your scope")

    def test_an_org_may_be_named(self) -> None:
        assert prepared({"text": "x", "org": "总行"}, upto=stages.VALIDATE).org_id == 1


class TestNormalise:
    def test_folds_white_space_and_detects_the_language(self) -> None:
        draft = prepared({"text": "  卡被  吞了\n\n请处理 "}, upto=stages.NORMALISE)
        assert (draft.text, draft.language) == ("卡被 吞了 请处理", "zh")
        assert prepared({"text": "My card was eaten"}, upto=stages.NORMALISE).language == "en"

    def test_the_text_key_ignores_width_case_and_punctuation(self) -> None:
        one = prepared({"text": "ＡＴＭ吞卡了！"}, upto=stages.NORMALISE)
        two = prepared({"text": "atm 吞卡了"}, upto=stages.NORMALISE)
        assert one.text_hash == two.text_hash


class TestProtectPii:
    def test_masks_the_text_and_encrypts_the_original(self) -> None:
        draft = prepared({"text": "请回电13912345678，卡号6222021234567890123"},
                         upto=stages.PROTECT_PII)
        assert "13912345678" not in draft.text_masked
        assert "139****5678" in draft.text_masked
        assert draft.text_enc.startswith("t1:")
        assert draft.annotations["pii"].value == ["mobile"]

    def test_the_title_is_cut_from_the_masked_text(self) -> None:
        draft = prepared({"text": "我的电话13912345678打不通。后面还有话"}, upto=stages.PROTECT_PII)
        assert draft.title == "我的电话139****5678打不通"

    def test_identity_fields_become_ciphertexts_indexes_and_masks(self) -> None:
        draft = prepared({"text": "x", "customer_name": "李雷", "customer_phone": "13912345678"},
                         upto=stages.PROTECT_PII)
        assert draft.identity is not None
        assert (draft.identity.name_masked, draft.identity.phone_masked) == ("李*", "139****5678")
        assert draft.identity.key == draft.identity.phone_bidx


class TestClassify:
    def test_keywords_choose_product_and_category_with_their_words(self) -> None:
        draft = prepared({"text": "信用卡年费乱收费"}, upto=stages.CLASSIFY)
        assert (draft.product, draft.category) == ("credit_card", "fee_dispute")
        assert "年费" in draft.annotations["category"].reason

    def test_a_given_taxonomy_value_wins_with_full_confidence(self) -> None:
        draft = prepared({"text": "信用卡年费乱收费", "product": "理财与代销"},
                         upto=stages.CLASSIFY)
        assert draft.product == "wealth"
        assert draft.annotations["product"].confidence == 1.0

    def test_an_unknown_given_value_is_kept_in_the_reason(self) -> None:
        draft = prepared({"text": "信用卡年费", "product": "黄金"}, upto=stages.CLASSIFY)
        assert draft.product == "credit_card"
        assert "'黄金' is not in the taxonomy" in draft.annotations["product"].reason


class TestGrade:
    def test_records_the_severity_and_its_reasons(self) -> None:
        draft = prepared({"text": "不解决我就去12378投诉", "amount": "80000"}, upto=stages.GRADE)
        assert draft.severity == "urgent"
        assert "12378" in draft.annotations["severity"].reason

    def test_a_given_severity_is_kept(self) -> None:
        assert prepared({"text": "x", "severity": "重大"}, upto=stages.GRADE).severity == "major"


class TestSetSla:
    def test_complaints_are_due_fifteen_days_after_receipt(self) -> None:
        draft = prepared({"text": "x", "received_at": "2026-11-05 10:00"})
        # last day Friday 20 Nov; the period ends at 24:00 Shanghai time
        assert draft.due_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)

    def test_praise_has_no_deadline(self) -> None:
        assert prepared({"text": "谢谢", "kind": "表扬"}).due_at is None
