"""Text understanding as the rest of BankVOC asks for it: an analyzer with the active models."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankvoc.nlp import model_store
from bankvoc.nlp.pipeline import FIELDS, TextAnalyzer, TrainedModel
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
