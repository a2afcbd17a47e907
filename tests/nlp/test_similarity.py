from __future__ import annotations

import math
import pickle
from itertools import pairwise, product

import numpy as np
import pytest
from sklearn.base import clone

from bankvoc.nlp.similarity import (
    DEFAULT_MERGE_THRESHOLD,
    DuplicateMatcher,
    best_threshold,
    edit_ratio,
    lcs_length,
    normalise,
    pair_features,
    pair_terms,
    template_key,
)

STOLEN = "我的信用卡昨天被盗刷了，请尽快处理"
STOLEN_AGAIN = "信用卡昨天被人盗刷，麻烦尽快处理一下"
QUEUE = "网点排队两个小时没人管，服务太差"


def _dp_lcs(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _swap_pairs() -> tuple[list[str], list[str], list[int]]:
    """Consumer-credit questions: the same action on the same product is a duplicate; the
    same wording about the other product (花呗 vs 借呗) is not."""
    phrasings = ("{p}怎么{a}", "{p}如何{a}", "请问{p}怎样{a}", "{p}要怎么{a}啊")
    actions = ("还款", "开通", "关闭", "提额", "退款", "延期")
    a: list[str] = []
    b: list[str] = []
    labels: list[int] = []
    for action, (first, second) in product(actions, pairwise(phrasings)):
        for p in ("花呗", "借呗"):
            a.append(first.format(p=p, a=action))
            b.append(second.format(p=p, a=action))
            labels.append(1)
        a.append(first.format(p="花呗", a=action))
        b.append(first.format(p="借呗", a=action))
        labels.append(0)
    return a, b, labels


@pytest.fixture(scope="module")
def trained() -> DuplicateMatcher:
    return DuplicateMatcher(Cs=(1.0,)).fit_pairs(*_swap_pairs())


class TestNormalise:
    def test_full_width_becomes_half_width_and_lower_case(self) -> None:
        assert normalise("ＡＴＭ吞卡１２３") == "atm吞卡123"

    def test_punctuation_goes_and_spaces_fold(self) -> None:
        assert normalise("卡被吞了！！  怎么办？") == "卡被吞了 怎么办"

    def test_decimal_points_stay_in_amounts(self) -> None:
        assert normalise("扣了12.50元。") == "扣了12.50元"


class TestLcsLength:
    @pytest.mark.parametrize(("a", "b", "expected"), [
        ("abcde", "ace", 3), ("", "abc", 0), ("信用卡盗刷", "信用卡被盗刷", 5), ("abc", "xyz", 0)])
    def test_examples(self, a: str, b: str, expected: int) -> None:
        assert lcs_length(a, b) == expected

    def test_agrees_with_dynamic_programming(self) -> None:
        rng = np.random.default_rng(7)
        for _ in range(300):
            a = "".join(rng.choice(list("abcd"), size=rng.integers(0, 25)))
            b = "".join(rng.choice(list("abcd"), size=rng.integers(0, 25)))
            assert lcs_length(a, b) == _dp_lcs(a, b)


class TestEditRatio:
    def test_identical_texts_score_one(self) -> None:
        assert edit_ratio("还款日", "还款日") == 1.0

    def test_texts_without_a_common_character_score_zero(self) -> None:
        assert edit_ratio("开户", "挂失") == 0.0

    def test_two_empty_texts_are_the_same(self) -> None:
        assert edit_ratio("", "") == 1.0


class TestPairFeatures:
    def test_different_amounts_are_a_number_mismatch(self) -> None:
        matcher = DuplicateMatcher()
        features = pair_features(matcher.profile("转账5000元没到账"),
                                 matcher.profile("转账8000元没到账"))
        assert features[4] == 1.0

    def test_a_number_on_one_side_only_is_no_mismatch(self) -> None:
        matcher = DuplicateMatcher()
        features = pair_features(matcher.profile("转账5000元没到账"),
                                 matcher.profile("转账的钱没到账"))
        assert features[4] == 0.0

    def test_negation_on_one_side_only_is_a_mismatch(self) -> None:
        matcher = DuplicateMatcher()
        features = pair_features(matcher.profile("我同意办理"), matcher.profile("我不同意办理"))
        assert features[5] == 1.0

    def test_every_feature_lies_between_zero_and_one(self) -> None:
        matcher = DuplicateMatcher()
        features = pair_features(matcher.profile(STOLEN), matcher.profile(QUEUE))
        assert all(0.0 <= f <= 1.0 for f in features)


class TestPairTerms:
    def test_shared_and_one_sided_words_are_told_apart(self) -> None:
        matcher = DuplicateMatcher()
        terms = pair_terms(matcher.profile("card refund"), matcher.profile("loan refund"))
        assert set(terms["word="]) == {"refund"}
        assert set(terms["word≠"]) == {"card", "loan"}

    def test_a_swapped_word_pair_is_named_in_one_order(self) -> None:
        matcher = DuplicateMatcher()
        forth = pair_terms(matcher.profile("card refund"), matcher.profile("loan refund"))
        back = pair_terms(matcher.profile("loan refund"), matcher.profile("card refund"))
        assert forth["swap"] == back["swap"] == ["card|loan"]


class TestBestThreshold:
    def test_separable_scores_cut_at_the_lowest_positive(self) -> None:
        scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2])
        labels = np.array([1, 1, 1, 0, 0])
        assert best_threshold(scores, labels) == 0.7

    def test_favouring_precision_cuts_higher_than_favouring_recall(self) -> None:
        scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
        labels = np.array([1, 1, 0, 1, 0, 1])
        assert best_threshold(scores, labels, beta=0.5) > best_threshold(scores, labels, beta=2.0)

    def test_never_cuts_between_equal_scores(self) -> None:
        scores = np.array([0.9, 0.5, 0.5, 0.1])
        labels = np.array([1, 1, 0, 0])
        assert best_threshold(scores, labels) in {0.9, 0.5, 0.1}


