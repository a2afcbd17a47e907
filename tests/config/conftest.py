"""Fixtures of the versioned-configuration tests: each test starts and ends with no version in
force in this process (a version activated in a rolled-back test must not leak into others)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from bankvoc.core import configstore
from bankvoc.orgs.service import Actor
from tests.conftest import World


@pytest.fixture(autouse=True)
def _fresh_view() -> Iterator[None]:
    configstore.reset()
    yield
    configstore.reset()


@pytest.fixture
def admin(world: World) -> Actor:
    actor: Actor = world.actor("hq_admin")
    return actor


def in_force(session: Session) -> configstore.Snapshot:
    """What a unit of work beginning now would see (the view re-read at once)."""
    return configstore.refresh(session, max_age=0)
