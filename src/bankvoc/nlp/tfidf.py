"""`NgramTfidf`: sublinear TF-IDF of the word or character n-grams of `nlp.tokens`.

It gives the numbers of scikit-learn's `TfidfVectorizer` with the same analyzer several times
faster: it remembers the feature columns of each run it has seen (real text repeats its words)
and counts in NumPy, not in a Python loop.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from bankvoc.nlp.tokens import (
    chinese_words,
    ngrams,
    run_ngrams,
    runs_of,
)

# Bound on the per-vectoriser memory of runs seen (a run's columns are a few dozen ints).
_RUN_CACHE_SIZE = 200_000


class NgramTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Sublinear TF-IDF of word or character n-grams (as the analyzers above make them).

    The same numbers as `TfidfVectorizer(analyzer=..., sublinear_tf=True, min_df=...)`:
    tf = 1 + ln(count), smoothed idf = ln((1 + n) / (1 + df)) + 1, rows scaled to unit length.
    Column order differs (first seen, not alphabetical), which no model cares about.
    `kind` is "word" or "char"; `limit` takes character n-grams from a text's first `limit`
    characters only (it bounds the cost of very long texts; words are always all taken).
    """

    _seen: dict[str, array[int]]  # run -> its feature columns; a cache, not state

    def __init__(
        self,
        *,
        kind: str = "char",
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 1,
        limit: int | None = None,
    ) -> None:
        self.kind = kind
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.limit = limit

    def fit(self, texts: Iterable[str], y: object = None) -> NgramTfidf:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: object = None, **_: Any) -> Any:
        if self.kind not in ("word", "char"):
            raise ValueError(f"kind must be 'word' or 'char', not {self.kind!r}")
        self.vocabulary_: dict[str, int] = {}
        counts = self._count(texts, grow=True)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = df >= self.min_df
        if not keep.any():
            raise ValueError("no feature is left: every text is empty or min_df is too high")
        counts = counts[:, keep]
        columns = np.cumsum(keep) - 1
        self.vocabulary_ = {g: int(columns[i]) for g, i in self.vocabulary_.items() if keep[i]}
        n_docs = counts.shape[0]
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df[keep])) + 1.0).astype(np.float32)
        self._seen = {}  # its columns were those before pruning
        return self._weigh(counts)

    def transform(self, texts: Iterable[str]) -> Any:
        return self._weigh(self._count(texts, grow=False))

    def get_feature_names_out(self, input_features: object = None) -> NDArray[Any]:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for gram, column in self.vocabulary_.items():
            names[column] = gram
        return names

    # -- counting -----------------------------------------------------------------------------

    def _count(self, texts: Iterable[str], *, grow: bool) -> Any:
        """Counts as a CSR matrix; with `grow`, unseen features get new columns.

        Columns are gathered with `map` over dict methods and filtered in NumPy, so the
        per-feature work stays in C; a feature unknown to a fitted vocabulary maps to -1.
        """
        vocabulary: defaultdict[str, int] = defaultdict()
        if grow:
            vocabulary.default_factory = vocabulary.__len__  # a new feature: the next column
            columns_of = _Columns(vocabulary.__getitem__, None)
        else:
            columns_of = _Columns(None, self.vocabulary_.get)
        if grow or not hasattr(self, "_seen"):
            self._seen = {}
        if self.kind == "char":
            doc_runs, runs = self._doc_runs(texts)
            rows = self._run_rows(runs, columns_of)
        else:
            doc_runs, rows = None, self._word_rows(texts, columns_of)
        if grow:
            self.vocabulary_ = dict(vocabulary)
        counts = rows.matrix(len(self.vocabulary_), drop_unknown=not grow)
        if doc_runs is not None:
            counts = doc_runs @ counts
            counts.sort_indices()
        return counts

    def _doc_runs(self, texts: Iterable[str]) -> tuple[Any, list[str]]:
        """How often each distinct run occurs in each text (texts x runs), and the runs.

        Character n-grams are then counted as (texts x runs) @ (runs x n-grams): a run's
        n-grams are looked up once per batch however often it occurs, and the product adds
        them up in C. Long narratives repeat most of their words, so this is most of the speed.
        """
        runs: defaultdict[str, int] = defaultdict()
        runs.default_factory = runs.__len__
        ids, times, ends = array("i"), array("f"), [0]
        for text in texts:
            counted = Counter(runs_of(text if self.limit is None else text[: self.limit])[0])
            ids.extend(list(map(runs.__getitem__, counted)))
            times.extend(counted.values())
            ends.append(len(ids))
        matrix = sparse.csr_matrix((np.asarray(times), np.asarray(ids), ends),
                                   shape=(len(ends) - 1, len(runs)))
        return matrix, list(runs)

    def _run_rows(self, runs: list[str], columns_of: _Columns) -> _Rows:
        seen = self._seen
        low, high = self.ngram_range
        rows = _Rows()
        extend, end = rows.columns.extend, rows.ends.append
        for run in runs:
            columns = seen.get(run)
            if columns is None:
                columns = columns_of(run_ngrams(run, low, high))
                if len(seen) >= _RUN_CACHE_SIZE:
                    seen.clear()
                seen[run] = columns
            extend(columns)
            end(len(rows.columns))
        return rows

    def _word_rows(self, texts: Iterable[str], columns_of: _Columns) -> _Rows:
        rows = _Rows()
        for text in texts:
            rows.columns.extend(columns_of(ngrams(chinese_words(text), *self.ngram_range)))
            rows.ends.append(len(rows.columns))
        return rows

    def _weigh(self, counts: Any) -> Any:
        np.log(counts.data, out=counts.data)
        counts.data += 1.0
        counts.data *= self.idf_[counts.indices]
        return normalize(counts, copy=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_seen", None)  # a cache: rebuilt as texts come
        return state


@dataclass(frozen=True)
class _Columns:
    """Feature strings to columns: `grow` adds unseen ones, `get` marks them -1."""

    grow: Any
    get: Any

    def __call__(self, grams: Iterable[str]) -> array[int]:
        # array(list(map)) beats array(map): the list is built at C speed, then copied.
        if self.grow is not None:
            return array("i", list(map(self.grow, grams)))
        return array("i", list(map(self.get, grams, repeat(-1))))


@dataclass
class _Rows:
    """The feature columns of each row (text or run) so far; -1 for unknown features."""

    columns: array[int] = field(default_factory=lambda: array("i"))
    ends: list[int] = field(default_factory=lambda: [0])

    def matrix(self, width: int, *, drop_unknown: bool) -> Any:
        columns = np.asarray(self.columns, dtype=np.int32)
        ends = np.asarray(self.ends, dtype=np.int64)
        if drop_unknown:
            known = columns >= 0
            ends = np.concatenate([[0], np.cumsum(known)])[ends]
            columns = columns[known]
        data = np.ones(len(columns), dtype=np.float32)
        counts = sparse.csr_matrix((data, columns, ends), shape=(len(ends) - 1, width))
        counts.sum_duplicates()
        return counts
