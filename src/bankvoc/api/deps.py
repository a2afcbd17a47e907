"""Request-scoped dependencies: the unit of work and the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from anyio import Semaphore, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import pool_capacity, transaction
from bankvoc.core.errors import Unauthorized
from bankvoc.core.settings import get_settings
from bankvoc.customers.disclosure import Via
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

# Connections of the pool left to what runs outside requests' units of work (the readiness
# check, the metrics scrape, jobs run after a commit in this process).
POOL_HEADROOM = 3
_units = RunVar[Semaphore]("bankvoc_units_of_work")


def _units_at_once(request: Request) -> Semaphore:
    """Requests of this process (and event loop) inside a unit of work at once: fewer than the
    pool's connections. A request beyond waits here, holding neither a thread nor a connection.

    Without the gate, requests past the pool's size took a worker thread each and blocked in it
    waiting for a connection; the requests holding the connections then had no thread left to
    run their route or commit in, and nothing moved until the pool's time-out failed the
    waiters (bench/load.py at 200 requests/s: whole seconds without an answer)."""
    try:
        return _units.get()
    except LookupError:
        sessions: sessionmaker[Session] = request.app.state.sessions
        capacity = pool_capacity(sessions.kw.get("bind"))
        gate = Semaphore(max(1, capacity - POOL_HEADROOM) if capacity else 1)
        _units.set(gate)
        return gate


async def _session(request: Request) -> AsyncIterator[Session]:
    """The API's unit of work: commit when the route returns, roll back when it raises."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    async with _units_at_once(request):
        unit = transaction(sessions)
        session = await to_thread.run_sync(unit.__enter__)
        try:
            yield session
        except BaseException as error:
            await to_thread.run_sync(unit.__exit__, type(error), error, error.__traceback__)
            raise
        await to_thread.run_sync(unit.__exit__, None, None, None)


# "function" scope: the commit happens before the response is sent, so a failed commit is an
# error response, never a 201 for something that was not stored.
DbSession = Annotated[Session, Depends(_session, scope="function")]


def _bearer(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'", field="Authorization")
    return token.strip()


def authenticated_actor(session: Session, request: Request) -> Actor:
    """The caller of this request, looked up once (the route gate and the route share it)."""
    known: Actor | None = getattr(request.state, "actor", None)
    if known is None:
        known = request.state.actor = org_service.authenticate(session, token=_bearer(request))
    return known


def _actor(session: DbSession, request: Request) -> Actor:
    return authenticated_actor(session, request)


CurrentActor = Annotated[Actor, Depends(_actor)]


def _trusted(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_address(request: Request) -> str | None:
    """The client's address (what log-in throttling counts): the peer's, unless the peer is a
    proxy of `BANKVOC_TRUSTED_PROXIES`; then X-Forwarded-For is read from the right, past the
    trusted proxies, to the first address no trusted proxy stands for (a client can prepend
    anything to the header, so only what trusted proxies appended is believed)."""
    peer = request.client.host if request.client else None
    networks = get_settings().trusted_networks
    if peer is None or not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for line in request.headers.getlist("x-forwarded-for")
            for hop in line.split(",") if hop.strip()]
    current = peer
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return current  # garbage before the trusted part: the last proxy's word stands
        current = hop
        if not _trusted(hop, networks):
            return hop
    return current


def route_template(request: Request) -> str:
    """"METHOD /full/{path}" of the route serving the request (an included router's route
    knows only its own part of the path: the prefix is what precedes it in the URL)."""
    route = request.scope.get("route")
    path = request.url.path
    root = str(request.scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root):]
    template = getattr(route, "path_format", None)
    if template is None:
        return f"{request.method} {path}"
    concrete = template.format(**{k: str(v) for k, v in request.path_params.items()})
    prefix = path[:-len(concrete)] if concrete and path.endswith(concrete) else ""
    return f"{request.method} {prefix}{template}"


def _disclosure_via(request: Request) -> Via:
    template = route_template(request)
    return Via("api" if template.split(" ", 1)[-1].startswith("/api/") else "page", template)


# Through which route personal data leaves (customers.disclosure), for the routes that reveal.
DisclosureVia = Annotated[Via, Depends(_disclosure_via)]
