"""The pages' permission gate, and the security headers on every response the app sends:
pages, redirects, errors, API JSON, exports, attachments and static files alike, so no route
can forget them.

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which buffers streamed bodies):
it adds each header the response has not set itself, so a route may still choose its own (a
report file its Content-Disposition, a static asset its caching).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankvoc.api.access import AUTHENTICATED, PUBLIC, permission_of
from bankvoc.web.rendering import SECURITY_HEADERS, CurrentViewer

# Static assets are versioned by release and hold nothing personal: browsers may keep them.
_STATIC_PREFIX = "/static/"
_STATIC_CACHE = "public, max-age=3600"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(_STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._completed(list(message.get("headers", [])), static)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _completed(self, headers: list[tuple[bytes, bytes]],
                   static: bool) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        for name, value in self.headers:
            if name in present:
                continue
            if static and name == b"cache-control":
                value = _STATIC_CACHE.encode()
            headers.append((name, value))
        return headers


def install(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)


def check_page_permission(request: Request, who: CurrentViewer) -> None:
    """The gate every signed-in page passes (see `api.access`): the anonymous are sent to log
    in by the viewer, a role without the page's permission gets the 403 page."""
    permission = permission_of(request)
    if permission not in (PUBLIC, AUTHENTICATED):
        who.actor.require(permission)
