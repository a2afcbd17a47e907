"""The one FastAPI application: REST under /api/v1, pages at /, health and OpenAPI."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bankvoc import __version__
from bankvoc.alerts.api import router as alerts_router
from bankvoc.analytics.api import router as analytics_router
from bankvoc.analytics.journeys_api import router as journeys_router
from bankvoc.api import access, errors
from bankvoc.cases.api import router as cases_router
from bankvoc.cases.workflow.api import router as workflow_router
from bankvoc.core.db import get_engine, session_factory
from bankvoc.core.gctune import settle_for_serving
from bankvoc.core.settings import get_settings
from bankvoc.customers.api import router as customers_router
from bankvoc.intake.api import router as intake_router
from bankvoc.intake.channels.api import router as channels_router
from bankvoc.nlp.api import router as text_router
from bankvoc.nlp.faq_api import router as faq_router
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.ops.api import router as ops_router
from bankvoc.ops.requests import RequestContext
from bankvoc.orgs.api import router as orgs_router
from bankvoc.problems.api import router as problems_router
from bankvoc.reports.api import router as reports_router
from bankvoc.reports.regulatory_api import router as regulatory_router
from bankvoc.surveys.api import router as surveys_router

API_PREFIX = "/api/v1"


def create_app(
    engine: Engine | None = None, sessions: sessionmaker[Session] | None = None
) -> FastAPI:
    """The app; tests pass `sessions` bound to a connection they roll back afterwards."""
    settings = get_settings()
    settings.check_safe()
    load_taxonomy()  # a bad taxonomy file of the bank's stops the start, naming line and reason
    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN, and nothing here may.
    # The spec itself stays at /openapi.json.
    app = FastAPI(title="BankVOC", version=__version__, docs_url=None, redoc_url=None,
                  description="Voice of the Customer and complaint management for banks")
    app.state.sessions = sessions or session_factory(engine or get_engine())
    errors.install(app)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(access.check_route_permission)])
    # Registration routes first: POST /cases/bulk must not be taken for a case reference.
    api.include_router(intake_router)
    api.include_router(cases_router)
    api.include_router(workflow_router)
    api.include_router(orgs_router)
    api.include_router(text_router)
    api.include_router(faq_router)
    api.include_router(surveys_router)
    api.include_router(channels_router)
    api.include_router(analytics_router)
    api.include_router(journeys_router)
    api.include_router(customers_router)
    api.include_router(alerts_router)
    api.include_router(problems_router)
    api.include_router(reports_router)
    api.include_router(regulatory_router)
    app.include_router(api)

    app.include_router(ops_router)

    from bankvoc.web.routes import install as install_web
    from bankvoc.web.security import install as install_security_headers

    install_web(app)
    install_security_headers(app)
    routes = access.app_routes(app)
    access.install(app, routes)
    # The metrics and the access log name a request by its route's template, never its path.
    app.state.route_templates = {(method, route.endpoint): path for method, path, route in routes}
    # Outermost last: every line logged while a request is served carries its id.
    app.add_middleware(RequestContext)
    return app


def serve_app() -> FastAPI:
    """The app of a server process (`bankvoc serve`, `uvicorn --factory
    bankvoc.api.app:serve_app`): `create_app`, then the garbage collector set for a process that
    serves for a long time (never in tests, which build an app for each)."""
    app = create_app()
    settle_for_serving()
    return app
