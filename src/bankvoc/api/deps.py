"""Request-scoped dependencies: the unit of work and the acting user."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import transaction
from bankvoc.core.errors import Unauthorized
from bankvoc.core.settings import get_settings
from bankvoc.customers.disclosure import Via
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor


def _session(request: Request) -> Iterator[Session]:
    """The API's unit of work: commit when the route returns, roll back when it raises."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with transaction(sessions) as session:
        yield session


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
