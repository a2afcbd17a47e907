from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bankvoc.cases import references
from bankvoc.core.db import build_engine, unit_of_work


class TestReserve:
    def test_hands_out_consecutive_blocks_per_prefix_and_day(self, session: Session) -> None:
        first = references.reserve(session, prefix="TS", day="20261122", count=3)
        second = references.reserve(session, prefix="TS", day="20261122", count=2)
        other_day = references.reserve(session, prefix="TS", day="20261123", count=1)
        assert (first, second, other_day) == (1, 4, 1)


class TestFormatReference:
    def test_pads_the_sequence_to_six_digits(self) -> None:
        assert references.format_reference("TS", "20261122", 123) == "TS20261122000123"


class TestReserveOnPostgresql:
    """Registrations take the day's counter in a transaction of their own, committed at once."""

    @pytest.fixture
    def engine(self, backend: str, fresh_db_url: str) -> Iterator[Engine]:
        if backend != "postgresql":
            pytest.skip("SQLite: the numbers come from the one writer's own transaction")
        engine = build_engine(fresh_db_url)
        yield engine
        engine.dispose()

    def test_a_reservation_never_waits_for_another_registration_to_commit(
        self, engine: Engine
    ) -> None:
        with unit_of_work(engine) as first:
            one = references.reserve(first, prefix="TS", day="20261122", count=3)
            with unit_of_work(engine) as second:
                # Were the counter row still locked by `first`, this would wait for it.
                second.execute(text("SET LOCAL lock_timeout = '2s'"))
                other = references.reserve(second, prefix="TS", day="20261122", count=2)
        assert (one, other) == (1, 4)

    def test_numbers_of_a_registration_that_failed_stay_unused(self, engine: Engine) -> None:
        def register_and_fail() -> None:
            with unit_of_work(engine) as failed:
                references.reserve(failed, prefix="TS", day="20261122", count=2)
                raise RuntimeError("the registration failed after its numbers were drawn")

        with pytest.raises(RuntimeError):
            register_and_fail()
        with unit_of_work(engine) as session:
            assert references.reserve(session, prefix="TS", day="20261122", count=1) == 3
