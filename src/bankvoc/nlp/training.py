"""Training and scoring every kind of stored model from labelled rows.

- classifier: text -> label (product, category, ...), chosen by cross-validation
  (`classifier.select_model`);
- sentiment: text -> positive / negative; the trained replacement of the shipped lexicon;
- pairs: (text, text) -> same matter (1) or not (0); the trained duplicate matcher.

`fit` returns the estimator and the metrics kept with its version; `score` gives what
`bankvoc model eval` prints: accuracy, macro-F1, per-class scores, confusion and speed for every
kind, and ROC-AUC with precision and recall at the merge threshold for pairs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bankvoc.core.errors import Invalid
from bankvoc.nlp.classifier import TextClassifier, evaluate, label_report, select_model
from bankvoc.nlp.sentiment import TrainedSentiment
from bankvoc.nlp.similarity import DuplicateMatcher

KINDS = ("classifier", "sentiment", "pairs")
SAME, DIFFERENT = "1", "0"
_POSITIVE_NAMES = ("positive", "pos", "1", "正面", "正向")


@dataclass
class Examples:
    """Labelled rows: texts (and, for pairs, the second texts) with their labels."""

    texts: list[str]
    labels: list[str]
    texts_b: list[str] | None = None

    def hashed_texts(self) -> list[str]:
        """What the training hash covers: a pair as its two texts joined by a tab."""
        if self.texts_b is None:
            return self.texts
        return [f"{a}\t{b}" for a, b in zip(self.texts, self.texts_b, strict=True)]


def fit(kind: str, examples: Examples, *, cv: int = 3, n_jobs: int | None = None,
        positive: str | None = None, negative: str | None = None) -> tuple[Any, dict[str, Any]]:
    """A fitted estimator of `kind` and its training metrics."""
    if kind == "classifier":
        return select_model(examples.texts, examples.labels, cv=cv, n_jobs=n_jobs)
    if kind == "sentiment":
        return _fit_sentiment(examples, cv=cv, positive=positive, negative=negative)
    if kind == "pairs":
        return _fit_pairs(examples)
    raise Invalid(f"kind {kind!r} must be one of {', '.join(KINDS)}", field="--kind")


def score(estimator: Any, examples: Examples) -> dict[str, Any]:
    """How a stored model does on labelled rows."""
    if isinstance(estimator, TextClassifier):
        return evaluate(estimator, examples.texts, examples.labels)
    if isinstance(estimator, TrainedSentiment):
        return _score_sentiment(estimator, examples)
    if isinstance(estimator, DuplicateMatcher):
        return _score_pairs(estimator, _pairs(examples))
    raise TypeError(f"cannot score a {type(estimator).__name__}")


# -- sentiment ----------------------------------------------------------------------------------


def _sentiment_labels(labels: Sequence[str], positive: str | None,
                      negative: str | None) -> tuple[str, str]:
    distinct = sorted(set(labels))
    if positive is None:
        positive = next((name for name in _POSITIVE_NAMES if name in distinct), None)
        if positive is None:
            raise Invalid(f"name the positive label with --positive (labels: "
                          f"{', '.join(distinct[:10])})", field="--positive")
    if positive not in distinct:
        raise Invalid(f"positive label {positive!r} is not among the labels "
                      f"{', '.join(distinct[:10])}", field="--positive")
    if negative is None:
        others = [label for label in distinct if label != positive]
        if len(others) != 1:
            raise Invalid("with more than two labels, name the negative one with --negative",
                          field="--negative")
        negative = others[0]
    if negative not in distinct:
        raise Invalid(f"negative label {negative!r} is not among the labels", field="--negative")
    return positive, negative


def _fit_sentiment(examples: Examples, *, cv: int, positive: str | None,
                   negative: str | None) -> tuple[TrainedSentiment, dict[str, Any]]:
    from sklearn.model_selection import StratifiedKFold

    positive, negative = _sentiment_labels(examples.labels, positive, negative)
    texts = [t for t, label in zip(examples.texts, examples.labels, strict=True)
             if label in (positive, negative)]
    labels = [label for label in examples.labels if label in (positive, negative)]
    metrics: dict[str, Any] = {"cv": 0, "positive": positive, "negative": negative,
                               "cv_accuracy": None, "cv_macro_f1": None, "best": {}}
    counts = [labels.count(positive), labels.count(negative)]
    if cv >= 2 and min(counts) >= cv:
        folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=0)
        predicted = [""] * len(texts)
        for train, test in folds.split(texts, labels):
            model = TrainedSentiment(positive_label=positive, negative_label=negative)
            model.fit([texts[i] for i in train], [labels[i] for i in train])
            for i, result in zip(test, model.score_many([texts[i] for i in test]), strict=True):
                predicted[i] = positive if result.polarity > 0 else negative
        report = label_report(labels, predicted, known=[positive, negative], seconds=0.0)
        metrics.update(cv=cv, cv_accuracy=report["accuracy"], cv_macro_f1=report["macro_f1"])
    model = TrainedSentiment(positive_label=positive, negative_label=negative)
    return model.fit(texts, labels), metrics


def _score_sentiment(model: TrainedSentiment, examples: Examples) -> dict[str, Any]:
    positive, negative = str(model.positive_label), str(model.classes_[model.negative_index_])
    started = time.perf_counter()
    results = model.score_many(examples.texts)
    seconds = time.perf_counter() - started
    predicted = [positive if r.polarity > 0 else negative for r in results]
    return label_report(examples.labels, predicted, known=[positive, negative], seconds=seconds)


# -- pairs --------------------------------------------------------------------------------------


def _pairs(examples: Examples) -> tuple[list[str], list[str], list[int]]:
    if examples.texts_b is None:
        raise Invalid("a pair model needs the second text column (--text-b)", field="--text-b")
    wrong = sorted(set(examples.labels) - {SAME, DIFFERENT})
    if wrong:
        raise Invalid(f"pair labels must be 1 (same matter) or 0 (not); found "
                      f"{', '.join(wrong[:5])}", field="--label")
    return examples.texts, examples.texts_b, [int(label) for label in examples.labels]


def _fit_pairs(examples: Examples) -> tuple[DuplicateMatcher, dict[str, Any]]:
    a, b, labels = _pairs(examples)
    if len(set(labels)) < 2:
        raise Invalid("pair training needs both same-matter (1) and different (0) pairs",
                      field="--label")
    matcher = DuplicateMatcher().fit_pairs(a, b, labels)
    return matcher, {"cv": 3, "cv_auc": round(matcher.cv_auc_, 4), "best": {"C": matcher.C_},
                     "threshold": round(matcher.merge_threshold, 4),
                     "cv_accuracy": None, "cv_macro_f1": None}


def _score_pairs(matcher: DuplicateMatcher,
                 pairs: tuple[list[str], list[str], list[int]]) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    a, b, labels = pairs
    started = time.perf_counter()
    scores = matcher.similarities(zip(a, b, strict=True))
    seconds = time.perf_counter() - started
    threshold = matcher.merge_threshold
    predicted = [SAME if s >= threshold else DIFFERENT for s in scores]
    report = label_report([str(label) for label in labels], predicted, known=[DIFFERENT, SAME],
                          seconds=seconds)
    truth = np.asarray(labels)
    same = report["per_class"][SAME]
    report.update(
        auc=round(float(roc_auc_score(truth, scores)), 4) if len(set(labels)) == 2 else None,
        threshold=round(threshold, 4), precision=same["precision"], recall=same["recall"],
    )
    return report
