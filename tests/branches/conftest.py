"""Fixtures of the branch-inspection tests: the test world plus an inspector at head office,
a branch manager of outlet BJ01, and a small checklist whose weights are easy to add up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from bankvoc.branches.checklist import Checklist, parse_checklist
from bankvoc.branches.schemas import AnswerIn, VisitCreate
from bankvoc.orgs import service as org_service
from tests.conftest import World

SMALL = """\
version: "t1"
steps:
  - code: greeting
    zh: 迎候
    en: Greeting
    items:
      - {code: g1, zh: 起身迎候, en: Stand up, weight: 2}
      - {code: g2, zh: 问候语, en: Greeting words, weight: 3}
      - {code: g3, zh: 工号牌, en: Badge, weight: 1}
  - code: identity
    zh: 身份核验
    en: Identity check
    items:
      - {code: i1, zh: 核验证件, en: Check the ID, weight: 4, critical: true}
      - {code: i2, zh: 人证比对, en: Face matches, weight: 2}
      - {code: i3, zh: 不读出号码, en: No numbers aloud, weight: 8}
"""

VISITED = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def small() -> Checklist:
    return parse_checklist(SMALL)


@pytest.fixture
def world(world: World) -> World:
    """The test world plus an inspector (qa_inspector at head office) and BJ01's branch
    manager."""
    s = world.session
    hq = org_service.get_org_by_code(s, code="HQ")
    bj1 = org_service.get_org_by_code(s, code="BJ01")
    for name, org, roles in (("hq_inspector", hq, ["qa_inspector"]),
                             ("bj1_manager", bj1, ["branch_manager"])):
        user = org_service.create_user(s, username=name, display_name=name, org=org,
                                       roles=roles)
        world.tokens[name] = org_service.issue_token(s, user=user)
    s.flush()
    return world


def visit(org_id: int, results: Mapping[str, str], *, remarks: Mapping[str, str] | None = None,
          visited_at: datetime = VISITED, kind: str = "inspection") -> VisitCreate:
    return VisitCreate(org_id=org_id, kind=kind, visited_at=visited_at, answers=[
        AnswerIn(item_code=code, result=result, remark=(remarks or {}).get(code, ""))
        for code, result in results.items()])
