from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from bankvoc.nlp.keywords import KeywordClassifier, Prediction, classifier_for
from bankvoc.nlp.taxonomy import Term, load_taxonomy


def term(code: str, *keywords: str) -> Term:
    return Term(code=code, zh=code, en=code, keywords=list(keywords))


# Words that are prefixes of each other, share first letters, span scripts and hold spaces.
PRODUCTS = [term("card", "card", "credit card", "card fee", "信用卡", "信用", "卡"),
            term("loan", "loan", "loans", "贷款", "房贷", "lpr"), term("other")]
CATEGORIES = [term("fee", "fee", "annual fee", "charge", "charged", "收费", "年费", "乱收费"),
              term("service", "rude", "attitude", "态度", "态度差", "cannot log in"),
              term("other")]


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return KeywordClassifier({"product": PRODUCTS, "category": CATEGORIES})


def reference_predict(classifier: KeywordClassifier, text: str) -> dict[str, Prediction]:
    """The plain reading: one alternation of every word, longest first; votes by Counter."""
    words = sorted(classifier._owners, key=len, reverse=True)
    votes: dict[str, Counter[str]] = {d: Counter() for d in classifier.dimensions}
    evidence: dict[tuple[str, str], list[str]] = {}
    for word in re.findall("|".join(map(re.escape, words)), text.lower()):
        for dimension, code in classifier._owners[word]:
            votes[dimension][code] += 1
            evidence.setdefault((dimension, code), []).append(word)
    predicted = {}
    for dimension, counted in votes.items():
        if not counted:
            predicted[dimension] = Prediction("other", 0.2, ())
            continue
        (best, top), *rest = [*counted.most_common(2), ("", 0)]
        runner_up = rest[0][1]
        confidence = min(0.95, 0.5 + 0.1 * top + 0.15 * (top - runner_up) / top)
        predicted[dimension] = Prediction(best, round(confidence, 3),
                                          tuple(dict.fromkeys(evidence[(dimension, best)])))
    return predicted


def random_texts(words: list[str], seed: int, count: int = 400) -> list[str]:
    rng = random.Random(seed)
    pieces = [*words, "x", " ", "，", "c", "ca", "信", "态", "an", "’", "é", "CARD", "Ⅻ"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
             for _ in range(count)]
    return [t.upper() if rng.random() < 0.2 else t for t in texts]


class TestKeywordClassifier:
    def test_the_most_voted_term_wins_each_dimension(self, classifier: KeywordClassifier) -> None:
        predicted = classifier.predict("My credit card was charged an annual fee, the staff rude")
        assert predicted["product"] == Prediction("card", 0.75, ("credit card",))
        assert predicted["category"].code == "fee"
        assert predicted["category"].words == ("charged", "annual fee")

    def test_the_longest_word_at_a_place_wins(self, classifier: KeywordClassifier) -> None:
        assert classifier.predict("信用卡年费乱收费")["product"].words == ("信用卡",)
        assert classifier.predict("信用卡年费乱收费")["category"].words == ("年费", "乱收费")
        assert classifier.predict("two loans")["product"].words == ("loans",)

    def test_a_tie_goes_to_the_term_voted_for_first(self, classifier: KeywordClassifier) -> None:
        predicted = classifier.predict("the loan and the card")
        assert (predicted["product"].code, predicted["product"].confidence) == ("loan", 0.6)

    def test_words_match_inside_words_in_any_case(self, classifier: KeywordClassifier) -> None:
        assert classifier.predict("DISCARDED")["product"].words == ("card",)

    def test_no_word_means_other(self, classifier: KeywordClassifier) -> None:
        assert classifier.predict("nothing to see") == {
            "product": Prediction("other", 0.2, ()), "category": Prediction("other", 0.2, ())}

    @pytest.mark.parametrize("seed", range(5))
    def test_predicts_what_one_alternation_of_the_words_gives(
            self, classifier: KeywordClassifier, seed: int) -> None:
        """The compiled trie (and the ASCII-only pattern for ASCII text) changes nothing."""
        for text in random_texts(list(classifier._owners), seed):
            assert classifier.predict(text) == reference_predict(classifier, text), text

    def test_the_shipped_taxonomy_predicts_what_one_alternation_gives(self) -> None:
        classifier = classifier_for(load_taxonomy())
        for text in random_texts(list(classifier._owners), seed=1, count=1000):
            assert classifier.predict(text) == reference_predict(classifier, text), text
