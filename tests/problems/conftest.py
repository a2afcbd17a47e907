"""Fixtures of the problem-library tests: the test world plus head-office consumer protection,
and cases registered or planted directly."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from typing import Any

import pytest

from bankvoc.cases.models import Case
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from tests.conftest import World

_numbers = itertools.count(1)


@pytest.fixture
def world(world: World) -> World:
    """The test world plus head-office 消保 (hq_cpo) and a second Beijing handler (the API
    tests' client commits this one)."""
    return with_staff(world)


@pytest.fixture
def bank(world: World) -> World:
    """The same staffed world, by the name the service tests use for it."""
    return world


def with_staff(world: World) -> World:
    """The test world plus head-office 消保 (hq_cpo) and a second Beijing handler."""
    s = world.session
    hq = org_service.get_org_by_code(s, code="HQ")
    bj = org_service.get_org_by_code(s, code="BJ")
    for name, org, roles in (("hq_cpo", hq, ["cpo"]), ("bj_handler2", bj, ["handler"])):
        user = org_service.create_user(s, username=name, display_name=name, org=org,
                                       roles=roles)
        world.tokens[name] = org_service.issue_token(s, user=user)
    s.flush()
    return world


def register(world: World, text: str, *, user: str = "bj_handler", **fields: Any) -> Case:
    """A case registered through intake, as a customer's complaint arrives."""
    data = CaseCreate.model_validate({"text": text, "source_id": f"p{next(_numbers)}",
                                      "received_at": "2026-09-22 10:00", **fields})
    draft = intake_service.register_case(world.session, actor=world.actor(user), data=data)
    return world.session.get_one(Case, draft.case_id)


def plant(org: Org, received_at: datetime, *, kind: str = "complaint",
          text: str = "网点排队时间太长") -> Case:
    """A bare case row (no intake), for panels of many cases."""
    number = next(_numbers)
    return Case(reference=f"TS{number:014d}", kind=kind, channel="branch", status="received",
                severity="general", org_id=org.id, title=text[:20], text_masked=text,
                text_enc="x", text_hash=hashlib.sha256(f"{number}".encode()).hexdigest(),
                received_at=received_at, created_at=received_at, updated_at=received_at)