class TestDuplicateMatcherSimilarity:
    def test_identical_texts_score_one(self) -> None:
        assert DuplicateMatcher().similarity(STOLEN, STOLEN) == pytest.approx(1.0)

    def test_a_reworded_complaint_scores_above_an_unrelated_one(self) -> None:
        matcher = DuplicateMatcher()
        assert matcher.similarity(STOLEN, STOLEN_AGAIN) > matcher.similarity(STOLEN, QUEUE) + 0.3

    def test_is_symmetric(self) -> None:
        matcher = DuplicateMatcher()
        assert matcher.similarity(STOLEN, QUEUE) == pytest.approx(matcher.similarity(QUEUE, STOLEN))

    def test_different_amounts_lower_the_score(self) -> None:
        matcher = DuplicateMatcher()
        same = matcher.similarity("转账5000元三天没到账", "转账5000元三天了没到账")
        other = matcher.similarity("转账5000元三天没到账", "转账8000元三天了没到账")
        assert other < same * 0.7

    def test_full_width_and_punctuation_do_not_matter(self) -> None:
        matcher = DuplicateMatcher()
        assert matcher.similarity("ＡＴＭ吞卡了！", "atm吞卡了") == pytest.approx(1.0)

    def test_empty_texts_score_without_error(self) -> None:
        assert 0.0 <= DuplicateMatcher().similarity("", STOLEN) <= 1.0

    def test_english_texts_are_compared_too(self) -> None:
        matcher = DuplicateMatcher()
        near = matcher.similarity("my card was charged twice", "card charged twice this month")
        far = matcher.similarity("my card was charged twice", "the branch queue was too long")
        assert near > far


class TestDuplicateMatcherFit:
    def test_rare_shared_words_count_more_than_common_ones(self) -> None:
        corpus = [f"请问怎么办理{x}" for x in ("开户", "挂失", "转账", "销户", "换卡")]
        corpus.append("房贷提前还款")
        plain, fitted = DuplicateMatcher(), DuplicateMatcher().fit(corpus)
        rare = ("我想房贷提前还款", "房贷提前还款手续")
        common = ("请问怎么办理开户", "请问怎么办理挂失")
        assert (fitted.similarity(*rare) - fitted.similarity(*common)
                > plain.similarity(*rare) - plain.similarity(*common))

    def test_drops_a_pair_model_fitted_to_other_weights(self, trained: DuplicateMatcher) -> None:
        matcher = clone(trained).fit_pairs(*_swap_pairs())
        matcher.fit(["花呗怎么还款", "借呗怎么还款"])
        assert not matcher.trained
        assert matcher.merge_threshold == DEFAULT_MERGE_THRESHOLD

    def test_returns_the_matcher(self) -> None:
        matcher = DuplicateMatcher()
        assert matcher.fit(["一", "二"]) is matcher


class TestDuplicateMatcherFitPairs:
    def test_learns_that_a_swapped_product_is_another_question(self,
                                                              trained: DuplicateMatcher) -> None:
        assert not trained.is_duplicate("花呗怎么分期", "借呗怎么分期")

    def test_still_merges_a_rewording_of_the_same_question(self, trained: DuplicateMatcher) -> None:
        assert trained.is_duplicate("花呗怎么分期", "花呗如何分期")

    def test_measures_a_threshold_between_zero_and_one(self, trained: DuplicateMatcher) -> None:
        assert 0.0 < trained.merge_threshold < 1.0
        assert trained.merge_threshold == trained.threshold_

    def test_keeps_the_regularisation_it_cross_validated(self) -> None:
        matcher = DuplicateMatcher(Cs=(0.1, 1.0)).fit_pairs(*_swap_pairs())
        assert matcher.C_ in (0.1, 1.0)
        assert 0.5 < matcher.cv_auc_ <= 1.0

    def test_fast_scoring_equals_the_sum_over_pair_terms(self, trained: DuplicateMatcher) -> None:
        p, q = trained.profile("花呗怎么分期还款"), trained.profile("借呗能不能提前还款")
        z = trained.intercept_ + float(np.dot(trained.coef_, pair_features(p, q)))
        for kind, terms in pair_terms(p, q).items():
            z += sum(trained.term_weights_[kind].get(t, 0.0) for t in terms)
        score = trained.similarity("花呗怎么分期还款", "借呗能不能提前还款")
        assert score == pytest.approx(1.0 / (1.0 + math.exp(-z)))

    def test_refuses_lists_of_different_lengths(self) -> None:
        with pytest.raises(ValueError, match="same length"):
            DuplicateMatcher().fit_pairs(["一"], ["二", "三"], [1])


