"""Fixtures of the workflow tests."""

from __future__ import annotations

import pytest

from bankvoc.orgs import service as org_service
from tests.conftest import World


@pytest.fixture
def bank(world: World) -> World:
    """The test world plus a Beijing team lead, a branch manager and head-office 消保."""
    s = world.session
    bj = org_service.get_org_by_code(s, code="BJ")
    hq = org_service.get_org_by_code(s, code="HQ")
    for name, org, roles in (("bj_lead", bj, ["team_lead"]), ("bj_manager", bj,
                             ["branch_manager"]), ("hq_cpo", hq, ["cpo"]),
                             ("bj_handler2", bj, ["handler"])):
        org_service.create_user(s, username=name, display_name=name, org=org, roles=roles)
    s.flush()
    return world
