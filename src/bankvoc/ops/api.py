"""Probes and metrics: /healthz, /readyz, /metrics (outside /api/v1; see api/access.py).

/metrics is readable with `Authorization: Bearer <BANKVOC_METRICS_TOKEN>`; while no token is
set, only by a client on this machine that came straight in (loopback peer, no
X-Forwarded-For): it reveals volumes and queue depths, not personal data, but is no one
else's business.
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from bankvoc import __version__
from bankvoc.core.errors import Forbidden
from bankvoc.core.settings import get_settings
from bankvoc.ops import health, metrics

router = APIRouter(tags=["ops"])


class MetricsForbidden(Forbidden):
    code = "metrics_forbidden"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers (the database is not asked)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", responses={503: {"description": "Not ready: database or schema"}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is at head; 503 otherwise."""
    result = health.readiness(request.app.state.sessions)
    return JSONResponse(result.as_dict(), status_code=200 if result.ready else 503)


def _loopback(request: Request) -> bool:
    if request.client is None or "x-forwarded-for" in request.headers:
        return False
    try:
        return ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request) -> None:
    token = get_settings().metrics_token
    if token:
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(),
                                                              token.encode()):
            return
        raise MetricsForbidden("metrics need the bearer token BANKVOC_METRICS_TOKEN",
                               field="authorization")
    if not _loopback(request):
        raise MetricsForbidden("metrics are served to this machine only while "
                               "BANKVOC_METRICS_TOKEN is unset", field="authorization")


@router.get("/metrics", responses={403: {"description": "Neither the token nor loopback"}})
def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    check_metrics_access(request)
    return Response(metrics.scrape(request.app.state.sessions),
                    media_type=CONTENT_TYPE_LATEST)
