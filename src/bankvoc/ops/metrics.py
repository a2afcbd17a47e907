"""Prometheus metrics: requests and their latency, queue depths and SLA breaches.

Two kinds of figure, kept apart so that several API processes report one truth:

- per-process counts (requests by route template, method and status, and their latency) are
  prometheus_client counters and histograms. Under several processes (uvicorn --workers,
  gunicorn) set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by the processes of one
  host and cleared at their start: prometheus_client then keeps the figures in files there and
  a scrape of any process sums them all (its multiprocess mode);
- figures of the database (outbox rows waiting, callbacks and deadline alarms due, cases
  past their decision deadline) are read at scrape time by `DatabaseCollector`, so every process
  answers the same numbers without sharing anything but the database.

The route label is the route's template (`/api/v1/cases/{reference}`), never the path a
caller sent, so no reference, phone number or other value of a request becomes a label, and
the number of series stays bounded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount
from starlette.types import Scope

from bankvoc.cases import service as case_service
from bankvoc.cases.enums import OPEN_STATUSES
from bankvoc.cases.models import Case
from bankvoc.core.timeutil import utcnow
from bankvoc.notify.enums import DUE_STATUSES, Status
from bankvoc.notify.models import Notification
from bankvoc.surveys.models import Callback

log = logging.getLogger(__name__)
UNMATCHED = "unmatched"  # a path no route serves (404s): one label, whatever was asked
# Latency buckets (seconds): a page or API call is expected well under a second.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The per-process metrics live in a registry of their own (not prometheus_client's global
# one), so tests and embedding applications may build several apps in one process.
REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_COUNT = Counter("bankvoc_http_requests", "HTTP requests served",
                        ["method", "route", "status"], registry=REQUESTS)
REQUEST_LATENCY = Histogram("bankvoc_http_request_duration_seconds",
                            "Time to serve an HTTP request, until its last byte was sent",
                            ["method", "route", "status"], buckets=BUCKETS, registry=REQUESTS)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (`/api/v1/cases/{reference}`), from
    the app's table `state.route_templates` ((method, endpoint) -> full path, made by
    `api.app.create_app`); a mount's prefix + "/{path}"; else UNMATCHED."""
    app = scope.get("app")
    templates = getattr(getattr(app, "state", None), "route_templates", None) or {}
    found = templates.get((scope.get("method"), scope.get("endpoint")))
    if isinstance(found, str):
        return found
    route = scope.get("route")
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return UNMATCHED


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one HTTP request and its time to the last byte (`ops.requests` calls this)."""
    labels = (method, route, str(status))
    REQUEST_COUNT.labels(*labels).inc()
    REQUEST_LATENCY.labels(*labels).observe(seconds)


class DatabaseCollector(Collector):
    """Queue depths and SLA breaches, counted in the database when scraped."""

    def __init__(self, sessions: sessionmaker[Session],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("bankvoc_database_up",
                               "1 when the database answered this scrape, else 0")
        try:
            figures = list(self._figures())
        except SQLAlchemyError as exc:
            # The type only: a driver's message may carry the connection string.
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _figures(self) -> Iterator[Metric]:
        now = self.clock()
        with self.sessions() as session:
            yield from self._outbox(session, now)
            callbacks = GaugeMetricFamily(
                "bankvoc_callbacks_due", "Callbacks pending whose time has come")
            callbacks.add_metric([], session.scalar(
                select(func.count()).select_from(Callback)
                .where(Callback.status == "pending", Callback.due_at <= now)) or 0)
            yield callbacks
            alarms = GaugeMetricFamily(
                "bankvoc_sla_alarms_due",
                "Open cases whose next deadline warning or escalation is due: the SLA "
                "sweep's backlog")
            alarms.add_metric([], session.scalar(
                select(func.count()).select_from(Case)
                .where(Case.sla_next_at <= now, Case.status.in_(_open()))) or 0)
            yield alarms
            breaches = GaugeMetricFamily(
                "bankvoc_sla_breaches", "Cases whose decision is still to be told past their "
                "deadline (the case list's overdue ones)", labels=["severity"])
            awaiting = [s.value for s in case_service.AWAITING_DECISION]
            for severity, count in session.execute(
                    select(Case.severity, func.count()).where(
                        Case.status.in_(awaiting), Case.due_at < now)
                    .group_by(Case.severity).order_by(Case.severity)):
                breaches.add_metric([str(severity)], int(count))
            yield breaches
            session.rollback()

    @staticmethod
    def _outbox(session: Session, now: datetime) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "bankvoc_outbox_rows", "Notification outbox rows not delivered, by state "
            "(pending and failed wait for an attempt, sending are claimed, dead gave up)",
            labels=["channel", "status"])
        waiting = [Status.pending.value, Status.failed.value, Status.sending.value,
                   Status.dead.value]
        for channel, status, count in session.execute(
                select(Notification.channel, Notification.status, func.count())
                .where(Notification.status.in_(waiting))
                .group_by(Notification.channel, Notification.status)
                .order_by(Notification.channel, Notification.status)):
            depth.add_metric([str(channel), str(status)], int(count))
        yield depth
        due = GaugeMetricFamily(
            "bankvoc_outbox_due", "Notification outbox rows whose next attempt is due now")
        due.add_metric([], session.scalar(
            select(func.count()).select_from(Notification).where(
                Notification.status.in_([s.value for s in DUE_STATUSES]),
                Notification.next_attempt_at <= now)) or 0)
        yield due


def _open() -> list[str]:
    return sorted(s.value for s in OPEN_STATUSES)


def scrape(sessions: sessionmaker[Session]) -> bytes:
    """The exposition text of one scrape: the per-process metrics (summed over the processes
    in multiprocess mode) and the database's figures."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUESTS)
    registry.register(DatabaseCollector(sessions))
    return generate_latest(registry)
