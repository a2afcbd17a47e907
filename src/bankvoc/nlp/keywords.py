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
    """One compiled alternation per dimension; the term with most keyword hits wins."""

    def __init__(self, terms: list[Term]) -> None:
        self._owner: dict[str, list[str]] = {}
        for term in terms:
            for word in term.keywords:
                self._owner.setdefault(word.lower(), []).append(term.code)
        words = sorted(self._owner, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def predict(self, text: str) -> Prediction:
        if self._pattern is None:
            return Prediction("other", 0.0, ())
        hits = self._pattern.findall(text.lower())
        if not hits:
            return Prediction("other", 0.2, ())
        votes: Counter[str] = Counter()
        for word in hits:
            for code in self._owner[word]:
                votes[code] += 1
        (best, top), *rest = [*votes.most_common(2), ("", 0)]
        runner_up = rest[0][1] if rest else 0
        # More hits, and a clearer lead over the runner-up, mean more confidence.
        confidence = min(0.95, 0.5 + 0.1 * top + 0.15 * (top - runner_up) / top)
        words = tuple(dict.fromkeys(w for w in hits if best in self._owner[w]))
        return Prediction(best, round(confidence, 3), words)


@dataclass(frozen=True)
class TaxonomyClassifiers:
    """The cold-start classifiers of one taxonomy version, one per dimension."""

    product: KeywordClassifier
    category: KeywordClassifier

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> TaxonomyClassifiers:
        return cls(KeywordClassifier(taxonomy.products), KeywordClassifier(taxonomy.categories))


_by_version: dict[str, TaxonomyClassifiers] = {}


def classifiers_for(taxonomy: Taxonomy) -> TaxonomyClassifiers:
    """Compiled once per taxonomy version and process."""
    if taxonomy.version not in _by_version:
        _by_version[taxonomy.version] = TaxonomyClassifiers.from_taxonomy(taxonomy)
    return _by_version[taxonomy.version]
