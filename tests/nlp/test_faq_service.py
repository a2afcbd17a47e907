from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.nlp import faq_service
from bankvoc.nlp.faq_models import FaqEntry
from bankvoc.nlp.faq_service import FaqRow, Rejection
from tests.conftest import World

ROWS = [
    FaqRow("信用卡年费怎么收取", "普卡首年免年费，刷卡满5次免次年年费。", "信用卡",
           ("信用卡年费多少钱",), row=2),
    FaqRow("信用卡年费怎么收取", "", "", ("年费能不能免",), row=3),
    FaqRow("手机银行登录不上怎么办", "请检查网络并更新到最新版本，仍不行请致电客服。", "手机银行",
           ("手机银行打不开",), row=4),
    FaqRow("如何挂失银行卡", "请拨打客服热线或到网点办理挂失。", "", ("银行卡丢了怎么办",), row=5),
]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    faq_service.clear_cache()
    yield
    faq_service.clear_cache()


def load(world: World, rows: list[FaqRow] = ROWS) -> faq_service.ImportCounts:
    return faq_service.import_entries(world.session, actor=world.actor("hq_analyst"), rows=rows)


class TestImportEntries:
    def test_adds_one_entry_per_question_pooling_phrasings(self, world: World) -> None:
        counts = load(world)
        assert (counts.added, counts.updated, counts.unchanged, counts.rejected) == (3, 0, 0, [])
        entry = world.session.scalars(
            select(FaqEntry).where(FaqEntry.question == "信用卡年费怎么收取")).one()
        assert entry.phrasings == ["信用卡年费多少钱", "年费能不能免"]
        assert (entry.category, entry.source) == ("信用卡", "import")
        assert faq_service.count(world.session) == 3

    def test_importing_again_changes_nothing(self, world: World) -> None:
        load(world)
        counts = load(world)
        assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 3)

    def test_a_changed_answer_updates_the_entry(self, world: World) -> None:
        load(world)
        changed = [*ROWS[:3], FaqRow("如何挂失银行卡", "可在手机银行自助挂失。", row=5)]
        counts = load(world, changed)
        assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 2)
        entry = world.session.scalars(
            select(FaqEntry).where(FaqEntry.question == "如何挂失银行卡")).one()
        assert (entry.answer, entry.phrasings) == ("可在手机银行自助挂失。", [])
        assert entry.updated_at > entry.created_at

    def test_reports_unusable_rows_by_row_and_field(self, world: World) -> None:
        counts = load(world, [
            FaqRow("", "答案", row=2),
            FaqRow("没有答案的问题", "", row=3),
            FaqRow("问" * 501, "答案", row=4),
            FaqRow("好问题", "答案一", row=5),
            FaqRow("好问题", "答案二", row=6),
            FaqRow("读不了", row=7, error="bad encoding"),
        ])
        assert counts.added == 1
        assert [(r.row, r.field) for r in counts.rejected] == [
            (2, "question"), (3, "answer"), (4, "question"), (6, "answer"), (7, "row")]
        assert counts.rejected[3] == Rejection(
            6, "answer", "a different answer for a question already answered at row 5")

    def test_needs_model_manage(self, world: World) -> None:
        with pytest.raises(Forbidden):
            faq_service.import_entries(world.session, actor=world.actor("bj1_agent"), rows=ROWS)


class TestSuggest:
    def test_ranks_the_matching_question_first_with_its_answer(self, world: World) -> None:
        load(world)
        found = faq_service.suggest(world.session, actor=world.actor("bj1_agent"),
                                    text="我的银行卡丢了", k=2)
        assert found[0].question == "如何挂失银行卡"
        assert found[0].answer == "请拨打客服热线或到网点办理挂失。"
        assert 0 < found[0].score <= 1
        assert len(found) <= 2

    def test_an_empty_knowledge_base_suggests_nothing(self, world: World) -> None:
        assert faq_service.suggest(world.session, actor=world.actor("bj1_agent"),
                                   text="信用卡年费") == []

    def test_sees_entries_stored_after_the_index_was_cached(self, world: World) -> None:
        load(world, ROWS[:3])
        actor = world.actor("bj1_agent")
        before = faq_service.suggest(world.session, actor=actor, text="银行卡丢了", k=20)
        assert "如何挂失银行卡" not in {s.question for s in before}
        # Stored behind the service's back (as by another process): only the cache key can tell.
        world.session.add(FaqEntry(question="如何挂失银行卡", answer="网点挂失。", category=None,
                                   phrasings=["银行卡丢了"], source="test"))
        world.session.flush()
        after = faq_service.suggest(world.session, actor=actor, text="银行卡丢了")
        assert after[0].question == "如何挂失银行卡"

    def test_rejects_a_bad_k(self, world: World) -> None:
        with pytest.raises(Invalid):
            faq_service.suggest(world.session, actor=world.actor("bj1_agent"), text="年费", k=0)
