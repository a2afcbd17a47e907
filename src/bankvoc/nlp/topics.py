"""Hot topics: groups of recent texts that talk about the same thing, named by their top words.

How: sublinear TF-IDF over words (jieba words for Chinese) → latent semantic analysis (truncated
SVD, so synonyms that co-occur pull together and 10,000 texts cluster in seconds) → spherical
k-means (k-means on unit vectors, i.e. by cosine) with more clusters than topics asked for;
groups whose centres are close are joined back (average linkage), so a big topic split by the
over-clustering is one topic again. Then only tight groups are kept: a member must resemble its
group's centre (cosine in the original word space), a group needs `min_size` such members, and
the largest `max_topics` groups are the topics. Over-clustering and then keeping the tight
groups is what turns k-means, which puts every text somewhere, into a topic finder that leaves
the one-off texts out. 11,861 real questions take about half a second (bench/nlp_eval.py).

Labels are the words that set a group apart: weight in the group's centre minus weight in the
whole corpus, so words every complaint uses (银行, 客户, 问题) do not name every topic.

Everything is seeded (`random_state`): the same texts give the same topics.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.preprocessing import normalize

from bankvoc.nlp.tfidf import NgramTfidf
from bankvoc.nlp.tokens import STOP_WORDS

VERSION = 1

_KEEP = re.compile(r"[^\W\d_]", re.UNICODE)  # a label word has at least one letter or hanzi

# A member must be at least this close (cosine in word space) to its group's centre.
MIN_SIMILARITY = 0.3
# Groups whose centres are at least this close (cosine) are one topic.
MERGE_SIMILARITY = 0.5
_SVD_DIMENSIONS = 100


@dataclass(frozen=True)
class Topic:
    label_words: list[str]
    size: int
    members: list[int]  # indexes into the texts given, ascending


def cluster_topics(texts: Sequence[str], *, min_size: int = 3, max_topics: int = 20,
                   label_size: int = 5, random_state: int = 0) -> list[Topic]:
    """The main topics of `texts`, largest first; texts that fit no topic are left out."""
    vectors, words = _word_vectors(texts)
    rows = np.flatnonzero(vectors.getnnz(axis=1))  # a text with no words joins no topic
    if len(rows) < max(min_size, 2) or max_topics < 1:
        return []
    vectors = vectors[rows]
    with _one_thread():
        assignment = _kmeans(vectors, _cluster_count(len(rows), min_size, max_topics),
                             random_state)
        assignment = _merge_close(vectors, assignment)
    background = np.asarray(vectors.mean(axis=0)).ravel()
    topics = []
    for members in _groups(assignment):
        kept, centre = _tight_members(vectors, members)
        if len(kept) >= min_size:
            label = _label(centre - background, words, label_size)
            topics.append(Topic(label, len(kept), sorted(int(rows[i]) for i in kept)))
    topics.sort(key=lambda t: (-t.size, t.members[0]))
    return topics[:max_topics]


def _one_thread() -> Any:
    """Run BLAS and OpenMP on one thread. The matrices here are small (10,000 × 100): on two
    shared cores, threads cost more in contention than they bring (measured: 11,861 texts took
    0.4 s on one thread, 3 to 5 s with the default pools while other processes ran).
    threadpoolctl is scikit-learn's own dependency, there wherever scikit-learn is."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1)


def _word_vectors(texts: Sequence[str]) -> tuple[Any, NDArray[Any]]:
    """Unit-length sublinear TF-IDF of words seen in at least two texts, and the words."""
    vectorizer = NgramTfidf(kind="word", ngram_range=(1, 1), min_df=2 if len(texts) > 2 else 1)
    try:
        matrix = vectorizer.fit_transform(list(texts))
    except ValueError:  # no word occurs twice: nothing to group by
        return sparse.csr_matrix((len(texts), 0)), np.empty(0, dtype=object)
    words = vectorizer.get_feature_names_out()
    stop = np.fromiter((w in STOP_WORDS or not _KEEP.search(w) for w in words), dtype=bool)
    matrix = matrix[:, np.flatnonzero(~stop)]
    if matrix.shape[1] == 0:  # only numbers, symbols or common words recur: nothing to group by
        return sparse.csr_matrix((len(texts), 0)), np.empty(0, dtype=object)
    return normalize(matrix).tocsr(), words[~stop]


