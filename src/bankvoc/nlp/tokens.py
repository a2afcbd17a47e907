"""Text features shared by the trainable models: words (jieba for Chinese) and character n-grams.

Every text goes through one normal form first (NFKC, lower case, no zero-width characters), so
full-width ＩＣ卡 and IC卡 give the same features. A text is then cut into runs: runs of Chinese
characters (segmented into words by jieba) and runs of other letters and digits (one word each).
Punctuation and spaces only separate runs: character n-grams never span two runs; word n-grams
follow the sequence of words, as scikit-learn's word analyzer does.

The analyzers are small picklable classes, so anything fitted with them can be stored by joblib.
`nlp.tfidf.NgramTfidf` vectorises with them; this module imports neither scikit-learn nor SciPy,
as every process that registers cases imports it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba

from bankvoc.nlp.text import nfkc

# CJK Unified Ideographs, extension A and the compatibility block: what jieba segments.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+(?:['’][^\W_{_HAN}]+)?)")
_RUNS = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+(?:['’][^\W_{_HAN}]+)?")  # the same, ungrouped
_HAN_CHAR = re.compile(rf"[{_HAN}]")
# Byte-order marks and zero-width characters survive NFKC and copy-paste from documents.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"))
# Phone, card, account and ID numbers: no two customers share one, so as features they only
# memorise people (and would carry personal data into stored models). Same length, so offsets
# into the normal form stay those of the text.
_LONG_NUMBER = re.compile(r"\d{7,}")

# Words that carry no topic however often they occur: pronouns, particles, politeness and the
# frame of a complaint. IDF already discounts them; this keeps them out of labels entirely.
_STOP_WORDS = (
    "的 了 和 是 在 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 就 都 也 还 又 很 太 把 被 给 "
    "让 对 向 从 到 与 及 或 而 但 但是 因为 所以 如果 吗 呢 吧 啊 呀 哦 嗯 么 什么 怎么 怎么办 "
    "如何 为什么 请问 请 您 您好 你好 谢谢 一下 一个 没有 不 有 要 会 能 可以 已经 现在 之后 "
    "然后 银行 客户 问题 反映 表示 要求 the a an and or of to in on for is are was were be "
    "i my me we our you your it this that with at by from as have has had not no")
STOP_WORDS = frozenset(_STOP_WORDS.split())

_lock = threading.Lock()
_segmenter: Any = None


def normalise(text: str) -> str:
    """The one form all features are taken from: NFKC (full width to half), lower case, and
    every number of seven digits or more written as zeros."""
    normal = nfkc(text).translate(_INVISIBLE).lower()
    return _LONG_NUMBER.sub(_zeros, normal)


def _zeros(match: re.Match[str]) -> str:
    return "0" * len(match.group())


def _jieba() -> Any:
    """A private jieba tokenizer, built on first use.

    Private so that words another module adds to jieba's global dictionary cannot change the
    features of an already trained model. Building it loads jieba's dictionary (about a second,
    from jieba's cache file), which is why it is lazy; its log lines would pollute stderr.
    """
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _segmenter = tokenizer
    return _segmenter


@lru_cache(maxsize=65_536)
def _segment(run: str) -> tuple[str, ...]:
    # Cached: the product and the category model segment the same text one after the other.
    return tuple(_jieba().lcut(run, HMM=True))


@lru_cache(maxsize=4096)
def runs_of(text: str) -> tuple[tuple[str, ...], bool]:
    """The runs of a text's normal form, and whether any is Chinese.

    Cached for the last few thousand texts: the word and the character features of a model,
    and the product and the category model, all start from the runs of the same texts.
    """
    normal = normalise(text)
    return tuple(_RUNS.findall(normal)), _HAN_CHAR.search(normal) is not None


def _words_of_runs(found: tuple[str, ...], han: bool) -> list[str]:
    if not han:
        return list(found)  # no Chinese: the runs are the words
    words: list[str] = []
    for run in found:
        if _HAN_CHAR.match(run):
            words.extend(_segment(run))
        else:
            words.append(run)
    return words


def chinese_words(text: str) -> list[str]:
    """Words of any text: jieba words for Chinese runs, whole runs for other scripts.

    The text is normalised first, so the words are lower case and half width.
    """
    return _words_of_runs(*runs_of(text))


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Words of an already normalised text with their [start, end) offsets in it."""
    if _HAN_CHAR.search(text) is None:
        return [(m.group(), m.start(), m.end()) for m in _RUNS.finditer(text)]
    spans: list[tuple[str, int, int]] = []
    for match in _RUN.finditer(text):
        start = match.start()
        han = match.group(1)
        if han is None:
            spans.append((match.group(2), start, match.end()))
            continue
        for word in _segment(han):
            spans.append((word, start, start + len(word)))
            start += len(word)
    return spans


def ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Token n-grams joined by a space, as scikit-learn's word analyzer joins them."""
    if low == high == 1:
        return tokens
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
    return grams


@lru_cache(maxsize=65_536)
def run_ngrams(run: str, low: int, high: int) -> tuple[str, ...]:
    """Character n-grams of one run padded by spaces; unigrams are the bare characters.

    Padding marks where a word (or a Chinese clause) starts and ends, as scikit-learn's
    `char_wb` does.
    """
    padded = f" {run} "
    grams: list[str] = list(run) if low == 1 else []
    size = len(padded)
    for n in range(max(low, 2), high + 1):
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams of each run of an already normalised text."""
    grams: list[str] = []
    for match in _RUN.finditer(text):
        grams.extend(run_ngrams(match.group(), low, high))
    return grams


@dataclass(frozen=True)
class WordAnalyzer:
    """`analyzer=` for a scikit-learn vectoriser: word n-grams (jieba words for Chinese)."""

    ngram_range: tuple[int, int] = (1, 2)

    def __call__(self, text: str) -> list[str]:
        return ngrams(chinese_words(text), *self.ngram_range)


@dataclass(frozen=True)
class CharAnalyzer:
    """`analyzer=` for a scikit-learn vectoriser: character n-grams within runs.

    `limit` bounds the characters looked at, and so the cost of a very long text.
    """

    ngram_range: tuple[int, int] = (1, 3)
    limit: int | None = None

    def __call__(self, text: str) -> list[str]:
        if self.limit is not None:
            text = text[: self.limit]
        return char_ngrams(normalise(text), *self.ngram_range)


def credit_words(
    text: str,
    word_features: dict[str, float],
    char_features: dict[str, float],
    *,
    top: int = 5,
    scan_limit: int = 300,
) -> list[tuple[str, float]]:
    """The words of `text` credited with the most of the features' contributions.

    Features are what the analyzers above produced (word n-grams joined by spaces, character
    n-grams padded by spaces) with each one's contribution to a decision. Every contribution
    is spread evenly over the characters it covers in the text, and a word's credit is the sum
    over its characters, so "信用", "用卡" and "信用卡 还款" all speak for the word 信用卡.
    Only the strongest positive features are credited, and words are returned best first.

    Texts longer than `scan_limit` characters are not scanned (it would cost more than
    classifying them): their words are credited from word features alone, plus character
    n-grams that are whole words; in long texts the word features carry the decision anyway.
    """
    if len(text) > scan_limit:
        return _credit_without_text(word_features, char_features, top)
    normal = normalise(text)
    spans = word_spans(normal)
    if not spans:
        return []
    credit = _Credit(len(normal))
    padded = _runs_only(normal, spans)
    for gram, value in _strongest(char_features):
        credit.spread_gram(padded, gram, value)
    tokens = [word for word, _, _ in spans]
    where: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        where.setdefault(token, []).append(i)
    for gram, value in _strongest(word_features):
        parts = gram.split(" ")
        n = len(parts)
        starts = [i for i in where.get(parts[0], ()) if tokens[i : i + n] == parts]
        credit.spread_words(spans, starts, n, value)
    return credit.best_words(spans, top)


def _credit_without_text(
    word_features: dict[str, float], char_features: dict[str, float], top: int
) -> list[tuple[str, float]]:
    credit: dict[str, float] = {}
    for gram, value in _strongest(word_features):
        words = gram.split(" ")
        for word in words:
            credit[word] = credit.get(word, 0.0) + value / len(words)
    for gram, value in _strongest(char_features):
        if len(gram) > 2 and gram[0] == gram[-1] == " ":  # a whole run, padded: a word
            credit[gram[1:-1]] = credit.get(gram[1:-1], 0.0) + value
    best = sorted(((w, c) for w, c in credit.items() if c > 0), key=lambda item: -item[1])
    return [(_shown(word), round(value, 4)) for word, value in best[:top]]


def _shown(word: str) -> str:
    """A word as people read it: a long number (all zeros in the normal form) is <number>."""
    return "<number>" if len(word) >= 7 and not word.strip("0") else word


def _strongest(features: dict[str, float], limit: int = 25) -> list[tuple[str, float]]:
    positive = [(gram, value) for gram, value in features.items() if value > 0]
    return sorted(positive, key=lambda item: -item[1])[:limit]


def _runs_only(normal: str, spans: list[tuple[str, int, int]]) -> str:
    """The text with everything outside its words blanked, padded by a space at each end:
    padded character n-grams are found in it at the offsets (plus one) of the text."""
    parts, at = [" "], 0
    for _, start, end in spans:
        parts.append(" " * (start - at))
        parts.append(normal[start:end])
        at = end
    parts.append(" " * (len(normal) - at + 1))
    return "".join(parts)


class _Credit:
    """Credit per character of a (short) text, then summed per word.

    Plain lists, not NumPy: texts scanned here have at most a few hundred characters, where
    NumPy's per-call cost is more than the work.
    """

    def __init__(self, length: int) -> None:
        self.per_char = [0.0] * length

    def add(self, start: int, end: int, amount: float) -> None:
        if end > start:
            rate = amount / (end - start)
            per_char = self.per_char
            for at in range(max(start, 0), min(end, len(per_char))):
                per_char[at] += rate

    def spread_gram(self, padded: str, gram: str, value: float) -> None:
        """Spread over every occurrence of a character n-gram, its padding left out."""
        found = []
        at = padded.find(gram)
        while at >= 0:
            found.append(at)
            at = padded.find(gram, at + 1)
        shift = len(gram) - len(gram.lstrip(" ")) - 1  # `padded` is one longer at the front
        size = len(gram.strip(" "))
        for at in found:
            self.add(at + shift, at + shift + size, value / len(found))

    def spread_words(
        self, spans: list[tuple[str, int, int]], starts: list[int], n: int, value: float
    ) -> None:
        """Spread over every occurrence of a word n-gram, shared equally by its words."""
        for first in starts:
            for _, start, end in spans[first : first + n]:
                self.add(start, end, value / len(starts) / n)

    def best_words(self, spans: list[tuple[str, int, int]], top: int) -> list[tuple[str, float]]:
        credit: dict[str, float] = {}
        per_char = self.per_char
        for word, start, end in spans:
            total = sum(per_char[start:end])
            if total > 1e-12:
                credit[word] = credit.get(word, 0.0) + total
        best = sorted(credit.items(), key=lambda item: -item[1])[:top]
        return [(_shown(word), round(value, 4)) for word, value in best]


def __getattr__(name: str) -> Any:
    """Models stored before the vectoriser moved to `nlp.tfidf` name it here; unpickling them
    looks it up by that name (and so imports scikit-learn only then)."""
    if name in ("NgramTfidf", "_Columns", "_Rows"):
        from bankvoc.nlp import tfidf

        return getattr(tfidf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
