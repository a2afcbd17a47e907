"""The TF-IDF vectoriser over our words and character n-grams."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bankvoc.nlp.tfidf import NgramTfidf
from bankvoc.nlp.tokens import CharAnalyzer, WordAnalyzer
from tests.nlp.test_tokens import CORPUS


class TestNgramTfidf:
    @pytest.mark.parametrize(("kind", "ngram_range", "analyzer"), [
        ("word", (1, 2), WordAnalyzer((1, 2))),
        ("char", (1, 3), CharAnalyzer((1, 3))),
    ])
    def test_gives_the_numbers_of_scikit_learns_vectoriser(
        self, kind: str, ngram_range: tuple[int, int], analyzer: object
    ) -> None:
        ours = NgramTfidf(kind=kind, ngram_range=ngram_range).fit(CORPUS)
        theirs = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True).fit(CORPUS)
        order = [theirs.vocabulary_[name] for name in ours.get_feature_names_out()]
        unseen = ["年费 fee 退还了吗", "完全无关的话"]
        for texts in (CORPUS, unseen):
            expected = theirs.transform(texts)[:, order].toarray()
            assert np.allclose(ours.transform(texts).toarray(), expected, atol=1e-6)

    def test_min_df_drops_rare_features(self) -> None:
        vectoriser = NgramTfidf(kind="word", ngram_range=(1, 1), min_df=2).fit(CORPUS)
        assert set(vectoriser.vocabulary_) == {"信用卡", "annual", "fee", "退还"}

    def test_unknown_features_and_empty_texts_give_empty_rows(self) -> None:
        vectoriser = NgramTfidf(kind="char").fit(CORPUS)
        assert vectoriser.transform(["", "㐀㐁"]).nnz == 0

    def test_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="kind"):
            NgramTfidf(kind="phoneme").fit(CORPUS)

    def test_no_features_at_all_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no feature"):
            NgramTfidf(kind="word").fit(["", "  ,。"])

    def test_pickles_without_its_cache_and_transforms_the_same_after(self) -> None:
        vectoriser = NgramTfidf(kind="char").fit(CORPUS)
        before = vectoriser.transform(CORPUS).toarray()
        restored = pickle.loads(pickle.dumps(vectoriser))
        assert "_seen" not in restored.__dict__
        assert np.array_equal(restored.transform(CORPUS).toarray(), before)

    def test_a_model_stored_when_it_lived_in_tokens_still_loads(self) -> None:
        vectoriser = NgramTfidf(kind="word").fit(CORPUS)
        # Protocol 0 names classes as text lines: the old module path can be written in.
        stored = pickle.dumps(vectoriser, protocol=0).replace(
            b"bankvoc.nlp.tfidf", b"bankvoc.nlp.tokens")
        assert b"bankvoc.nlp.tokens\nNgramTfidf" in stored
        restored = pickle.loads(stored)
        assert isinstance(restored, NgramTfidf)
        assert np.array_equal(restored.transform(CORPUS).toarray(),
                              vectoriser.transform(CORPUS).toarray())
