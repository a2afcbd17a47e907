"""Case reads: counting what a list would page through."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankvoc.cases import service
from bankvoc.cases.schemas import CaseFilters
from tests.analytics.conftest import Bank
from tests.conftest import World


class TestCountCases:
    def test_counts_what_the_list_pages_through_in_the_actors_scope(
            self, world: World, session: Session) -> None:
        bank = Bank(world=world, session=session)
        for org in ("BJ", "BJ01", "SH"):
            bank.case(org, "2026-10-05", kind="suggestion")
        bank.case("BJ", "2026-10-06", kind="suggestion").status = "merged"
        session.flush()
        bank.case("BJ", "2026-10-07")
        suggestions = CaseFilters(kind="suggestion")
        hq, bj = bank.world.actor("hq_admin"), bank.world.actor("bj_handler")
        assert service.count_cases(bank.session, actor=hq, filters=suggestions) == 4
        assert service.count_cases(bank.session, actor=bj, filters=suggestions) == 3
        assert service.count_cases(bank.session, actor=bj, filters=suggestions,
                                   exclude_statuses=("merged",)) == 2
        page, _ = service.list_cases(bank.session, actor=bj, filters=suggestions)
        assert len(page) == 3
