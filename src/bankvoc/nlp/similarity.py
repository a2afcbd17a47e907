"""Duplicate detection: how likely two customer texts say the same thing.

Two levels, one matcher:

- Untrained (the shipped default): a fixed blend of character n-gram cosine, jieba word cosine
  and edit ratio, lowered when the texts name different numbers (amounts, dates, card tails) or
  when only one of them is negated (不/没/无 …). `fit(texts)` learns IDF weights from a corpus so
  rare, telling words count more than 怎么/请问; without it every term weighs the same.
- Trained (`fit_pairs` on the bank's own labelled pairs): a logistic regression over the same
  measures plus one weight per term for "both texts have it", "only one has it" and "one side has
  x where the other has y". Paraphrase corpora are full of near-identical pairs that differ in one
  decisive word (花呗 vs 借呗, 开通 vs 关闭); only learned per-term weights see that, and they
  lift ROC-AUC far above any fixed blend (figures: bench/nlp_eval.py).

Scoring is plain Python over small dicts with a cache of text profiles, so a new text against a
customer's few open cases costs well under a millisecond, with no scikit-learn call in that path.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from bankvoc.nlp.estimator import EstimatorParams
from bankvoc.nlp.text import nfkc
from bankvoc.nlp.tokens import chinese_words

VERSION = 1

# Untrained blend: character overlap is the most robust single measure on short Chinese texts,
# words add meaning units, the edit ratio adds word order. The penalties are factors: a pair that
# names different amounts or dates is a different matter however alike the rest reads.
_BLEND = {"char": 0.4, "word": 0.3, "edit": 0.3}
_NUMBER_PENALTY = 0.6
_NEGATION_PENALTY = 0.8
# A judgement (three fifths of the wording in common) that bench/nlp_eval.py checks on public
# paraphrase pairs: about 9 in 10 BQ pairs and 2 in 3 ATEC pairs it calls duplicates are.
# Precision comes first: a wrong merge hides a complaint inside another case, a missed merge
# only costs a handler a look. `fit_pairs` on the bank's own labelled pairs replaces it.
DEFAULT_MERGE_THRESHOLD = 0.6

# The edit ratio is computed on the openings: they carry the gist, and cost grows with length.
_EDIT_CHARS = 100
_NGRAMS = (1, 2)
# Word swaps pair up at most this many one-sided words per side, so long texts stay cheap.
_SWAP_WORDS = 4
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NEGATION = re.compile(r"[不没无未别非]|\b(?:not|no|never|didn't|don't|isn't|wasn't|can't)\b")
_NOISE = re.compile(r"[^\w\s.]+|_")
_SPACE = re.compile(r"\s+")

FEATURES = ("char_cosine", "word_cosine", "edit_ratio", "length_ratio",
            "number_mismatch", "negation_mismatch")
TERM_KINDS = ("char=", "char≠", "word=", "word≠", "swap")
_PAIR_MODEL = ("coef_", "term_weights_", "intercept_", "C_", "cv_auc_", "threshold_")


@dataclass(frozen=True, slots=True)
class Profile:
    """What the matcher needs of one text, computed once and cached."""

    text: str
    chars: Mapping[str, float]  # L2-normalised TF-IDF of character n-grams
    words: Mapping[str, float]  # L2-normalised TF-IDF of jieba words
    numbers: frozenset[str]
    negated: bool
    # Of a trained matcher: the sums of this text's "only one side has it" weights (chars, words)
    one_sided: tuple[float, float] = (0.0, 0.0)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, punctuation dropped, one space between runs."""
    folded = nfkc(text).lower()
    return _SPACE.sub(" ", _NOISE.sub(" ", folded)).strip()


def char_ngrams(text: str) -> Counter[str]:
    # Spaces only separate English words; inside Chinese they are punctuation left-overs.
    compact = text if text.isascii() else text.replace(" ", "")
    grams: Counter[str] = Counter()
    for n in range(_NGRAMS[0], _NGRAMS[1] + 1):
        grams.update(compact[i:i + n] for i in range(len(compact) - n + 1))
    return grams


def words(text: str) -> Counter[str]:
    # The classifiers' segmenter: a private jieba dictionary, and a cache of segmented runs
    # that intake's classify stage has usually filled for this very text already.
    return Counter(chinese_words(text))


# What varies between copies of one templated complaint: numbers with their units (amounts,
# dates, times: 10万元, 2026年3月1日), punctuation, spaces and the masks' stars.
_TEMPLATE_NOISE = re.compile(r"(?:\d[\d.,]*[年月日号时点分秒万千百亿元块]*|[\W_])+")


