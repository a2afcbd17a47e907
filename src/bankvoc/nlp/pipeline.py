"""The whole text pipeline for one text or many: classify, grade, sentiment and PII.

`bankvoc classify`, `POST /api/v1/text/analyze` and the benchmarks use it; intake runs the same
components as its stages. Trained models replace the taxonomy's keywords for the fields they are
activated for; everything else is offline rules and lexicons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Protocol

from bankvoc.nlp import grading, pii, text
from bankvoc.nlp.keywords import classifier_for
from bankvoc.nlp.sentiment import LexiconSentiment, SentimentScorer
from bankvoc.nlp.similarity import DuplicateMatcher
from bankvoc.nlp.taxonomy import Taxonomy, load_taxonomy

FIELDS = ("product", "category")


class TrainedModel(Protocol):
    classes_: Any

    def predict_proba(self, texts: Sequence[str]) -> Any: ...

    def explain_many(self, texts: Sequence[str], labels: Sequence[str] | None = None,
                     top: int = 5) -> list[list[tuple[str, float]]]: ...


@dataclass(frozen=True)
class Decision:
    value: str
    confidence: float
    words: list[str]
    source: str


@dataclass
class Analysis:
    product: str
    category: str
    product_confidence: float
    category_confidence: float
    explanation: dict[str, list[str]]
    severity: str
    severity_reasons: list[str]
    sentiment: float
    sentiment_intensity: float
    pii: list[dict[str, Any]]
    masked_text: str
    language: str
    sources: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies every list and dict, which cost
        # as much as the whole analysis of a short Chinese text.
        return {f.name: getattr(self, f.name) for f in fields(self)}


class TextAnalyzer:
    """Holds the compiled lexicons and any trained models; reuse one for many texts."""

    def __init__(self, *, models: Mapping[str, Any] | None = None,
                 taxonomy: Taxonomy | None = None, sentiment: SentimentScorer | None = None,
                 grading_rules: grading.GradingRules | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.keywords = classifier_for(self.taxonomy)
        self.models = dict(models or {})
        # A trained sentiment model, when one is active, replaces the shipped lexicon.
        self.sentiment = sentiment or self.models.get("sentiment") or default_sentiment()
        self.grading_rules = grading_rules or grading.load_grading_rules()

    def analyze(self, body: str, *, amount: Decimal | None = None) -> Analysis:
        return self.analyze_many([body], amounts=[amount])[0]

    def analyze_many(self, texts: Sequence[str],
                     amounts: Sequence[Decimal | None] | None = None) -> list[Analysis]:
        decisions = self.classify_many(texts)
        moods = self.sentiment.score_many(texts)
        results = []
        for i, body in enumerate(texts):
            spans = pii.find_pii(body)
            mood = moods[i]
            graded = grading.grade(body, amount=amounts[i] if amounts else None,
                                   rules=self.grading_rules, sentiment=mood.polarity)
            product, category = decisions["product"][i], decisions["category"][i]
            results.append(Analysis(
                product=product.value, category=category.value,
                product_confidence=product.confidence, category_confidence=category.confidence,
                explanation={"product": product.words, "category": category.words},
                severity=graded.severity, severity_reasons=graded.reasons,
                sentiment=mood.polarity, sentiment_intensity=mood.intensity,
                pii=[{"type": s.type, "start": s.start, "end": s.end} for s in spans],
                masked_text=pii.mask_text(body, spans), language=text.language(body),
                sources={"product": product.source, "category": category.source},
            ))
        return results

    def classify_many(self, texts: Sequence[str]) -> dict[str, list[Decision]]:
        """Product and category per text: a trained model where one is active, else keywords."""
        by_keywords = None
        decided: dict[str, list[Decision]] = {}
        for name in FIELDS:
            model = self.models.get(name)
            if model is not None:
                decided[name] = model_decisions(model, texts, source=f"model:{name}")
                continue
            if by_keywords is None:
                by_keywords = [self.keywords.predict(t) for t in texts]
            decided[name] = [Decision(p[name].code, p[name].confidence, list(p[name].words),
                                      "keywords") for p in by_keywords]
        return decided


def model_decisions(model: TrainedModel, texts: Sequence[str], *,
                    source: str) -> list[Decision]:
    """A trained classifier's label, its probability and the words behind it, per text."""
    if not texts:
        return []
    probabilities = model.predict_proba(texts)
    best = probabilities.argmax(axis=1)
    labels = [str(model.classes_[i]) for i in best]
    explained = model.explain_many(texts, labels)
    return [Decision(label, round(float(probabilities[row, best[row]]), 3),
                     [word for word, _ in explained[row]], source)
            for row, label in enumerate(labels)]


_default_sentiment: SentimentScorer | None = None


def default_sentiment() -> SentimentScorer:
    """The shipped lexicon scorer, built once per process."""
    global _default_sentiment
    if _default_sentiment is None:
        _default_sentiment = LexiconSentiment()
    return _default_sentiment


_default_matcher: DuplicateMatcher | None = None


def default_matcher() -> DuplicateMatcher:
    """The shipped duplicate matcher (untrained blend), built once per process."""
    global _default_matcher
    if _default_matcher is None:
        _default_matcher = DuplicateMatcher()
    return _default_matcher


def analyze_many(texts: Sequence[str]) -> list[dict[str, Any]]:
    """The pipeline with the shipped defaults (no trained models), as plain dicts."""
    return [a.as_dict() for a in TextAnalyzer().analyze_many(texts)]
