"""Sentiment on real data: the shipped lexicon (regex scan and jieba), and a trained model.

    python bench/sentiment_eval.py [--data DIR] [--split dev] [--repeat N]

Reads zh-sentiment (hotel and food-delivery reviews, `text` by `label`) from DIR (default
../shared/data): the trained model learns from `train`, everything is scored on the named split.
For each method: accuracy and macro-F1 of sign(polarity) against the label (a polarity of exactly
0, no sentiment word found, counts as wrong), coverage (texts with a non-zero polarity) and
texts/s. English speed is timed on the CFPB complaint narratives when that folder is present.
Beside it, "per_text_us" times the other intake steps that run on every text (PII find and mask,
grading) with the lexicon, on the same 30-character Chinese texts and English narratives.
The last line is one JSON object: {"lexicon": {...}, "lexicon_jieba": {...}, "trained": {...},
"lexicon_en": {...}, "per_text_us": {...}}. A missing folder is reported and skipped, never an
error.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bankvoc.nlp import grading, pii
from bankvoc.nlp.sentiment import LexiconSentiment, SentimentResult, TrainedSentiment

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LABELS = ("negative", "positive")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_rows(folder: Path, split: str) -> list[dict[str, str]] | None:
    """The rows of `split` (plain or gzipped CSV), or None when the file is absent."""
    csv.field_size_limit(sys.maxsize)
    for path in (folder / f"{split}.csv", folder / f"{split}.csv.gz"):
        if path.exists():
            opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
    return None


def predicted(result: SentimentResult) -> str:
    if result.polarity > 0:
        return "positive"
    return "negative" if result.polarity < 0 else "none"


def measure(score_many: Callable[[list[str]], list[SentimentResult]], texts: list[str],
            labels: Sequence[str], repeat: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    score_many(texts[:10])  # warm up: lexicons, jieba's dictionary, the trie
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        results = score_many(texts)
        best = min(best, time.perf_counter() - started)
    guesses = [predicted(r) for r in results]
    return {
        "accuracy": round(float(accuracy_score(labels, guesses)), 4),
        "macro_f1": round(float(f1_score(labels, guesses, labels=list(LABELS),
                                         average="macro")), 4),
        "coverage": round(sum(g != "none" for g in guesses) / len(guesses), 4),
        "texts_per_s": round(len(texts) / best),
        "us_per_text": round(best / len(texts) * 1e6, 1),
    }


def zh_sentiment(folder: Path, split: str, repeat: int) -> dict[str, Any]:
    train, test = read_rows(folder, "train"), read_rows(folder, split)
    if train is None or test is None:
        log(f"skipped: {folder} has no train or {split} split")
        return {}
    texts, labels = [r["text"] for r in test], [r["label"] for r in test]
    short = [t[:30] for t in texts]
    out: dict[str, Any] = {"n": len(test), "mean_chars": round(sum(map(len, texts)) / len(texts))}
    for name, segmenter in (("lexicon", "scan"), ("lexicon_jieba", "jieba")):
        model = LexiconSentiment(segmenter=segmenter)  # type: ignore[arg-type]
        out[name] = measure(model.score_many, texts, labels, repeat)
        out[name]["short_us_per_text"] = measure(model.score_many, short, labels,
                                                 repeat)["us_per_text"]
        log(f"{name}: {out[name]}")
    started = time.perf_counter()
    trained = TrainedSentiment().fit([r["text"] for r in train], [r["label"] for r in train])
    fit_s = time.perf_counter() - started
    out["trained"] = {**measure(trained.score_many, texts, labels, repeat),
                      "fit_s": round(fit_s, 1)}
    log(f"trained: {out['trained']}")
    return out


def en_speed(folder: Path, split: str, repeat: int) -> dict[str, Any]:
    rows = read_rows(folder, split)
    if rows is None:
        log(f"skipped: {folder} has no {split} split")
        return {}
    texts = [r["narrative"] for r in rows if r.get("narrative")]
    model = LexiconSentiment()
    model.score_many(texts[:10])
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        results = model.score_many(texts)
        best = min(best, time.perf_counter() - started)
    negative = sum(r.polarity < 0 for r in results) / len(results)
    stats = {"n": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts)),
             "texts_per_s": round(len(texts) / best), "share_negative": round(negative, 4)}
    log(f"lexicon_en (cfpb): {stats}")
    return stats


def per_text_us(texts: list[str], repeat: int) -> dict[str, float]:
    """Microseconds per text for each step, and for the three together."""
    sentiment, rules = LexiconSentiment(), grading.load_grading_rules()
    steps: dict[str, Callable[[str], object]] = {
        "pii": lambda t: pii.mask_text(t, pii.find_pii(t)),
        "sentiment": sentiment.score,
        "grade": lambda t: grading.grade(t, amount=None, rules=rules),
    }
    steps["all"] = lambda t: [step(t) for step in list(steps.values())[:3]]
    out = {}
    for name, step in steps.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for text in texts:
                step(text)
            best = min(best, time.perf_counter() - started)
        out[name] = round(best / len(texts) * 1e6, 1)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.split.startswith("holdout"):
        parser.error("the holdout split is reserved for independent evaluation")
    result = zh_sentiment(args.data / "zh-sentiment", args.split, args.repeat)
    english = en_speed(args.data / "cfpb", args.split, args.repeat)
    if english:
        result["lexicon_en"] = english
    timings = {}
    zh_rows = read_rows(args.data / "zh-sentiment", args.split)
    if zh_rows:
        timings["zh_30_chars"] = per_text_us([r["text"][:30] for r in zh_rows], args.repeat)
    en_rows = read_rows(args.data / "cfpb", args.split)
    if en_rows:
        timings["en_narratives"] = per_text_us([r["narrative"] for r in en_rows], args.repeat)
    if timings:
        log(f"per text (µs): {timings}")
        result["per_text_us"] = timings
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