class TestDuplicateMatcherSimilarities:
    def test_equals_one_score_per_pair(self) -> None:
        matcher = DuplicateMatcher()
        pairs = [(STOLEN, STOLEN_AGAIN), (STOLEN, QUEUE)]
        scores = matcher.similarities(pairs)
        assert scores.dtype == np.float64
        assert scores.tolist() == [matcher.similarity(a, b) for a, b in pairs]

    def test_no_pairs_give_an_empty_array(self) -> None:
        assert DuplicateMatcher().similarities([]).shape == (0,)


class TestDuplicateMatcherBestMatch:
    def test_finds_the_open_case_the_new_text_repeats(self) -> None:
        match = DuplicateMatcher().best_match(STOLEN_AGAIN, [QUEUE, STOLEN])
        assert match is not None
        assert match[0] == 1

    def test_finds_nothing_when_no_case_is_similar_enough(self) -> None:
        assert DuplicateMatcher().best_match(STOLEN, [QUEUE, "手机银行登录不了"]) is None


class TestDuplicateMatcherMergeThreshold:
    def test_untrained_uses_the_default(self) -> None:
        assert DuplicateMatcher().merge_threshold == DEFAULT_MERGE_THRESHOLD

    def test_a_fixed_threshold_overrides_the_measured_one(self) -> None:
        matcher = DuplicateMatcher(Cs=(1.0,), threshold=0.9).fit_pairs(*_swap_pairs())
        assert matcher.merge_threshold == 0.9


class TestDuplicateMatcherEstimatorContract:
    def test_clone_copies_the_parameters_only(self, trained: DuplicateMatcher) -> None:
        copy = clone(trained)
        assert copy.get_params() == trained.get_params()
        assert not copy.trained

    def test_a_pickled_matcher_scores_the_same(self, trained: DuplicateMatcher) -> None:
        restored = pickle.loads(pickle.dumps(trained))
        assert restored.similarity(STOLEN, QUEUE) == trained.similarity(STOLEN, QUEUE)


class TestTemplateKey:
    """Copies of one templated complaint share a key; other texts do not."""

    TEMPLATE = "本人{name}，于{date}购买贵行稳健理财产品{amount}万元，到期未兑付，要求立即兑付！"

    def _copy(self, name: str, date: str, amount: str) -> tuple[str, list[tuple[int, int]]]:
        text = self.TEMPLATE.format(name=name, date=date, amount=amount)
        return text, [(2, 2 + len(name))]  # the name, as PII detection finds it

    def test_names_dates_and_amounts_do_not_matter(self) -> None:
        one = template_key(*self._copy("张三", "2026年3月", "10"))
        other = template_key(*self._copy("欧阳娜娜", "2025年12月1日", "5.5"))
        assert one == other

    def test_punctuation_spaces_width_and_reordered_clauses_do_not_matter(self) -> None:
        assert template_key("信用卡年费乱收费，客服态度差") == template_key(
            "客服态度差 。 信用卡年费乱收费！")
        assert template_key("ＡＰＰ闪退") == template_key("app闪退")

    @pytest.mark.parametrize(("text", "cut", "stored"), [
        ("本人张三，于2026年3月购买贵行稳健理财产品10万元，到期未兑付，要求立即兑付！", [(2, 4)],
         "0c2c785d41348b1dc72a91c330373690cc4daa77e07aa9628ef7ed4f75040f49"),
        ("ＡＰＰ闪退\u3000ｏｋ", [],
         "64cbd8249cf12384204a01659acb1e742ccfba3316fb508280f9ea4bc182d782"),
        ("My card was eaten, ATM #12", [],
         "bc8ff5a1ef6a9daca5379043d5b443116b177c003430121cc1a24a70d2cd6a7b"),
        ("ab，c", [], "9617c506357d3d46bb660dbde5253de2da791e361df51c47ba4aaa18091bc693")])
    def test_keys_stay_those_already_stored(self, text: str, cut: list[tuple[int, int]],
                                            stored: str) -> None:
        # Stored cases keep their keys: a new key for the same text would split a day's count.
        assert template_key(text, cut) == stored

    def test_another_word_is_another_key(self) -> None:
        assert template_key("理财到期未兑付") != template_key("理财到期已兑付")

    def test_without_the_cut_the_names_count(self) -> None:
        first, _ = self._copy("张三", "2026年3月", "10")
        second, _ = self._copy("李四", "2026年3月", "10")
        assert template_key(first) != template_key(second)
