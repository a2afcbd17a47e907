from __future__ import annotations

import pytest

from bankvoc.nlp.faq import FaqEntry, FaqIndex

ENTRIES = (
    FaqEntry("银行卡被ATM吞了怎么办", "请携带身份证到发卡网点领卡。", "debit_card",
             ("卡被取款机吞了", "ATM吞卡了怎么处理", "取钱的时候卡被吞")),
    FaqEntry("如何修改手机银行登录密码", "登录后在“安全中心”修改。", "mobile_banking",
             ("手机银行密码怎么改", "忘记手机银行登录密码", "重置网银登录密码")),
    FaqEntry("信用卡账单分期怎么办理", "在信用卡App的账单页申请分期。", "credit_card",
             ("信用卡账单能分期吗", "怎么把账单分成12期", "账单分期手续费多少")),
    FaqEntry("如何查询存款利率", "利率以网点公告为准。", "deposit",
             ("现在定期存款利息多少", "一年定期利率是多少", "存款利率查询")),
)


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex().fit(ENTRIES)


class TestFaqIndexFit:
    def test_an_empty_knowledge_base_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no entries"):
            FaqIndex().fit([])

    def test_entries_repeating_a_question_are_merged(self) -> None:
        index = FaqIndex().fit([
            FaqEntry("如何挂失", "拨打客服热线。", "card", ("卡丢了",)),
            FaqEntry("如何挂失", "", "", ("银行卡丢失怎么办",)),
            FaqEntry("如何开户", "带身份证到网点。", "account"),
        ])
        assert [e.question for e in index.entries_] == ["如何挂失", "如何开户"]
        assert index.entries_[0].phrasings == ("卡丢了", "银行卡丢失怎么办")
        assert index.entries_[0].answer == "拨打客服热线。"

    def test_entries_without_phrasings_are_found_by_their_question(self) -> None:
        index = FaqIndex().fit([FaqEntry("如何挂失银行卡"), FaqEntry("如何开通网上银行")])
        assert index.suggest("网上银行怎么开通", k=1)[0].question == "如何开通网上银行"


class TestFaqIndexSuggest:
    @pytest.mark.parametrize(("text", "question"), [
        ("我的卡被自动取款机吞掉了", "银行卡被ATM吞了怎么办"),
        ("手机银行的登录密码忘了", "如何修改手机银行登录密码"),
        ("信用卡账单可以分期还吗", "信用卡账单分期怎么办理"),
        ("三年定期利率多少", "如何查询存款利率"),
    ])
    def test_a_rewording_finds_its_standard_question_first(self, index: FaqIndex, text: str,
                                                           question: str) -> None:
        assert index.suggest(text)[0].question == question

    def test_a_suggestion_carries_the_answer_and_category(self, index: FaqIndex) -> None:
        best = index.suggest("ATM吞卡")[0]
        assert (best.answer, best.category) == ("请携带身份证到发卡网点领卡。", "debit_card")

    def test_gives_at_most_k_suggestions_best_first(self, index: FaqIndex) -> None:
        found = index.suggest("密码", k=2)
        assert len(found) == 2
        assert found[0].score >= found[1].score

    def test_asking_for_more_than_there_are_gives_every_entry(self, index: FaqIndex) -> None:
        assert len(index.suggest("密码", k=50)) == len(ENTRIES)

    def test_scores_are_cosines_between_zero_and_one(self, index: FaqIndex) -> None:
        assert all(0.0 <= s.score <= 1.0 for s in index.suggest("吞卡了"))

    def test_learned_index_also_finds_the_standard_question(self) -> None:
        index = FaqIndex(learn=True).fit(ENTRIES)
        best = index.suggest("我的卡被自动取款机吞掉了")[0]
        assert best.question == "银行卡被ATM吞了怎么办"
        assert 0.0 <= best.score <= 1.0


class TestFaqIndexSuggestMany:
    def test_equals_suggest_for_each_text(self, index: FaqIndex) -> None:
        texts = ["吞卡了", "利率多少"]
        assert index.suggest_many(texts, k=3) == [index.suggest(t, k=3) for t in texts]

    def test_no_texts_give_no_suggestions(self, index: FaqIndex) -> None:
        assert index.suggest_many([]) == []
