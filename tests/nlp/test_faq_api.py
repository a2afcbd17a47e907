from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.nlp import faq_service
from bankvoc.nlp.faq_service import FaqRow
from tests.conftest import World, auth

URL = "/api/v1/text/suggestions"


@pytest.fixture
def faq_client(sessions: sessionmaker[Session], world: World) -> Iterator[TestClient]:
    from bankvoc.api.app import create_app

    faq_service.clear_cache()
    faq_service.import_entries(world.session, actor=world.actor("hq_analyst"), rows=[
        FaqRow("如何挂失银行卡", "请拨打客服热线挂失。", "银行卡", ("银行卡丢了怎么办",)),
        FaqRow("信用卡年费怎么收取", "普卡首年免年费。", "", ("信用卡年费多少钱",)),
    ])
    world.session.commit()  # a savepoint: the API's own sessions see the world and the entries
    with TestClient(create_app(sessions=sessions)) as test_client:
        yield test_client
    faq_service.clear_cache()


class TestSuggestions:
    def test_returns_the_best_matching_questions_with_answers(
        self, faq_client: TestClient, world: World
    ) -> None:
        response = faq_client.post(URL, headers=auth(world, "bj1_agent"),
                                   json={"text": "我的银行卡丢了", "k": 1})
        assert response.status_code == 200, response.text
        [best] = response.json()
        assert set(best) == {"question", "answer", "category", "score"}
        assert (best["question"], best["answer"], best["category"]) == (
            "如何挂失银行卡", "请拨打客服热线挂失。", "银行卡")
        assert 0 < best["score"] <= 1

    def test_an_empty_category_is_null(self, faq_client: TestClient, world: World) -> None:
        response = faq_client.post(URL, headers=auth(world, "bj1_agent"),
                                   json={"text": "信用卡年费多少"})
        assert response.json()[0]["category"] is None

    @pytest.mark.parametrize("body", [{"text": ""}, {"text": "年费", "k": 21},
                                      {"text": "x" * 2001}])
    def test_a_bad_body_is_422(self, faq_client: TestClient, world: World,
                               body: dict[str, object]) -> None:
        response = faq_client.post(URL, headers=auth(world, "bj1_agent"), json=body)
        assert response.status_code == 422

    def test_needs_a_token(self, faq_client: TestClient) -> None:
        assert faq_client.post(URL, json={"text": "年费"}).status_code == 401
