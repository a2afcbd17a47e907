"""Every request gets an id, one access line in the log, and its count and latency in the
metrics (`ops.metrics`): one middleware for the three, so each request is timed and named once.

The id is the caller's X-Request-ID when it is plain and short (a load balancer's or a client's
own), else a new random one; it is bound to every log line written while the request is served
(`core.logs`) and echoed in the response's X-Request-ID header, so a user's report, a proxy's
log and ours meet on it.

The access line names the route's template, never the path or query string the caller sent
(they may hold a case reference, a phone number or a name), nor the client's address.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankvoc.core import logs
from bankvoc.ops.metrics import observe_request, route_template

log = logging.getLogger("bankvoc.access")
_HEADER = logs.REQUEST_ID_HEADER.lower().encode("latin-1")


class RequestContext:
    """Plain ASGI middleware (it must wrap every other, so that their lines carry the id).

    A request is timed to its last byte; one that fails before answering counts as a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((value.decode("latin-1") for name, value in scope.get("headers", [])
                        if name == _HEADER), None)
        request_id = logs.accept_request_id(offered)
        token = logs.bind_request_id(request_id)
        started = time.perf_counter()
        status = 500

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                headers.append((_HEADER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            observe_request(method, route, status, seconds)
            log.info("%s %s %d %.1fms", method, route, status, seconds * 1000,
                     extra={"method": method, "route": route, "status": status,
                            "duration_ms": round(seconds * 1000, 1)})
            logs.reset_request_id(token)
