"""The intake pipeline as the services expose it: one record, or a batch of raw records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.errors import Forbidden
from bankvoc.customers.models import Customer
from bankvoc.customers.service import current_keyring
from bankvoc.intake import service
from bankvoc.intake.draft import Draft, Outcome
from bankvoc.intake.models import IntakeRecord
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp import model_store
from bankvoc.nlp.classifier import TextClassifier
from bankvoc.nlp.sentiment import TrainedSentiment
from tests.conftest import World

TEXT = "信用卡年费被多扣了200元，客服态度很差"


def _many(world: World, rows: list[dict[str, Any]], user: str = "hq_admin") -> list[Draft]:
    return service.register_many(
        world.session,
        actor=world.actor(user),
        records=list(enumerate(rows, start=2)),
        source_system="test",
    )


def _count(world: World, model: type[Any]) -> int:
    return world.session.scalar(select(func.count()).select_from(model)) or 0


class TestRegisterCase:
    def test_stores_the_case_with_reference_event_and_intake_record(self, world: World) -> None:
        draft = service.register_case(
            world.session,
            actor=world.actor("bj_handler"),
            data=CaseCreate(
                text=TEXT, customer_phone="13812345678", received_at=datetime(2026, 11, 2, 9, 30)
            ),
        )
        assert draft.outcome == Outcome.NEW
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert case.reference == draft.reference
        assert case.reference.startswith("TS20261102")
        assert case.org.code == "BJ"
        assert case.status == "received"
        # naive times are local (Asia/Shanghai): 09:30 there is 01:30 UTC
        assert case.received_at == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
        assert verify_chain(world.session, case_id=case.id).ok
        assert _count(world, IntakeRecord) == 1

    def test_fills_classification_grade_and_deadline_with_reasons(self, world: World) -> None:
        draft = service.register_case(
            world.session,
            actor=world.actor("hq_admin"),
            data=CaseCreate(text=TEXT + "，再不解决我就打12378投诉"),
        )
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert (case.product, case.category) == ("credit_card", "fee_dispute")
        assert "年费" in case.annotations["product"]["reason"]
        assert case.annotations["product"]["source"] == "keywords@1"
        assert case.severity == "urgent"
        assert "12378" in case.annotations["severity"]["reason"]
        assert case.due_at is not None
        assert case.due_at > case.received_at + timedelta(days=15)

    def test_personal_data_is_encrypted_and_masked(self, world: World) -> None:
        draft = service.register_case(
            world.session,
            actor=world.actor("hq_admin"),
            data=CaseCreate(
                text="我的手机13912345678收不到验证码",
                customer_name="张三",
                customer_phone="138 1234 5678",
                customer_id_number="11010519491231002X",
            ),
        )
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert case.customer is not None
        assert case.text_masked == "我的手机139****5678收不到验证码"
        assert "13912345678" not in case.text_enc
        assert current_keyring().decrypt(case.text_enc, field="case_text").startswith("我的手机139")
        customer = case.customer
        assert (customer.name_masked, customer.phone_masked) == ("张*", "138****5678")
        assert customer.id_number_masked == "110***********002X"
        assert customer.phone_enc
        assert "13812345678" not in customer.phone_enc
        assert customer.birth_year == 1949

    def test_the_same_source_id_twice_is_stored_once(self, world: World) -> None:
        data = CaseCreate(text=TEXT, source_system="crm", source_id="A-1")
        first = service.register_case(world.session, actor=world.actor("hq_admin"), data=data)
        again = service.register_case(world.session, actor=world.actor("hq_admin"), data=data)
        assert (first.outcome, again.outcome) == (Outcome.NEW, Outcome.UNCHANGED)
        assert again.reference == first.reference
        assert _count(world, Case) == 1

    def test_an_idempotency_key_makes_a_retry_harmless(self, world: World) -> None:
        actor = world.actor("hq_admin")
        data = CaseCreate(text=TEXT)
        first = service.register_case(world.session, actor=actor, data=data, idempotency_key="k1")
        again = service.register_case(world.session, actor=actor, data=data, idempotency_key="k1")
        other = service.register_case(world.session, actor=actor, data=data, idempotency_key="k2")
        assert again.reference == first.reference
        assert other.reference != first.reference

    def test_without_any_key_each_call_is_a_new_record(self, world: World) -> None:
        actor = world.actor("hq_admin")
        service.register_case(world.session, actor=actor, data=CaseCreate(text="建议增加网点"))
        service.register_case(world.session, actor=actor, data=CaseCreate(text="建议增加网点"))
        assert _count(world, Case) == 2

    def test_roles_that_may_not_register_are_refused(self, world: World) -> None:
        with pytest.raises(Forbidden):
            service.register_case(
                world.session, actor=world.actor("hq_analyst"), data=CaseCreate(text=TEXT)
            )


class TestRegisterMany:
    def test_repeat_by_the_same_customer_within_30_days_is_merged(self, world: World) -> None:
        rows = [
            {
                "source_id": "1",
                "text": TEXT,
                "customer_phone": "13812345678",
                "received_at": "2026-11-01 09:00",
            },
            {
                "source_id": "2",
                "text": TEXT + "！",
                "customer_phone": "13812345678",
                "received_at": "2026-11-10 09:00",
            },
        ]
        first, second = _many(world, rows)
        assert (first.outcome, second.outcome) == (Outcome.NEW, Outcome.MERGED)
        assert second.reference == first.reference
        case = world.session.get(Case, first.case_id)
        assert case is not None
        world.session.refresh(case)
        assert case.merged_count == 1
        types = world.session.scalars(
            select(CaseEvent.type).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ).all()
        assert types == ["received", "merged"]
        assert verify_chain(world.session, case_id=case.id).ok

    def test_repeat_into_a_case_stored_earlier_is_merged(self, world: World) -> None:
        base = {"text": TEXT, "customer_id_number": "11010519491231002X"}
        (first,) = _many(world, [{**base, "source_id": "1", "received_at": "2026-11-01"}])
        (second,) = _many(world, [{**base, "source_id": "2", "received_at": "2026-11-20"}])
        assert second.outcome == Outcome.MERGED
        assert second.case_id == first.case_id
        assert verify_chain(world.session, case_id=first.case_id or 0).ok

    def test_a_paraphrase_by_the_same_customer_is_merged_with_its_score(
        self, world: World
    ) -> None:
        base = {"customer_phone": "13812345678", "received_at": "2026-11-01"}
        first, second, other = _many(world, [
            {**base, "source_id": "1", "text": "我的信用卡昨天被盗刷了，请尽快处理"},
            {**base, "source_id": "2", "text": "信用卡昨天被人盗刷，麻烦尽快处理一下"},
            {**base, "source_id": "3", "text": "网点排队两个小时没人管，服务太差"},
        ])
        assert (second.outcome, second.case_id) == (Outcome.MERGED, first.case_id)
        assert 0.6 <= second.annotations["duplicate"].value < 1
        assert other.outcome == Outcome.NEW

    def test_a_paraphrase_of_a_stored_open_case_is_merged(self, world: World) -> None:
        base = {"customer_phone": "13812345678"}
        (first,) = _many(world, [{**base, "source_id": "1", "received_at": "2026-11-01",
                                  "text": "我的信用卡昨天被盗刷了，请尽快处理"}])
        (second,) = _many(world, [{**base, "source_id": "2", "received_at": "2026-11-05",
                                   "text": "信用卡昨天被人盗刷，麻烦尽快处理一下"}])
        assert (second.outcome, second.case_id) == (Outcome.MERGED, first.case_id)

    def test_another_matter_from_a_recent_complainant_is_graded_a_repeat(
        self, world: World
    ) -> None:
        base = {"customer_phone": "13812345678"}
        _many(world, [{**base, "source_id": "1", "received_at": "2026-11-01",
                       "text": "网点排队两个小时"}])
        (second,) = _many(world, [{**base, "source_id": "2", "received_at": "2026-11-10",
                                   "text": "手机银行转账一直失败"}])
        assert second.outcome == Outcome.NEW
        assert second.severity == "important"
        assert "repeat complaint" in second.annotations["severity"].reason

    def test_the_same_words_after_a_closed_case_are_a_new_case_graded_a_repeat(
        self, world: World
    ) -> None:
        base = {"text": "网点排队两个小时", "customer_phone": "13812345678"}
        (first,) = _many(world, [{**base, "source_id": "1", "received_at": "2026-11-01"}])
        case = world.session.get(Case, first.case_id)
        assert case is not None
        case.status = CaseStatus.closed.value
        world.session.flush()
        (second,) = _many(world, [{**base, "source_id": "2", "received_at": "2026-11-10"}])
        assert second.outcome == Outcome.NEW
        assert "repeat complaint" in second.annotations["severity"].reason

    def test_the_same_text_from_many_customers_in_a_day_is_a_possible_mass_complaint(
        self, world: World
    ) -> None:
        text = "贵行理财产品到期不能兑付，我们要求立即还钱"
        rows = [{"source_id": str(i), "text": text, "customer_phone": f"1391234567{i}",
                 "received_at": "2026-11-02 10:00"} for i in range(5)]
        drafts = _many(world, rows)
        assert [d.severity for d in drafts][-1] == "urgent"
        assert "possible mass complaint (5 similar today)" in (
            drafts[-1].annotations["severity"].reason)
        assert drafts[0].severity != "urgent"

    def test_copies_of_one_template_from_many_customers_are_a_possible_mass_complaint(
        self, world: World
    ) -> None:
        names = ["张伟", "王芳", "李娜", "刘洋", "陈静"]
        rows = [{"source_id": str(i), "customer_phone": f"1391234567{i}",
                 "received_at": f"2026-11-02 {10 + i}:00",
                 "text": f"我叫{name}，{3 + i}月{i + 1}日在贵行购买的理财产品{(i + 1) * 5}万元到期"
                         f"不能兑付，我们要求立即还钱，电话1391234567{i}"}
                for i, name in enumerate(names)]
        drafts = _many(world, rows)
        assert len({d.similar_key for d in drafts}) == 1
        assert drafts[-1].severity == "urgent"
        assert "possible mass complaint (5 similar today)" in (
            drafts[-1].annotations["severity"].reason)

    def test_a_template_counts_across_batches_from_what_is_stored(self, world: World) -> None:
        rows = [{"source_id": str(i), "customer_phone": f"1391234567{i}",
                 "received_at": "2026-11-02 10:00",
                 "text": f"停车场收费{i + 10}元不合理，要求退还"} for i in range(5)]
        for row in rows[:4]:
            _many(world, [row])
        (last,) = _many(world, [rows[4]])
        assert last.severity == "urgent"


    def test_repeat_after_the_window_is_a_new_case(self, world: World) -> None:
        base = {"text": TEXT, "customer_phone": "13812345678"}
        first, second = _many(
            world,
            [
                {**base, "source_id": "1", "received_at": "2026-09-01"},
                {**base, "source_id": "2", "received_at": "2026-11-01"},
            ],
        )
        assert (first.outcome, second.outcome) == (Outcome.NEW, Outcome.NEW)

    def test_same_text_from_another_customer_is_a_new_case(self, world: World) -> None:
        _first, second = _many(
            world,
            [
                {"source_id": "1", "text": TEXT, "customer_phone": "13812345678"},
                {"source_id": "2", "text": TEXT, "customer_phone": "13912345678"},
            ],
        )
        assert second.outcome == Outcome.NEW
        assert _count(world, Customer) == 2

    def test_a_customer_is_found_again_by_phone_or_id_number(self, world: World) -> None:
        _many(world, [{"source_id": "1", "text": "第一件事", "customer_phone": "13812345678"}])
        _many(
            world, [{"source_id": "2", "text": "第二件事", "customer_phone": "+86 138-1234-5678"}]
        )
        assert _count(world, Customer) == 1

    def test_changed_content_under_a_known_source_id_updates_the_case(self, world: World) -> None:
        (first,) = _many(world, [{"source_id": "1", "text": TEXT, "amount": "200"}])
        (second,) = _many(world, [{"source_id": "1", "text": TEXT, "amount": "300"}])
        assert second.outcome == Outcome.UPDATED
        case = world.session.get(Case, first.case_id)
        assert case is not None
        world.session.refresh(case)
        assert case.amount == Decimal("300.00")
        event = world.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        ).first()
        assert event is not None
        assert event.type == "source_updated"
        assert event.data["changed"] == {"amount": "300.00"}
        assert verify_chain(world.session, case_id=case.id).ok

    def test_a_corrected_merged_row_does_not_rewrite_the_case_it_joined(
        self, world: World
    ) -> None:
        base = {"customer_phone": "13812345678", "received_at": "2026-11-01"}
        first, merged = _many(world, [{**base, "source_id": "1", "text": TEXT},
                                      {**base, "source_id": "2", "text": TEXT}])
        (corrected,) = _many(world, [{**base, "source_id": "2", "text": "完全不同的事情",
                                      "channel": "微信"}])
        assert (merged.outcome, corrected.outcome) == (Outcome.MERGED, Outcome.UPDATED)
        case = world.session.get(Case, first.case_id)
        assert case is not None
        world.session.refresh(case)
        assert (case.text_masked, case.channel) == (TEXT, "other")
        event = world.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())).first()
        assert event is not None
        assert event.data["changed"] == {"merged_record": True, "text": "完全不同的事情"}

    def test_one_source_id_twice_in_a_batch_is_stored_then_updated(self, world: World) -> None:
        first, second = _many(
            world,
            [{"source_id": "1", "text": TEXT}, {"source_id": "1", "text": TEXT + "，还有利息"}],
        )
        assert (first.outcome, second.outcome) == (Outcome.NEW, Outcome.UPDATED)
        assert _count(world, Case) == 1

    def test_rejected_rows_name_the_field_and_store_nothing(self, world: World) -> None:
        drafts = _many(
            world,
            [
                {"source_id": "1", "text": ""},
                {"source_id": "2", "text": TEXT, "received_at": "2026-02-30"},
                {"source_id": "3", "text": TEXT, "amount": "12,3x"},
                {"source_id": "4", "text": TEXT, "customer_id_number": "110105194912310021"},
                {"source_id": "5", "text": TEXT, "org": "NOWHERE"},
                {"source_id": "6", "text": TEXT, "channel": "carrier pigeon"},
                {"source_id": "7", "text": TEXT, "received_at": "2099-01-01"},
                {"source_id": "8", "text": "x" * 20_001},
                {"source_id": "9", "text": TEXT, "colour": "blue"},
            ],
        )
        assert [(d.row, d.error_field) for d in drafts] == [
            (2, "text"),
            (3, "received_at"),
            (4, "amount"),
            (5, "customer_id_number"),
            (6, "org"),
            (7, "channel"),
            (8, "received_at"),
            (9, "text"),
            (10, "colour"),
        ]
        assert all(d.outcome == Outcome.REJECTED and d.error for d in drafts)
        assert _count(world, Case) == 0
        assert _count(world, IntakeRecord) == 0

    def test_a_branch_user_cannot_file_into_another_branch(self, world: World) -> None:
        (draft,) = _many(world, [{"source_id": "1", "text": TEXT, "org": "SH"}], user="bj_handler")
        assert (draft.error_field, draft.error) == ("org", "org 'SH' is outside your scope")

    def test_org_may_be_given_by_code_or_by_name(self, world: World) -> None:
        drafts = _many(
            world,
            [
                {"source_id": "1", "text": TEXT, "org": "BJ01"},
                {"source_id": "2", "text": "网点排队太久", "org": "上海分行"},
            ],
        )
        codes = [world.session.get(Case, d.case_id).org.code for d in drafts]  # type: ignore[union-attr]
        assert codes == ["BJ01", "SH"]

    def test_given_product_and_severity_are_kept_with_their_source(self, world: World) -> None:
        (draft,) = _many(
            world,
            [
                {
                    "source_id": "1",
                    "text": "不满意",
                    "product": "信用卡",
                    "severity": "重大",
                    "kind": "建议",
                }
            ],
        )
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert (case.product, case.severity, case.kind) == ("credit_card", "major", "suggestion")
        assert case.reference.startswith("JY")
        assert case.annotations["product"]["source"] == "input"


class TestTrainedModels:
    """Once a trained model is active for a field, intake uses it instead of the lexicons, and
    says so in the decision's source."""

    def _activate(self, world: World, name: str, estimator: Any, field: str,
                  texts: list[str], labels: list[str]) -> None:
        admin = world.actor("hq_admin")
        model_store.save_version(world.session, actor=admin, name=name, estimator=estimator,
                                 texts=texts, labels=labels)
        model_store.activate(world.session, actor=admin, name=name, version=None, field=field)

    def test_an_active_product_model_classifies_new_cases(self, world: World) -> None:
        # Labels the keywords would never give: the model's decision is the one stored.
        texts = ["年费扣多了", "年费太贵", "额度太低", "额度不够用"] * 2
        labels = ["wealth", "wealth", "mortgage", "mortgage"] * 2
        self._activate(world, "products", TextClassifier().fit(texts, labels), "product",
                       texts, labels)
        drafts = _many(world, [{"source_id": "1", "text": "信用卡年费扣多了"},
                               {"source_id": "2", "text": "信用卡额度太低", "category": "其他"}])
        assert [d.product for d in drafts] == ["wealth", "mortgage"]
        assert drafts[0].annotations["product"].source == "model:products@1"
        assert "年费" in drafts[0].annotations["product"].reason
        # Category has no active model: still the keywords; a given category still wins.
        assert drafts[0].annotations["category"].source.startswith("keywords@")
        assert drafts[1].annotations["category"].source == "input"

    def test_a_given_product_still_wins_over_the_model(self, world: World) -> None:
        texts, labels = ["年费扣多了", "额度太低"] * 2, ["wealth", "mortgage"] * 2
        self._activate(world, "products", TextClassifier().fit(texts, labels), "product",
                       texts, labels)
        (draft,) = _many(world, [{"source_id": "1", "text": "年费扣多了", "product": "信用卡"}])
        assert draft.product == "credit_card"

    def test_an_active_sentiment_model_scores_new_cases(self, world: World) -> None:
        texts = ["很满意", "非常好", "服务好", "太差了", "很失望", "态度差"]
        labels = ["positive"] * 3 + ["negative"] * 3
        self._activate(world, "moods", TrainedSentiment(min_df=1).fit(texts, labels),
                       "sentiment", texts, labels)
        (draft,) = _many(world, [{"source_id": "1", "text": "态度差，太差了"}])
        assert draft.sentiment is not None
        assert draft.sentiment < 0
        assert draft.annotations["sentiment"].source == "model:moods@1"


class TestRoutingAndOrigin:
    def test_a_regulator_transfer_keeps_its_reference_and_goes_to_head_office(
        self, world: World
    ) -> None:
        (draft,) = _many(world, [{"source_id": "1", "text": "信用卡年费乱收费",
                                  "origin": "金融监管总局", "origin_reference": "JG2026-0001"}],
                         user="bj_handler")
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert (case.origin, case.origin_reference) == ("nfra", "JG2026-0001")
        assert case.handling_org is not None
        assert case.handling_org.code == "HQ"
        assert case.org.code == "BJ"
        assert case.annotations["handling_org"]["reason"].startswith("regulator transfers")

    def test_without_a_matching_rule_the_case_is_handled_where_it_belongs(
        self, world: World
    ) -> None:
        (draft,) = _many(world, [{"source_id": "1", "text": "网点排队太久"}], user="bj_handler")
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        assert (case.origin, case.handling_org_id) == ("direct", None)

    def test_an_unknown_origin_is_rejected_naming_the_field(self, world: World) -> None:
        (draft,) = _many(world, [{"source_id": "1", "text": "x", "origin": "火星"}])
        assert (draft.outcome, draft.error_field) == ("rejected", "origin")
