"""Text understanding as the rest of BankVOC asks for it: an analyzer with the active models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.nlp import model_store
from bankvoc.nlp.pipeline import TextAnalyzer
from bankvoc.nlp.topics import cluster_topics
from bankvoc.orgs.service import Actor


def active_models(session: Session) -> dict[str, Any]:
    """The trained model active for each field (product, category, sentiment, duplicates, ...)
    where there is one."""
    return model_store.active_models(session)


def analyzer(session: Session, *, actor: Actor) -> TextAnalyzer:
    actor.require("case.read")
    return TextAnalyzer(models=active_models(session))


@dataclass(frozen=True)
class HotTopic:
    words: list[str]
    size: int
    references: list[str]  # a few typical cases


def hot_topics(session: Session, *, actor: Actor, since: datetime, limit: int = 5_000,
               max_topics: int = 20) -> list[HotTopic]:
    """Clusters of the actor's recent cases (masked texts), labelled with their top words."""
    rows = cases_service.recent_texts(session, actor=actor, since=since, limit=limit)
    references = [r for r, _ in rows]
    topics = cluster_topics([t for _, t in rows], max_topics=max_topics)
    return [HotTopic(words=t.label_words, size=t.size,
                     references=[references[i] for i in t.members[:5]]) for t in topics]


@dataclass(frozen=True)
class SimilarCluster:
    size: int
    references: list[str]  # the first few cases


def similar_clusters(session: Session, *, actor: Actor, since: datetime, until: datetime,
                     min_size: int = 2) -> list[SimilarCluster]:
    """Cases across customers whose texts are copies of one template, biggest group first."""
    return [SimilarCluster(size, references) for size, references in
            cases_service.similar_groups(session, actor=actor, since=since, until=until,
                                         min_size=min_size)]
