from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bankvoc.cases import review
from bankvoc.cases.models import Case
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World, auth


def _case(world: World, text: str, **fields: str) -> Case:
    draft = intake_service.register_case(world.session, actor=world.actor("bj_handler"),
                                         data=CaseCreate(text=text, **fields))
    case = world.session.get(Case, draft.case_id)
    assert case is not None
    return case


class TestNeedsReview:
    def test_an_unsure_automatic_decision_waits_for_review(self, world: World) -> None:
        assert _case(world, "我有个问题想反映一下").needs_review

    def test_sure_or_given_decisions_do_not(self, world: World) -> None:
        assert not _case(world, "信用卡年费乱收费，年费不合理").needs_review
        assert not _case(world, "我有个问题", product="信用卡", category="收费争议").needs_review

    def test_unknown_sources_are_ignored(self) -> None:
        assert not review.needs_review({"severity": {"confidence": 0.1}}, 0.5)


class TestCorrect:
    def test_sets_the_value_records_the_correction_and_leaves_the_queue(
        self, world: World
    ) -> None:
        case = _case(world, "我有个问题想反映一下")
        review.correct(world.session, actor=world.actor("bj_handler"), case=case,
                       field="product", value="信用卡")
        review.correct(world.session, actor=world.actor("bj_handler"), case=case,
                       field="category", value="fee_dispute")
        assert (case.product, case.category, case.needs_review) == (
            "credit_card", "fee_dispute", False)
        assert case.annotations["product"]["source"] == "handler"
        examples = list(review.training_examples(world.session, actor=world.actor("hq_admin"),
                                                 field="product"))
        assert examples == [review.TrainingExample("我有个问题想反映一下", "credit_card")]

    def test_the_latest_correction_of_a_case_is_the_training_label(self, world: World) -> None:
        case = _case(world, "我有个问题想反映一下")
        actor = world.actor("bj_handler")
        review.correct(world.session, actor=actor, case=case, field="product", value="信用卡")
        review.correct(world.session, actor=actor, case=case, field="product", value="mortgage")
        (example,) = review.training_examples(world.session, actor=world.actor("hq_admin"),
                                              field="product")
        assert example.label == "mortgage"

    def test_a_value_outside_the_taxonomy_names_the_field(self, world: World) -> None:
        with pytest.raises(Invalid) as info:
            review.correct(world.session, actor=world.actor("bj_handler"),
                           case=_case(world, "x"), field="product", value="黄金")
        assert info.value.field == "value"

    def test_agents_may_not_correct(self, world: World) -> None:
        with pytest.raises(Forbidden):
            review.correct(world.session, actor=world.actor("bj1_agent"),
                           case=_case(world, "x"), field="product", value="信用卡")


class TestCorrectionRoute:
    def test_corrects_and_lists_the_queue(self, client: TestClient, world: World) -> None:
        reference = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                json={"text": "我有个问题想反映一下"}).json()["reference"]
        queue = client.get("/api/v1/cases", params={"needs_review": "true"},
                           headers=auth(world, "bj_handler")).json()["items"]
        assert [c["reference"] for c in queue] == [reference]
        for field, value in (("product", "credit_card"), ("category", "其他")):
            response = client.post(f"/api/v1/cases/{reference}/corrections",
                                   headers=auth(world, "bj_handler"),
                                   json={"field": field, "value": value})
            assert response.status_code == 200, response.text
        assert response.json()["needs_review"] is False
        bad = client.post(f"/api/v1/cases/{reference}/corrections",
                          headers=auth(world, "bj_handler"),
                          json={"field": "severity", "value": "major"})
        assert (bad.status_code, bad.json()["field"]) == (422, "field")
