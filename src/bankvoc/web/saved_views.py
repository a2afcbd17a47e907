"""Saved views: a user's named case-list filters. Each user sees and deletes only their own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.orgs.service import Actor
from bankvoc.web.models import NAME_MAX, QUERY_MAX, SavedView

MAX_VIEWS = 30


def list_views(session: Session, *, actor: Actor) -> list[SavedView]:
    """The actor's views, by name."""
    actor.require("case.read")
    return list(session.scalars(select(SavedView).where(SavedView.user_id == actor.user_id)
                                .order_by(SavedView.name, SavedView.id)))


def create_view(session: Session, *, actor: Actor, name: str, query: str) -> SavedView:
    """Save `query` (a case-list query string, already normalised) under `name`."""
    actor.require("case.read")
    name = " ".join(name.split())
    if not name:
        raise Invalid("a view needs a name", field="name", code="required")
    if len(name) > NAME_MAX:
        raise Invalid(f"a view name has at most {NAME_MAX} characters", field="name",
                      code="too_long")
    if len(query) > QUERY_MAX:
        raise Invalid(f"these filters are too long to save (at most {QUERY_MAX} characters)",
                      field="query", code="too_long")
    mine = SavedView.user_id == actor.user_id
    if session.scalar(select(SavedView.id).where(mine, SavedView.name == name)) is not None:
        raise Conflict(f"you have a view named {name!r} already", field="name",
                       code="duplicate")
    if (session.scalar(select(func.count()).select_from(SavedView).where(mine)) or 0) \
            >= MAX_VIEWS:
        raise Conflict(f"you have {MAX_VIEWS} views already: delete one first", field="name",
                       code="too_many")
    view = SavedView(user_id=actor.user_id, name=name, query=query)
    session.add(view)
    session.flush()
    return view


def delete_view(session: Session, *, actor: Actor, view_id: int) -> SavedView:
    """Delete one of the actor's views; anyone else's is as good as absent."""
    actor.require("case.read")
    view = session.scalar(select(SavedView).where(SavedView.id == view_id,
                                                  SavedView.user_id == actor.user_id))
    if view is None:
        raise NotFound(f"no saved view {view_id}", field="view")
    session.delete(view)
    session.flush()
    return view
