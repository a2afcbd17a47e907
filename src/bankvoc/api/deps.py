"""Request-scoped dependencies: the unit of work and the acting user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import transaction
from bankvoc.core.errors import Unauthorized
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