def template_key(text: str, cut: Iterable[tuple[int, int]] = ()) -> str:
    """One key for the copies of a templated text: the personal details (`cut`, as
    (start, end) character spans), digits, punctuation and spaces are dropped, and the
    character pairs within each remaining run are taken as a set, so reordered clauses and
    repeated phrases do not matter. Many complaints with one key on one day are a possible mass
    complaint (群体性投诉). Stable across releases: it uses no dictionary or model.
    """
    kept, at = [], 0
    for start, end in sorted(cut):
        kept.append(text[at:start])
        at = max(at, end)
    kept.append(text[at:])
    pairs: set[str] = set()
    for run in _TEMPLATE_NOISE.split(nfkc("".join(kept)).lower()):
        if len(run) > 2:
            pairs.update(map(str.__add__, run, run[1:]))
        elif run:  # a run of one or two characters is its own pair
            pairs.add(run)
    return hashlib.sha256("\x1f".join(sorted(pairs)).encode()).hexdigest()


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004): one pass over the
    shorter text with integer operations on a bit mask of the longer one."""
    if len(a) < len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def edit_ratio(a: str, b: str) -> float:
    """2·LCS / total length, as difflib's ratio, at a fraction of its cost."""
    a, b = a[:_EDIT_CHARS], b[:_EDIT_CHARS]
    total = len(a) + len(b)
    return 2.0 * lcs_length(a, b) / total if total else 1.0


def _weighted(counts: Counter[str], idf: Mapping[str, float], unseen: float) -> dict[str, float]:
    # Sublinear term frequency: a word said three times is not three times the topic.
    vector = {t: (1.0 + math.log(c)) * idf.get(t, unseen) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items()}


def _cosine(u: Mapping[str, float], v: Mapping[str, float]) -> float:
    if len(u) > len(v):
        u, v = v, u
    return min(1.0, sum(x * v.get(t, 0.0) for t, x in u.items()))


def _idf(documents: Iterable[Counter[str]]) -> tuple[dict[str, float], float]:
    """Smoothed IDF as scikit-learn computes it; an unseen term counts as seen once."""
    df: Counter[str] = Counter()
    n = 0
    for doc in documents:
        df.update(doc.keys())
        n += 1
    return ({t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()},
            math.log((1 + n) / 2) + 1.0)


def pair_features(p: Profile, q: Profile) -> tuple[float, ...]:
    """The dense measures, in the order of FEATURES, each in [0, 1]."""
    shorter, longer = sorted((len(p.text), len(q.text)))
    numbers = float(bool(p.numbers) and bool(q.numbers) and p.numbers != q.numbers)
    return (_cosine(p.chars, q.chars), _cosine(p.words, q.words), edit_ratio(p.text, q.text),
            shorter / longer if longer else 1.0, numbers, float(p.negated != q.negated))


def pair_terms(p: Profile, q: Profile) -> dict[str, Collection[str]]:
    """The sparse indicators of the trained model, by kind (TERM_KINDS): terms both texts have
    (`=`), terms only one has (`≠`), and swaps `x|y` of one-sided words across the two sides."""
    return {
        "char=": p.chars.keys() & q.chars.keys(),
        "char≠": p.chars.keys() ^ q.chars.keys(),
        "word=": p.words.keys() & q.words.keys(),
        "word≠": p.words.keys() ^ q.words.keys(),
        "swap": _swaps(p, q),
    }


def _swaps(p: Profile, q: Profile) -> list[str]:
    mine, theirs = _rarest(p.words, q.words), _rarest(q.words, p.words)
    return [f"{x}|{y}" if x < y else f"{y}|{x}" for x in mine for y in theirs]


def _rarest(words: Mapping[str, float], other: Mapping[str, float]) -> list[str]:
    only = [w for w in words if w not in other]
    if len(only) <= _SWAP_WORDS:
        return only
    return sorted(only, key=lambda w: (-words[w], w))[:_SWAP_WORDS]


def blend(features: Sequence[float]) -> float:
    """The untrained score of a pair from its FEATURES."""
    char, word, edit, _, numbers, negation = features
    score = _BLEND["char"] * char + _BLEND["word"] * word + _BLEND["edit"] * edit
    if numbers:
        score *= _NUMBER_PENALTY
    if negation:
        score *= _NEGATION_PENALTY
    return score


def best_threshold(scores: NDArray[np.float64], labels: NDArray[np.int64], *,
                   beta: float = 0.5) -> float:
    """The score threshold with the highest F-beta on these labelled scores."""
    order = np.argsort(-scores, kind="stable")
    ranked, truth = scores[order], labels[order]
    true_pos = np.cumsum(truth)
    precision = true_pos / np.arange(1, len(truth) + 1)
    recall = true_pos / max(int(truth.sum()), 1)
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.nan_to_num((1 + b2) * precision * recall / (b2 * precision + recall))
    # Only cut where the score changes: a threshold between equal scores is not realisable.
    last_of_run = np.r_[ranked[1:] != ranked[:-1], True]
    return float(ranked[int(np.argmax(np.where(last_of_run, f, -1.0)))])