def _cluster_count(n: int, min_size: int, max_topics: int) -> int:
    # About twice the topics wanted, more for big inputs (√(n/2), the classic rule of thumb),
    # never more groups than could reach min_size.
    wanted = max(2 * max_topics, round(math.sqrt(n / 2)))
    return max(1, min(wanted, n // max(min_size, 1)))


def _kmeans(vectors: Any, k: int, random_state: int) -> NDArray[np.intp]:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.exceptions import ConvergenceWarning

    if k == 1:
        return np.zeros(vectors.shape[0], dtype=np.intp)
    dimensions = min(_SVD_DIMENSIONS, vectors.shape[1] - 1, vectors.shape[0] - 1)
    if dimensions >= 2:
        # Identical texts have no variance: the explained-variance ratio (unused here) would
        # divide by zero and warn.
        with np.errstate(divide="ignore", invalid="ignore"):
            reduced = TruncatedSVD(dimensions, random_state=random_state).fit_transform(vectors)
        points: Any = normalize(reduced)
    else:
        points = vectors
    # One k-means++ start: on these inputs extra starts changed no topic but cost several times
    # the time (measured on 10,000 demo complaints and two real question sets).
    model = KMeans(n_clusters=k, n_init=1, random_state=random_state)
    with warnings.catch_warnings():
        # Repeated texts leave fewer distinct points than clusters; fewer groups is the answer.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return np.asarray(model.fit_predict(points), dtype=np.intp)


def _merge_close(vectors: Any, assignment: NDArray[np.intp]) -> NDArray[np.intp]:
    """Join groups whose centres are close (average-linkage on their cosine): over-clustering
    splits a big or uniform topic into several groups, and they belong together."""
    from sklearn.cluster import AgglomerativeClustering

    # k-means may leave groups empty: when repeated (templated) texts give fewer distinct
    # points than clusters, some labels get no member. Number the groups that have members
    # 0..n-1, so every group below has a centre.
    _, assignment = np.unique(assignment, return_inverse=True)
    assignment = np.asarray(assignment, dtype=np.intp).ravel()
    count = int(assignment.max()) + 1 if len(assignment) else 0
    if count < 2:
        return assignment
    member = sparse.csr_matrix((np.ones(len(assignment)), (assignment,
                                np.arange(len(assignment)))), shape=(count, len(assignment)))
    sums = np.asarray((member @ vectors).todense())
    # A centre of zero length has no direction to compare by cosine (the metric refuses it):
    # such a group stays on its own. None arises from texts with words (their vectors are
    # unit length and not negative), but the merge must not depend on it.
    directed = np.flatnonzero(np.linalg.norm(sums, axis=1) > 0)
    labels = np.arange(count, dtype=np.intp)
    if len(directed) >= 2:
        merged = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=1.0 - MERGE_SIMILARITY
                                         ).fit(normalize(sums[directed]))
        labels[directed] = np.asarray(merged.labels_, dtype=np.intp)
        others = np.setdiff1d(np.arange(count), directed)
        labels[others] = len(directed) + np.arange(len(others))
    return labels[assignment]


def _groups(assignment: NDArray[np.intp]) -> list[NDArray[np.intp]]:
    order = np.argsort(assignment, kind="stable")
    bounds = np.flatnonzero(np.diff(assignment[order])) + 1
    return list(np.split(order, bounds))


def _tight_members(vectors: Any, members: NDArray[np.intp]) -> tuple[NDArray[np.intp],
                                                                        NDArray[np.float64]]:
    """The members close to the group's centre, and the centre of those members."""
    group = vectors[members]
    centre = np.asarray(group.mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centre))
    if norm == 0.0:
        return members[:0], centre
    closeness = np.asarray(group @ (centre / norm)).ravel()
    kept = members[closeness >= MIN_SIMILARITY]
    if len(kept) and len(kept) < len(members):
        centre = np.asarray(vectors[kept].mean(axis=0)).ravel()
    return kept, centre


def _label(weights: NDArray[np.float64], words: NDArray[Any], size: int) -> list[str]:
    best = np.argsort(-weights, kind="stable")[:size]
    return [str(words[i]) for i in best if weights[i] > 0]
