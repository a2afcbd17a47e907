"""Answer suggestions: the standard questions of a FAQ knowledge base nearest to a customer's text.

A knowledge base entry is a standard question with its answer, a category and, usually, extra
phrasings of the same question. Each entry is represented by the centroid of the TF-IDF vectors
(jieba words 1-2 and character 1-3 grams) of its question and phrasings, and a text is matched by
cosine to the centroids. Against the nearest single phrasing (the plain baseline) the centroid
is far steadier: one odd phrasing of another entry no longer wins, and every phrasing of the
right entry adds its evidence (figures: bench/nlp_eval.py, "zh-jnbank-faq/suggest").

`learn=True` instead trains the project's linear text classifier over the phrasings (an entry is
a class). It ranks better still when entries have many phrasings, at the cost of a training run
(tens of seconds for a thousand entries); its scores are the classifier's softmax, which sum to 1
over the entries rather than measuring resemblance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize

from bankvoc.nlp.tfidf import NgramTfidf

VERSION = 1


@dataclass(frozen=True)
class FaqEntry:
    """One knowledge point: the standard question, its answer, and other ways to ask it."""

    question: str
    answer: str = ""
    category: str = ""
    phrasings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Suggestion:
    question: str
    answer: str
    category: str
    score: float


class FaqIndex(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Suggest answers from a FAQ knowledge base: `FaqIndex().fit(entries).suggest(text)`.

    Parameters follow the scikit-learn contract; learned attributes end in `_`. Entries that
    repeat a standard question are merged (their phrasings pooled, the first answer kept).
    """

    def __init__(self, *, learn: bool = False) -> None:
        self.learn = learn

    def fit(self, entries: Iterable[FaqEntry]) -> Self:
        self.entries_ = _merged(entries)
        if not self.entries_:
            raise ValueError("the knowledge base has no entries")
        texts, owners = _phrasings(self.entries_)
        if self.learn and len(self.entries_) > 1:
            from bankvoc.nlp.classifier import TextClassifier

            # The classifier's own measurements: word unigrams, character 1-2 grams and a looser
            # C suit hundreds of small FAQ classes. Calibrated, so scores are probabilities.
            model = TextClassifier(word_ngrams=(1, 1), char_ngrams=(1, 2), C=3.0,
                                   class_weight=None)
            self.classifier_: Any = model.fit(texts, [str(o) for o in owners])
            self.columns_ = np.asarray([int(c) for c in self.classifier_.classes_])
            return self
        self.vectorizers_ = (NgramTfidf(kind="word", ngram_range=(1, 2)),
                             NgramTfidf(kind="char", ngram_range=(1, 3)))
        vectors = normalize(sparse.hstack([v.fit_transform(texts) for v in self.vectorizers_],
                                          format="csr"))
        # Sum each entry's rows (a one-hot owner matrix times the rows), then scale to unit
        # length: the direction of the mean, which is all cosine looks at.
        member = sparse.csr_matrix((np.ones(len(owners)), (owners, np.arange(len(owners)))),
                                   shape=(len(self.entries_), len(owners)))
        self.centroids_ = normalize(member @ vectors).T.tocsr()
        return self

    def suggest(self, text: str, k: int = 5) -> list[Suggestion]:
        """The `k` entries most likely to answer `text`, best first."""
        return self.suggest_many([text], k=k)[0]

    def suggest_many(self, texts: Sequence[str], k: int = 5) -> list[list[Suggestion]]:
        """`suggest` for many texts at once (one vectorising pass)."""
        if not texts:
            return []
        scores = self._scores(texts)
        k = min(k, scores.shape[1])
        # argpartition finds the k best in linear time; only those k are sorted.
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        suggestions = []
        for row, candidates in zip(scores, best, strict=True):
            ranked = candidates[np.argsort(-row[candidates], kind="stable")]
            suggestions.append([self._suggestion(int(i), float(row[i])) for i in ranked])
        return suggestions

    def _scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """texts × entries: cosine to each entry's centroid, or the classifier's probabilities."""
        if hasattr(self, "classifier_"):
            scores = np.zeros((len(texts), len(self.entries_)))
            scores[:, self.columns_] = self.classifier_.predict_proba(list(texts))
            return scores
        query = normalize(sparse.hstack([v.transform(texts) for v in self.vectorizers_],
                                        format="csr"))
        return np.asarray((query @ self.centroids_).toarray(), dtype=np.float64)

    def _suggestion(self, index: int, score: float) -> Suggestion:
        entry = self.entries_[index]
        return Suggestion(entry.question, entry.answer, entry.category, round(score, 6))


def _merged(entries: Iterable[FaqEntry]) -> list[FaqEntry]:
    by_question: dict[str, FaqEntry] = {}
    for entry in entries:
        question = entry.question.strip()
        if not question:
            continue
        known = by_question.get(question)
        if known is None:
            by_question[question] = FaqEntry(question, entry.answer, entry.category,
                                             tuple(entry.phrasings))
        else:
            by_question[question] = FaqEntry(question, known.answer or entry.answer,
                                             known.category or entry.category,
                                             known.phrasings + tuple(entry.phrasings))
    return list(by_question.values())


def _phrasings(entries: Sequence[FaqEntry]) -> tuple[list[str], list[int]]:
    """Every distinct text of every entry (the question first) with the entry it belongs to."""
    texts: list[str] = []
    owners: list[int] = []
    for i, entry in enumerate(entries):
        for text in dict.fromkeys((entry.question, *entry.phrasings)):
            if text.strip():
                texts.append(text)
                owners.append(i)
    return texts, owners