class DuplicateMatcher(EstimatorParams):
    """Similarity in [0, 1] of two texts, and the threshold above which they are one matter.

    Parameters follow the scikit-learn contract; learned attributes end in `_`:
    `idf_chars_`/`idf_words_` (from `fit`); `coef_`, `term_weights_`, `intercept_`, `C_`,
    `cv_auc_` and `threshold_` (from `fit_pairs`).

    - `Cs`: inverse regularisation strengths of the pair model to try; the one with the best
      cross-validated ROC-AUC on the training pairs is kept.
    - `min_term_pairs`: a term must occur in this many training pairs to get its own weight.
    - `precision_weight`: the beta of the F-score maximised when the threshold is measured
      (below 1 favours precision, see DEFAULT_MERGE_THRESHOLD).
    - `threshold`: a fixed merge threshold, overriding the measured one.
    """

    def __init__(self, *, Cs: Sequence[float] = (0.1, 0.3, 1.0),
                 min_term_pairs: int = 2, precision_weight: float = 0.5,
                 threshold: float | None = None, cache_size: int = 4096) -> None:
        self.Cs = Cs
        self.min_term_pairs = min_term_pairs
        self.precision_weight = precision_weight
        self.threshold = threshold
        self.cache_size = cache_size

    @property
    def _cache(self) -> dict[str, Profile]:
        # Made on first use, not in __init__: scikit-learn's clone and get_params expect
        # __init__ to store the parameters and nothing else.
        cache: dict[str, Profile] | None = self.__dict__.get("_profiles")
        if cache is None:
            cache = self.__dict__["_profiles"] = {}
        return cache

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_profiles", None)  # a cache: rebuilt as texts come
        return state

    # -- learning ---------------------------------------------------------------------------

    def fit(self, texts: Iterable[str]) -> Self:
        """Learn IDF weights from a corpus of texts (e.g. last year's complaints).

        A pair model learned before is dropped: its weights were fitted to the old IDF.
        """
        for learned in _PAIR_MODEL:
            self.__dict__.pop(learned, None)
        normalised = [normalise(t) for t in texts]
        self.idf_chars_, self.unseen_char_ = _idf(char_ngrams(t) for t in normalised)
        self.idf_words_, self.unseen_word_ = _idf(words(t) for t in normalised)
        self._cache.clear()
        return self

    def fit_pairs(self, a: Sequence[str], b: Sequence[str], labels: Sequence[int]) -> Self:
        """Train the pair model on labelled pairs (1 = same matter) and measure its threshold.

        IDF comes from the pairs' own texts unless `fit` ran before. C and the threshold are
        chosen on out-of-fold probabilities: measured on pairs the model did not learn from.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        if not len(a) == len(b) == len(labels):
            raise ValueError("a, b and labels must have the same length")
        if not hasattr(self, "idf_chars_"):
            self.fit([*a, *b])
        matrix, vocabulary = self._design(a, b)
        y = np.asarray(labels, dtype=np.int64)
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
        trials = []
        for c in self.Cs:
            # liblinear: several times faster than lbfgs on these wide sparse designs.
            model = LogisticRegression(C=c, solver="liblinear")
            oof = cross_val_predict(model, matrix, y, cv=folds, method="predict_proba")[:, 1]
            trials.append((float(roc_auc_score(y, oof)), -c, oof))
        auc, minus_c, oof = max(trials, key=lambda t: t[:2])  # a tie goes to the smaller C
        model = LogisticRegression(C=-minus_c, solver="liblinear").fit(matrix, y)
        weights = model.coef_[0]
        width = len(FEATURES)
        self.coef_ = np.asarray(weights[:width], dtype=np.float64)
        self.term_weights_: dict[str, dict[str, float]] = {kind: {} for kind in TERM_KINDS}
        for (kind, term), column in vocabulary.items():
            if weights[width + column]:
                self.term_weights_[kind][term] = float(weights[width + column])
        self.intercept_ = float(model.intercept_[0])
        self.C_, self.cv_auc_ = -minus_c, auc
        self.threshold_ = best_threshold(oof, y, beta=self.precision_weight)
        self._cache.clear()  # profiles made before training lack their one-sided sums
        return self

    def _design(self, a: Sequence[str], b: Sequence[str]) -> tuple[Any, dict[tuple[str, str], int]]:
        """The training matrix: FEATURES columns, then one column per frequent (kind, term)."""
        from scipy import sparse

        dense: list[tuple[float, ...]] = []
        bags: list[list[tuple[str, str]]] = []
        seen: Counter[tuple[str, str]] = Counter()
        for x, z in zip(a, b, strict=True):
            p, q = self.profile(x), self.profile(z)
            dense.append(pair_features(p, q))
            bag = [(kind, t) for kind, terms in pair_terms(p, q).items() for t in terms]
            seen.update(bag)
            bags.append(bag)
        frequent = sorted(t for t, n in seen.items() if n >= self.min_term_pairs)
        vocabulary = {t: i for i, t in enumerate(frequent)}
        rows: list[int] = []
        cols: list[int] = []
        for row, bag in enumerate(bags):
            found = [vocabulary[t] for t in bag if t in vocabulary]
            rows += [row] * len(found)
            cols += found
        terms = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)),
                                  shape=(len(bags), len(vocabulary)))
        measures = sparse.csr_matrix(np.asarray(dense, dtype=np.float64).reshape(-1, len(FEATURES)))
        return sparse.hstack([measures, terms], format="csr"), vocabulary

    # -- scoring ----------------------------------------------------------------------------

    @property
    def trained(self) -> bool:
        return hasattr(self, "coef_")

    @property
    def merge_threshold(self) -> float:
        """Scores at or above this mean "the same matter": fixed, measured, or the default."""
        if self.threshold is not None:
            return self.threshold
        return float(getattr(self, "threshold_", DEFAULT_MERGE_THRESHOLD))

    def profile(self, text: str) -> Profile:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        clean = normalise(text)
        chars = _weighted(char_ngrams(clean), getattr(self, "idf_chars_", {}),
                          getattr(self, "unseen_char_", 1.0))
        tokens = _weighted(words(clean), getattr(self, "idf_words_", {}),
                           getattr(self, "unseen_word_", 1.0))
        one_sided = (0.0, 0.0)
        if self.trained:
            w = self.term_weights_
            one_sided = (sum(map(w["char≠"].get, chars, repeat(0.0))),
                         sum(map(w["word≠"].get, tokens, repeat(0.0))))
        made = Profile(text=clean, chars=chars, words=tokens,
                       numbers=frozenset(_NUMBER.findall(clean)),
                       negated=bool(_NEGATION.search(clean)), one_sided=one_sided)
        if len(self._cache) >= self.cache_size:
            # Drop the oldest entry (dicts keep insertion order); open cases are asked again soon.
            del self._cache[next(iter(self._cache))]
        self._cache[text] = made
        return made

    def similarity(self, a: str, b: str) -> float:
        p, q = self.profile(a), self.profile(b)
        features = pair_features(p, q)
        if not self.trained:
            return blend(features)
        return self._probability(p, q, features)

    def _probability(self, p: Profile, q: Profile, features: Sequence[float]) -> float:
        """The trained model's output; the same sum as over `pair_terms`, computed faster."""
        w = self.term_weights_
        z = self.intercept_ + sum(c * x for c, x in zip(self.coef_.tolist(), features, strict=True))
        shared_chars = p.chars.keys() & q.chars.keys()
        shared_words = p.words.keys() & q.words.keys()
        z += sum(map(w["char="].get, shared_chars, repeat(0.0)))
        z += sum(map(w["word="].get, shared_words, repeat(0.0)))
        # Σ over the symmetric difference = Σ over each side − 2·Σ over the shared terms, and
        # each side's Σ is kept in its profile: only the (small) intersection is walked.
        z += p.one_sided[0] + q.one_sided[0] - 2 * sum(map(w["char≠"].get, shared_chars,
                                                           repeat(0.0)))
        z += p.one_sided[1] + q.one_sided[1] - 2 * sum(map(w["word≠"].get, shared_words,
                                                           repeat(0.0)))
        z += sum(map(w["swap"].get, _swaps(p, q), repeat(0.0)))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0

    def similarities(self, pairs: Iterable[tuple[str, str]]) -> NDArray[np.float64]:
        """Scores of many pairs at once; a text that recurs across pairs is profiled once."""
        return np.fromiter((self.similarity(a, b) for a, b in pairs), dtype=np.float64)

    def is_duplicate(self, a: str, b: str) -> bool:
        return self.similarity(a, b) >= self.merge_threshold

    def best_match(self, text: str, candidates: Sequence[str]) -> tuple[int, float] | None:
        """The most similar candidate at or above the merge threshold: (index, score), or None."""
        best: tuple[int, float] | None = None
        for i, other in enumerate(candidates):
            score = self.similarity(text, other)
            if score >= self.merge_threshold and (best is None or score > best[1]):
                best = (i, score)
        return best
