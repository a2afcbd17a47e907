"""The whole schema: every feature's tables, for migrations and the schema test."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    """`Base.metadata` with every feature's models imported (so none is missing)."""
    import bankvoc.alerts.models
    import bankvoc.analytics.models
    import bankvoc.branches.models
    import bankvoc.cases.models
    import bankvoc.cases.workflow.models
    import bankvoc.contact.models
    import bankvoc.core.configstore
    import bankvoc.customers.models
    import bankvoc.intake.channels.models
    import bankvoc.intake.models
    import bankvoc.nlp.faq_models
    import bankvoc.nlp.models
    import bankvoc.notify.models
    import bankvoc.orgs.models
    import bankvoc.people.models
    import bankvoc.portal.models
    import bankvoc.problems.models
    import bankvoc.servicedata.models
    import bankvoc.surveys.models
    import bankvoc.web.models  # noqa: F401
    from bankvoc.core.models import Base

    return Base.metadata
