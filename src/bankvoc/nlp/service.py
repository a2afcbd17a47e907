"""Text understanding as the rest of BankVOC asks for it: an analyzer with the active models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.nlp import model_store
from bankvoc.nlp.pipeline import FIELDS, TextAnalyzer, TrainedModel
from bankvoc.nlp.topics import cluster_topics
from bankvoc.orgs.service import Actor


def active_models(session: Session) -> dict[str, TrainedModel]:
    """The trained model activated for each classified field, where there is one."""
    models: dict[str, TrainedModel] = {}
    for name in FIELDS:
        model = model_store.active_for(session, field=name)
        if model is not None:
            models[name] = model
    return models


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
