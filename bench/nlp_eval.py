"""Text understanding measured on real public data, each figure beside a plain baseline.

    python bench/nlp_eval.py [--data DIR] [--split dev] [--only KEY,KEY] [--faq-learn]

For every labelled set (zh-bank-intents, zh-jnbank-faq, en-banking77, cfpb by product and by
issue) the classifier chosen by `select_model` on `train` is scored by macro-F1 on the split,
beside TF-IDF + LinearSVC (character unigrams for Chinese, words for English). For every pair
set (zh-bq-pairs, zh-atec-pairs) the duplicate matcher, trained on the `train` pairs, is scored
by ROC-AUC and by precision and recall at its merge threshold, beside the cosine of character
TF-IDF. On zh-jnbank-faq it scores answer suggestions (top-1 / top-5) and hot topics; and it
times the whole text pipeline on English complaint narratives and short Chinese questions.

The data sets live outside the project (default: ../shared/data); a missing folder is skipped
with a note. Holdout files are never read. Progress goes to stderr; the last stdout line is one
JSON object keyed by data folder (and label).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.svm import LinearSVC

Row = dict[str, str]
Result = dict[str, Any]

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# (key, folder, text column, label column, language)
LABELLED = (
    ("zh-bank-intents", "zh-bank-intents", "text", "label", "zh"),
    ("zh-jnbank-faq", "zh-jnbank-faq", "text", "label", "zh"),
    ("en-banking77", "en-banking77", "text", "label", "en"),
    ("cfpb/product", "cfpb", "narrative", "product", "en"),
    ("cfpb/issue", "cfpb", "narrative", "issue", "en"),
)
PAIRS = ("zh-bq-pairs", "zh-atec-pairs")
FAQ = "zh-jnbank-faq"
# The pipeline is timed on (language, folder, text column, key of the classifier that stands in
# for a bank's trained product and category models).
PIPELINE_TEXTS = (("en", "cfpb", "narrative", "cfpb/product"),
                  ("zh", "zh-bank-intents", "text", "zh-bank-intents"))
# The pipeline is timed for at least this long per language, so small sets still give a rate.
MIN_TIMING_SECONDS = 2.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Missing(Exception):
    """A data folder or split that is not there: the set is skipped with a note."""


def read_rows(data: Path, folder: str, split: str) -> list[Row]:
    if split.startswith("holdout"):  # main refuses it too; this guards other callers
        raise ValueError("holdout splits are reserved for independent evaluation")
    for name in (f"{split}.csv", f"{split}.csv.gz"):
        path = data / folder / name
        if path.exists():
            opener: Callable[..., Any] = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
    raise Missing(f"{folder}/{split}.csv(.gz) not found under {data}")


# -- classification ----------------------------------------------------------------------------


def baseline_classifier(language: str) -> tuple[TfidfVectorizer, LinearSVC]:
    return TfidfVectorizer(analyzer="char" if language == "zh" else "word"), LinearSVC()


def eval_labelled(data: Path, split: str, key: str, folder: str, text: str, label: str,
                  language: str, models: dict[str, Any]) -> Result:
    from bankvoc.nlp.classifier import select_model

    train, test = read_rows(data, folder, "train"), read_rows(data, folder, split)
    x, y = [r[text] for r in train], [r[label] for r in train]
    x_test, y_test = [r[text] for r in test], [r[label] for r in test]
    started = time.perf_counter()
    model, scores = select_model(x, y, cv=3)
    trained_s = time.perf_counter() - started
    predicted = model.predict(x_test)
    vectorizer, svm = baseline_classifier(language)
    svm.fit(vectorizer.fit_transform(x), y)
    base = svm.predict(vectorizer.transform(x_test))
    models[key] = model
    return {
        "macro_f1": _round(f1_score(y_test, predicted, average="macro", zero_division=0)),
        "baseline_macro_f1": _round(f1_score(y_test, base, average="macro", zero_division=0)),
        "accuracy": _round(accuracy_score(y_test, predicted)),
        "baseline_accuracy": _round(accuracy_score(y_test, base)),
        "cv_macro_f1": _round(scores.get("cv_macro_f1")),
        "model": {k: v for k, v in scores.get("best", {}).items()},
        "n_train": len(x), "n_eval": len(x_test), "train_seconds": round(trained_s, 1),
    }


# -- duplicate pairs ---------------------------------------------------------------------------


def _pairs(rows: Sequence[Row]) -> tuple[list[str], list[str], list[int]]:
    return [r["text_a"] for r in rows], [r["text_b"] for r in rows], [int(r["label"]) for r in rows]


def char_cosine_baseline(train_texts: Sequence[str], a: Sequence[str],
                         b: Sequence[str]) -> np.ndarray[Any, Any]:
    vectorizer = TfidfVectorizer(analyzer="char").fit(train_texts)
    left, right = vectorizer.transform(a), vectorizer.transform(b)
    return np.asarray(left.multiply(right).sum(axis=1)).ravel()


def eval_pairs(data: Path, split: str, folder: str) -> Result:
    from bankvoc.nlp.similarity import DuplicateMatcher

    a, b, y = _pairs(read_rows(data, folder, "train"))
    ta, tb, ty = _pairs(read_rows(data, folder, split))
    truth = np.asarray(ty)
    untrained = DuplicateMatcher().fit([*a, *b]).similarities(zip(ta, tb, strict=True))
    started = time.perf_counter()
    matcher = DuplicateMatcher().fit_pairs(a, b, y)
    trained_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = matcher.similarities(zip(ta, tb, strict=True))
    scored_s = time.perf_counter() - started
    merged = scores >= matcher.merge_threshold
    true_pos = int((merged & (truth == 1)).sum())
    return {
        "auc": _round(roc_auc_score(truth, scores)),
        "baseline_auc": _round(roc_auc_score(truth, char_cosine_baseline([*a, *b], ta, tb))),
        "precision": _round(true_pos / max(int(merged.sum()), 1)),
        "recall": _round(true_pos / max(int(truth.sum()), 1)),
        "threshold": _round(matcher.merge_threshold),
        "untrained_auc": _round(roc_auc_score(truth, untrained)),
        "cv_auc": _round(matcher.cv_auc_), "C": matcher.C_,
        "n_train": len(y), "n_eval": len(ty), "train_seconds": round(trained_s, 1),
        "pairs_per_s": round(len(ty) / scored_s),
    }


# -- answer suggestions and hot topics ---------------------------------------------------------


def eval_suggest(data: Path, split: str, learn: bool) -> Result:
    from bankvoc.nlp.faq import FaqEntry, FaqIndex

    train, test = read_rows(data, FAQ, "train"), read_rows(data, FAQ, split)
    phrasings: dict[str, list[str]] = defaultdict(list)
    for row in train:
        phrasings[row["label"]].append(row["text"])
    # The knowledge base holds every standard question; only train's phrasings are known.
    questions = sorted({r["label"] for r in train} | {r["label"] for r in test})
    entries = [FaqEntry(q, phrasings=tuple(phrasings.get(q, ()))) for q in questions]
    queries, truth = [r["text"] for r in test], [r["label"] for r in test]
    result = _suggest_accuracy(FaqIndex().fit(entries), queries, truth)
    base1, base5 = _nearest_text_baseline(entries, queries, truth)
    result.update(baseline_top1=base1, baseline_top5=base5, entries=len(entries),
                  n_eval=len(queries))
    if learn:
        learned = _suggest_accuracy(FaqIndex(learn=True).fit(entries), queries, truth)
        result.update({f"learned_{k}": v for k, v in learned.items()})
    return result


def _suggest_accuracy(index: Any, queries: list[str], truth: list[str]) -> Result:
    started = time.perf_counter()
    found = index.suggest_many(queries, k=5)
    seconds = time.perf_counter() - started
    top1 = sum(s[0].question == t for s, t in zip(found, truth, strict=True) if s)
    top5 = sum(any(x.question == t for x in s) for s, t in zip(found, truth, strict=True))
    return {"top1": _round(top1 / len(truth)), "top5": _round(top5 / len(truth)),
            "queries_per_s": round(len(truth) / seconds)}


def _nearest_text_baseline(entries: Sequence[Any], queries: list[str],
                           truth: list[str]) -> tuple[float, float]:
    """Plain char TF-IDF cosine to every indexed text; a question scores by its best text."""
    texts, owners = [], []
    for entry in entries:
        for text in (entry.question, *entry.phrasings):
            texts.append(text)
            owners.append(entry.question)
    vectorizer = TfidfVectorizer(analyzer="char")
    indexed = vectorizer.fit_transform(texts)
    similarity = (vectorizer.transform(queries) @ indexed.T).toarray()
    hits1 = hits5 = 0
    for row, expected in zip(similarity, truth, strict=True):
        ranked: list[str] = []
        for i in np.argsort(-row, kind="stable"):
            if owners[i] not in ranked:
                ranked.append(owners[i])
                if len(ranked) == 5:
                    break
        hits1 += ranked[0] == expected
        hits5 += expected in ranked
    return round(hits1 / len(truth), 4), round(hits5 / len(truth), 4)


def eval_topics(data: Path) -> Result:
    from bankvoc.nlp.topics import cluster_topics

    rows = read_rows(data, FAQ, "train")
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    started = time.perf_counter()
    topics = cluster_topics(texts)
    seconds = time.perf_counter() - started
    covered = sum(t.size for t in topics)
    # Purity: the share of clustered texts whose topic's commonest standard question is theirs.
    agreeing = sum(Counter(labels[i] for i in t.members).most_common(1)[0][1] for t in topics)
    return {"texts": len(texts), "seconds": round(seconds, 2), "topics": len(topics),
            "covered": covered, "purity": _round(agreeing / max(covered, 1)),
            "largest": [t.label_words for t in topics[:3]]}


# -- pipeline speed ----------------------------------------------------------------------------


def pipeline_function() -> tuple[Callable[[list[str]], object], str]:
    """`analyze_many` of the text pipeline, or the components that can be imported."""
    try:
        from bankvoc.nlp.pipeline import analyze_many
    except ImportError as error:
        log(f"note: bankvoc.nlp.pipeline.analyze_many is not available ({error}); "
            "timing the components that import")
        return _components(), "components"
    return analyze_many, "analyze_many"


def _components() -> Callable[[list[str]], object]:
    steps: list[Callable[[str], object]] = []
    try:
        from bankvoc.nlp.keywords import classifier_for
        from bankvoc.nlp.taxonomy import load_taxonomy

        steps.append(classifier_for(load_taxonomy()).predict)
    except ImportError:
        log("note: no keyword classifier to time")
    try:
        from bankvoc.nlp.grading import grade

        steps.append(lambda t: grade(t, amount=None))
    except ImportError:
        log("note: no grading to time")
    try:
        from bankvoc.nlp.sentiment import LexiconSentiment

        steps.append(LexiconSentiment().score)
    except ImportError:
        log("note: no sentiment to time")
    try:
        from bankvoc.nlp.pii import find_pii, mask_text

        steps.append(lambda t: mask_text(t, find_pii(t)))
    except ImportError:
        log("note: no PII detection to time")
    return lambda texts: [[step(t) for step in steps] for t in texts]


def docs_per_second(run: Callable[[list[str]], object], texts: list[str]) -> float:
    run(texts[:20])  # warm-up: lexicons, jieba's dictionary, compiled patterns
    done, started = 0, time.perf_counter()
    while True:
        run(texts)
        done += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_TIMING_SECONDS:
            return round(done / elapsed)


def eval_pipeline(data: Path, split: str, models: dict[str, Any]) -> Result:
    run, how = pipeline_function()
    result: Result = {"timed": how}
    for language, folder, column, model_key in PIPELINE_TEXTS:
        try:
            texts = [r[column] for r in read_rows(data, folder, split)]
        except Missing as missing:
            log(f"note: {missing}; no {language} pipeline timing")
            continue
        result[f"{language}_docs_per_s"] = docs_per_second(run, texts)
        result[f"{language}_chars_per_doc"] = round(sum(map(len, texts)) / len(texts))
        trained = _with_trained_models(models.get(model_key))
        if trained is not None:
            result[f"{language}_docs_per_s_trained"] = docs_per_second(trained, texts)
    if len(result) == 1:
        raise Missing("no texts to time the pipeline on")
    return result


def _with_trained_models(model: Any) -> Callable[[list[str]], object] | None:
    """The pipeline with this run's classifier deciding product and category, as it runs once a
    bank has trained models (the shipped defaults classify by keywords)."""
    if model is None:
        return None
    try:
        from bankvoc.nlp.pipeline import TextAnalyzer
    except ImportError:
        return None
    analyzer = TextAnalyzer(models={"product": model, "category": model})
    return lambda texts: analyzer.analyze_many(texts)


# -- driver ------------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--only", default="", help="comma-separated keys to run (default: all)")
    parser.add_argument("--faq-learn", action="store_true",
                        help="also score answer suggestions by the trained classifier")
    args = parser.parse_args(argv)
    if args.split.startswith("holdout"):
        parser.error("holdout splits are reserved for independent evaluation")
    wanted = {k for k in args.only.split(",") if k}
    models: dict[str, Any] = {}
    tasks: list[tuple[str, Callable[[], Result]]] = []
    for key, folder, text, label, language in LABELLED:
        tasks.append((key, partial(eval_labelled, args.data, args.split, key, folder, text,
                                   label, language, models)))
    for folder in PAIRS:
        tasks.append((folder, partial(eval_pairs, args.data, args.split, folder)))
    tasks.append((f"{FAQ}/suggest", partial(eval_suggest, args.data, args.split, args.faq_learn)))
    tasks.append((f"{FAQ}/topics", partial(eval_topics, args.data)))
    tasks.append(("pipeline", partial(eval_pipeline, args.data, args.split, models)))

    results: dict[str, Result] = {}
    for key, task in tasks:
        if wanted and key not in wanted:
            continue
        log(f"{key} …")
        started = time.perf_counter()
        try:
            results[key] = task()
        except Missing as missing:
            log(f"note: skipping {key}: {missing}")
            continue
        log(f"{key}: {json.dumps(results[key], ensure_ascii=False)} "
            f"({time.perf_counter() - started:.0f} s)")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
