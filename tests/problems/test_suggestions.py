"""Staff suggestions (建言献策): anyone proposes, the committee reviews, adopted ones credit."""

from __future__ import annotations

import pytest

from bankvoc.core.errors import Conflict, Forbidden, NotFound
from bankvoc.problems import suggestions
from bankvoc.problems.models import Suggestion
from bankvoc.problems.schemas import SuggestionCreate, SuggestionReview
from tests.conftest import World
from tests.problems.test_service import problem


def propose(world: World, user: str = "bj1_agent", **fields: object) -> Suggestion:
    data = SuggestionCreate.model_validate({
        "title": "高峰期增开窗口", "text": "周末上午客流大，建议弹性排班，联系我13812345678",
        **fields})
    return suggestions.submit(world.session, actor=world.actor(user), data=data)


class TestSubmit:
    def test_any_employee_proposes_linked_to_problems_and_masked(self, bank: World) -> None:
        queue = problem(bank)
        made = propose(bank, "hq_analyst", problems=[queue.id])
        (read,) = suggestions.to_read(bank.session, [made])
        assert (read.author, read.status, read.problems) == ("hq_analyst", "submitted",
                                                             [queue.id])
        assert "13812345678" not in read.text

    def test_an_unknown_problem_is_named(self, bank: World) -> None:
        with pytest.raises(NotFound) as raised:
            propose(bank, problems=[999])
        assert raised.value.field == "problems"


class TestReview:
    def test_adopting_credits_the_author(self, bank: World) -> None:
        made = propose(bank)
        suggestions.review(bank.session, actor=bank.actor("hq_cpo"), suggestion_id=made.id,
                           data=SuggestionReview(status="adopted", note="采纳", credit_points=20))
        assert (made.status, made.credit_points) == ("adopted", 20)
        assert [c.model_dump() for c in suggestions.credits(
            bank.session, actor=bank.actor("hq_cpo"))] == [
            {"user": "bj1_agent", "adopted": 1, "points": 20}]

    def test_adopted_without_points_earns_the_default(self, bank: World) -> None:
        made = propose(bank)
        suggestions.review(bank.session, actor=bank.actor("hq_cpo"), suggestion_id=made.id,
                           data=SuggestionReview(status="adopted"))
        assert made.credit_points == suggestions.DEFAULT_POINTS

    def test_a_decision_is_final(self, bank: World) -> None:
        made = propose(bank)
        cpo = bank.actor("hq_cpo")
        suggestions.review(bank.session, actor=cpo, suggestion_id=made.id,
                           data=SuggestionReview(status="rejected", note="已有方案"))
        with pytest.raises(Conflict, match="rejected already"):
            suggestions.review(bank.session, actor=cpo, suggestion_id=made.id,
                               data=SuggestionReview(status="adopted"))

    def test_only_the_committee_reviews_and_never_its_own(self, bank: World) -> None:
        made = propose(bank)
        with pytest.raises(Forbidden):
            suggestions.review(bank.session, actor=bank.actor("bj_handler"),
                               suggestion_id=made.id,
                               data=SuggestionReview(status="adopted"))
        own = propose(bank, "hq_cpo")
        with pytest.raises(Forbidden, match="own"):
            suggestions.review(bank.session, actor=bank.actor("hq_cpo"), suggestion_id=own.id,
                               data=SuggestionReview(status="adopted"))

    def test_points_only_for_adopted_and_a_reason_for_rejected(self) -> None:
        with pytest.raises(ValueError, match="only to an adopted"):
            SuggestionReview(status="rejected", note="x", credit_points=5)
        with pytest.raises(ValueError, match="give a note"):
            SuggestionReview(status="rejected")


class TestListAndCredits:
    def test_authors_see_their_own_and_reviewers_see_all(self, bank: World) -> None:
        mine, theirs = propose(bank), propose(bank, "sh_handler")
        assert [s.id for s in suggestions.list_suggestions(
            bank.session, actor=bank.actor("bj1_agent"))] == [mine.id]
        assert {s.id for s in suggestions.list_suggestions(
            bank.session, actor=bank.actor("hq_cpo"))} == {mine.id, theirs.id}
        with pytest.raises(NotFound):
            suggestions.get(bank.session, actor=bank.actor("bj1_agent"), suggestion_id=theirs.id)

    def test_credits_add_up_per_employee_most_points_first(self, bank: World) -> None:
        cpo = bank.actor("hq_cpo")
        for user, points in (("bj1_agent", 5), ("sh_handler", 30), ("bj1_agent", 10)):
            made = propose(bank, user)
            suggestions.review(bank.session, actor=cpo, suggestion_id=made.id,
                               data=SuggestionReview(status="adopted", credit_points=points))
        propose(bank, "sh_handler")  # not reviewed: no credit
        assert [(c.user, c.adopted, c.points) for c in suggestions.credits(
            bank.session, actor=cpo)] == [("sh_handler", 1, 30), ("bj1_agent", 2, 15)]
        assert [c.user for c in suggestions.credits(
            bank.session, actor=bank.actor("bj1_agent"))] == ["bj1_agent"]
