"""Quality inspection on generated calls: detection precision and recall per category, and speed.

    python bench/qa_eval.py [--transcripts N] [--workers W] [--seed S] [--rate R] [--rules R.yaml]

Generates N calls (`bankvoc.contact.corpus`, seed S, each category violated in about R of the
calls where it can be) into a temporary JSON Lines file, then inspects the file as
`bankvoc qa inspect --json` does (same reader, same worker pool of W processes, same output
lines) and times that: reading, parsing, inspecting and writing the JSON, from the first byte to
the last line; generating the corpus is not timed.

Scoring. Each category's planted violations and its hits are reduced to keys: for the
categories bound to a turn (identity_check, forbidden_phrase, silence, interruption,
speech_rate, promise) the key is (interaction, turn), so a hit at another turn of the same call
is a false positive and leaves the planted one missed; for the others (greeting, closing,
risk_disclosure, emotion, which concern the call as a whole) it is the interaction. Several
hits on one key count once. precision = |hits ∩ planted| / |hits|, recall = |hits ∩ planted| /
|planted| (1.0 when the denominator is 0). The corpus' wording is not the rules' lexicon (see
`bankvoc.contact.corpus_phrases`), and near misses are planted as often as violations.

Per-category figures and the slowest categories' misses go to stderr; the last line is one
JSON object: {"precision": {category: …}, "recall": {category: …}, "transcripts_per_s": …,
"transcripts": N, "seconds": …, "workers": W, "seed": S}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson

from bankvoc.contact import corpus, service

Key = tuple[str, int | None]  # (interaction id, turn or None)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _make(args: tuple[int, int, int, float]) -> tuple[bytes, list[list[tuple[str, int | None]]]]:
    """Calls start … start + n - 1 as JSON Lines, and what each has planted."""
    start, n, seed, rate = args
    lines: list[bytes] = []
    planted: list[list[tuple[str, int | None]]] = []
    for call in corpus.generate(n, seed=seed, rate=rate, start=start):
        lines.append(orjson.dumps(call.record))
        planted.append([(p.category, p.turn) for p in call.planted])
    return b"\n".join(lines) + b"\n", planted


def write_corpus(path: Path, n: int, *, seed: int, rate: float,
                 workers: int) -> dict[str, list[tuple[str, int | None]]]:
    """Write N calls to `path`; the planted violations of each call by its id."""
    step = 2_000
    jobs = [(start, min(step, n - start), seed, rate) for start in range(0, n, step)]
    planted: dict[str, list[tuple[str, int | None]]] = {}
    with path.open("wb") as out, ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=get_context("spawn")) as pool:
        for (start, _, _, _), (data, calls) in zip(jobs, pool.map(_make, jobs), strict=True):
            out.write(data)
            for offset, call in enumerate(calls):
                planted[f"QA{seed}-{start + offset:07d}"] = call
    return planted


def keys(category: str, id_: str, turn: int | None) -> Key:
    return (id_, turn if category in corpus.TURN_BOUND else None)


def score(planted: dict[str, list[tuple[str, int | None]]],
          results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    truth: dict[str, set[Key]] = defaultdict(set)
    found: dict[str, set[Key]] = defaultdict(set)
    for id_, calls in planted.items():
        for category, turn in calls:
            truth[category].add(keys(category, id_, turn))
    for result in results:
        if "error" in result:
            raise SystemExit(f"a generated call was refused: {result}")
        for hit in result["hits"]:
            found[hit["category"]].add(keys(hit["category"], result["id"], hit["turn"]))
    out = {}
    for category in service.CATEGORIES:
        hits, wanted = found[category], truth[category]
        right = len(hits & wanted)
        out[category] = {
            "planted": len(wanted), "found": len(hits), "right": right,
            "precision": round(right / len(hits), 4) if hits else 1.0,
            "recall": round(right / len(wanted), 4) if wanted else 1.0,
            "false_positives": sorted(hits - wanted)[:3], "missed": sorted(wanted - hits)[:3],
        }
    return out


def inspect_file(path: Path, rules: service.RuleSet, workers: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        lines = service.numbered_lines(service.open_input(handle))
        for outcome in service.inspect_lines(lines, rules, workers=workers):
            yield outcome.json


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--rate", type=float, default=corpus.DEFAULT_RATE)
    parser.add_argument("--rules", type=Path, default=None)
    args = parser.parse_args(argv)
    rules = service.load_ruleset(args.rules)
    with tempfile.TemporaryDirectory(prefix="qa_eval_") as folder:
        path = Path(folder) / "calls.jsonl"
        started = time.perf_counter()
        planted = write_corpus(path, args.transcripts, seed=args.seed, rate=args.rate,
                               workers=args.workers)
        log(f"generated {args.transcripts} calls ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s; load {os.getloadavg()[0]:.2f}")
        started = time.perf_counter()
        lines = list(inspect_file(path, rules, args.workers))
        seconds = time.perf_counter() - started
    results = [orjson.loads(line) for line in lines]
    scores = score(planted, results)
    per_s = len(results) / seconds
    log(f"inspected {len(results)} calls in {seconds:.1f} s with {args.workers} workers: "
        f"{per_s:,.0f} calls/s; load {os.getloadavg()[0]:.2f}")
    log(f"{'category':<18}{'planted':>8}{'found':>8}{'right':>8}{'precision':>11}{'recall':>8}")
    for category, s in scores.items():
        log(f"{category:<18}{s['planted']:>8}{s['found']:>8}{s['right']:>8}"
            f"{s['precision']:>11.4f}{s['recall']:>8.4f}")
        for what in ("false_positives", "missed"):
            if s[what]:
                log(f"    {what}: {s[what]}")
    log(f"calls with no violation planted: {sum(not v for v in planted.values())}")
    print(json.dumps({
        "precision": {c: s["precision"] for c, s in scores.items()},
        "recall": {c: s["recall"] for c, s in scores.items()},
        "transcripts_per_s": round(per_s, 1), "transcripts": len(results),
        "seconds": round(seconds, 2), "workers": args.workers, "seed": args.seed,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
