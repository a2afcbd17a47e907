"""Cold-start classification from the taxonomy's lexicons: explainable keyword matching."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bankvoc.nlp.taxonomy import Taxonomy, Term

VERSION = 1


@dataclass(frozen=True)
class Prediction:
    code: str
    confidence: float
    words: tuple[str, ...]


class KeywordClassifier:
    """Keyword voting over several dimensions (product, category, …) in one pass of the text.

    All lexicons are compiled into one alternation, longest words first; each hit votes for
    the terms that list the word, and the term with most votes wins its dimension.
    """

    def __init__(self, dimensions: dict[str, list[Term]]) -> None:
        self.dimensions = tuple(dimensions)
        self._owners: dict[str, list[tuple[str, str]]] = {}
        for dimension, terms in dimensions.items():
            for term in terms:
                for word in term.keywords:
                    self._owners.setdefault(word.lower(), []).append((dimension, term.code))
        words = sorted(self._owners, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def predict(self, text: str) -> dict[str, Prediction]:
        hits = self._pattern.findall(text.lower()) if self._pattern is not None else []
        votes: dict[str, Counter[str]] = {d: Counter() for d in self.dimensions}
        words: dict[tuple[str, str], list[str]] = {}
        for word in hits:
            for dimension, code in self._owners[word]:
                votes[dimension][code] += 1
                words.setdefault((dimension, code), []).append(word)
        return {d: self._decide(votes[d], d, words) for d in self.dimensions}

    @staticmethod
    def _decide(votes: Counter[str], dimension: str,
                words: dict[tuple[str, str], list[str]]) -> Prediction:
        if not votes:
            return Prediction("other", 0.2, ())
        (best, top), *rest = [*votes.most_common(2), ("", 0)]
        runner_up = rest[0][1] if rest else 0
        # More hits, and a clearer lead over the runner-up, mean more confidence.
        confidence = min(0.95, 0.5 + 0.1 * top + 0.15 * (top - runner_up) / top)
        return Prediction(best, round(confidence, 3),
                          tuple(dict.fromkeys(words[(dimension, best)])))


_by_version: dict[str, KeywordClassifier] = {}


def classifier_for(taxonomy: Taxonomy) -> KeywordClassifier:
    """The taxonomy's product and category classifier, compiled once per version and process."""
    if taxonomy.version not in _by_version:
        _by_version[taxonomy.version] = KeywordClassifier(
            {"product": taxonomy.products, "category": taxonomy.categories})
    return _by_version[taxonomy.version]
