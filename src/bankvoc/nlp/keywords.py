"""Cold-start classification from the taxonomy's lexicons: explainable keyword matching."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bankvoc.nlp.taxonomy import Taxonomy, Term

VERSION = 1


@dataclass(frozen=True)
class Prediction:
    code: str
    confidence: float
    words: tuple[str, ...]


_NOTHING = Prediction("other", 0.2, ())


class KeywordClassifier:
    """Keyword voting over several dimensions (product, category, …) in one pass of the text.

    All lexicons are compiled into one pattern that finds, left to right, the longest word at
    each position (as an alternation of the words, longest first, would); each hit votes for
    the terms that list the word, and the term with most votes wins its dimension.
    """

    def __init__(self, dimensions: dict[str, list[Term]]) -> None:
        self.dimensions = tuple(dimensions)
        self._owners: dict[str, list[tuple[str, str]]] = {}
        for dimension, terms in dimensions.items():
            for term in terms:
                for word in term.keywords:
                    self._owners.setdefault(word.lower(), []).append((dimension, term.code))
        self._pattern = _words_pattern(self._owners)
        # An ASCII text (most English ones) can only hold the ASCII words: a smaller pattern,
        # which also lets the regex engine skip at C speed to where one of them may begin.
        self._ascii_pattern = _words_pattern(w for w in self._owners if w.isascii())

    def predict(self, text: str) -> dict[str, Prediction]:
        lowered = text.lower()
        pattern = self._ascii_pattern if lowered.isascii() else self._pattern
        hits = pattern.findall(lowered) if pattern is not None else []
        if not hits:
            return dict.fromkeys(self.dimensions, _NOTHING)
        # Per dimension, each term's words in the order found, once per vote: a term's number
        # of votes is the length of its list.
        voted: dict[str, dict[str, list[str]]] = {d: {} for d in self.dimensions}
        owners = self._owners
        for word in hits:
            for dimension, code in owners[word]:
                found = voted[dimension].get(code)
                if found is None:
                    voted[dimension][code] = [word]
                else:
                    found.append(word)
        return {d: _decide(voted[d]) for d in self.dimensions}


def _decide(voted: dict[str, list[str]]) -> Prediction:
    if not voted:
        return _NOTHING
    # The most votes wins; a tie goes to the term voted for first.
    best, top = "", 0
    for code, words in voted.items():
        if len(words) > top:
            best, top = code, len(words)
    runner_up = max((len(w) for c, w in voted.items() if c != best), default=0)
    # More hits, and a clearer lead over the runner-up, mean more confidence.
    confidence = min(0.95, 0.5 + 0.1 * top + 0.15 * (top - runner_up) / top)
    return Prediction(best, round(confidence, 3), tuple(dict.fromkeys(voted[best])))


def _words_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern whose `findall` gives what one alternation of `words`, longest first, gives.

    A flat alternation makes the regex engine try every word at every position (400 µs on a
    1,000-character narrative), so the words are compiled into a trie, (?:c(?:ash|ard)|…),
    which tries one branch per character. A trie's top level still tries every first character
    in turn after a branch fails, so the words are grouped by script, each group behind a
    look-ahead for its first characters: an English text does not wade through a hundred
    Chinese first characters at every letter.
    """
    groups: dict[bool, list[str]] = {}
    for word in words:
        groups.setdefault(word[0].isascii(), []).append(word)
    tries = [(_trie(group), {w[0] for w in group}) for group in groups.values()]
    if len(tries) <= 1:  # one group needs no guard, and keeps the engine's skip-ahead
        return re.compile(tries[0][0]) if tries else None
    return re.compile("|".join("(?=[" + "".join(map(re.escape, sorted(first))) + "])" + trie
                               for trie, first in tries))


def _trie(words: list[str]) -> str:
    """The words as a trie: every branch tried in turn, a longer word before its prefix."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(node[char]) for char in sorted(node) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a word ends here: greedy, so the longer word is tried first
            return f"(?:{body})?" if len(branches) == 1 else body + "?"
        return body

    return "(?:" + build(root) + ")"


# Keyed by the loaded taxonomy itself (kept alive here, so its id is never reused), not by its
# version: a bank may edit keywords without bumping the version.
_compiled: dict[int, tuple[Taxonomy, KeywordClassifier]] = {}


def classifier_for(taxonomy: Taxonomy) -> KeywordClassifier:
    """The taxonomy's product and category classifier, compiled once per loaded taxonomy."""
    if id(taxonomy) not in _compiled:
        _compiled[id(taxonomy)] = (taxonomy, KeywordClassifier(
            {"product": taxonomy.products, "category": taxonomy.categories}))
    return _compiled[id(taxonomy)][1]
