from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from bankvoc.analytics import freshness, service
from bankvoc.analytics.freshness import FiguresCache
from bankvoc.analytics.models import CaseRollup, KpiTarget, OrgMonthStat
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.errors import Forbidden
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_db_url)
    yield engine
    engine.dispose()


def token(engine: Engine) -> str | None:
    with unit_of_work(engine) as session:
        return freshness.current(session)


def hq(session: Session) -> Org:
    return org_service.get_org_by_code(session, code="HQ")


def set_a_target_then_fail(engine: Engine, then: Callable[[Session], object], *,
                           flush: bool = True) -> None:
    """A unit of work that writes a target (flushed, or only added), does `then` and fails: it
    rolls back."""
    with unit_of_work(engine) as session:
        session.add(KpiTarget(kpi="csat", value=90, valid_from=date(2026, 1, 1)))
        if flush:
            session.flush()
        then(session)
        raise RuntimeError("changed my mind")


class TestTheToken:
    def test_a_migrated_database_has_one(self, engine: Engine) -> None:
        assert token(engine)

    def test_a_committed_target_replaces_it(self, engine: Engine) -> None:
        before = token(engine)
        with unit_of_work(engine) as session:
            session.add(KpiTarget(kpi="csat", value=90, valid_from=date(2026, 1, 1)))
        assert token(engine) not in (None, before)

    def test_statements_writing_the_roll_up_or_denominators_replace_it(
            self, engine: Engine) -> None:
        before = token(engine)
        with unit_of_work(engine) as session:
            session.execute(insert(CaseRollup), [{
                "grain": "month", "period": date(2026, 10, 1), "org_id": hq(session).id,
                "kind": "complaint", "dim": "all", "value": "", "cases": 3}])
        middle = token(engine)
        assert middle not in (None, before)
        with unit_of_work(engine) as session:
            session.execute(insert(OrgMonthStat).values(
                org_id=hq(session).id, month=date(2026, 10, 1), customers=1000))
        assert token(engine) not in (None, before, middle)

    def test_a_rolled_back_change_leaves_it(self, engine: Engine) -> None:
        before = token(engine)
        with pytest.raises(RuntimeError, match="changed my mind"):
            set_a_target_then_fail(engine, then=lambda session: None)
        assert token(engine) == before

    def test_writes_to_other_tables_leave_it(self, engine: Engine) -> None:
        before = token(engine)
        with unit_of_work(engine) as session:
            org_service.create_user(session, username="u1", display_name="u1",
                                    org=hq(session), roles=["analyst"])
        assert token(engine) == before


class TestFiguresCache:
    def test_reuses_figures_while_the_token_holds(self, engine: Engine) -> None:
        cache, calls = FiguresCache(), []

        def work_out() -> int:
            calls.append(1)
            return len(calls)

        with unit_of_work(engine) as session:
            assert cache.get(session, "k", work_out) == 1
            assert cache.get(session, "k", work_out) == 1
            assert cache.get(session, "other", work_out) == 2
        with unit_of_work(engine) as session:  # another unit of work, same figures
            assert cache.get(session, "k", work_out) == 1
        with unit_of_work(engine) as session:
            session.add(KpiTarget(kpi="csat", value=90, valid_from=date(2026, 1, 1)))
        with unit_of_work(engine) as session:
            assert cache.get(session, "k", work_out) == 3

    @pytest.mark.parametrize("flush", [True, False], ids=["flushed", "only added"])
    def test_never_keeps_what_a_transaction_with_its_own_changes_saw(
            self, engine: Engine, flush: bool) -> None:
        cache, calls = FiguresCache(), []

        def work_out() -> int:
            calls.append(1)
            return len(calls)

        seen: list[int] = []
        with pytest.raises(RuntimeError, match="changed my mind"):
            set_a_target_then_fail(
                engine, then=lambda session: seen.append(cache.get(session, "k", work_out)),
                flush=flush)
        assert seen == [1]
        with unit_of_work(engine) as session:
            assert cache.get(session, "k", work_out) == 2


class TestHeadlineFigures:
    def test_a_new_target_shows_at_once(self, engine: Engine) -> None:
        with unit_of_work(engine) as session:
            admin = org_service.actor_for(org_service.create_user(
                session, username="boss", display_name="boss", org=hq(session),
                roles=["admin"]))
        with unit_of_work(engine) as session:
            first = service.headline_figures(session, actor=admin, period="2026-10")
        assert {f["kpi"]: f["target"] for f in first}["csat"] is None
        with unit_of_work(engine) as session:
            service.set_target(session, actor=admin, kpi="csat", value=88.0,
                               valid_from=date(2026, 1, 1))
        with unit_of_work(engine) as session:
            again = service.headline_figures(session, actor=admin, period="2026-10")
            assert {f["kpi"]: f["target"] for f in again}["csat"] == 88.0
            assert session.scalar(select(KpiTarget.value)) == 88.0

    def test_checks_the_right_to_read_every_time(self, engine: Engine) -> None:
        with unit_of_work(engine) as session:
            bj = org_service.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch,
                                        parent=hq(session))
            sh = org_service.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch,
                                        parent=hq(session))
            admin = org_service.actor_for(org_service.create_user(
                session, username="boss", display_name="boss", org=hq(session),
                roles=["admin"]))
            bj_analyst = org_service.actor_for(org_service.create_user(
                session, username="bj", display_name="bj", org=bj, roles=["analyst"]))
            assert sh.code == "SH"
        with unit_of_work(engine) as session:
            assert service.headline_figures(session, actor=admin, period="2026-10", org="SH")
        with unit_of_work(engine) as session, pytest.raises(Forbidden, match="outside"):
            service.headline_figures(session, actor=bj_analyst, period="2026-10", org="SH")
