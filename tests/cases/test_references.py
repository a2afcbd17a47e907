from __future__ import annotations

from sqlalchemy.orm import Session

from bankvoc.cases import references


class TestReserve:
    def test_hands_out_consecutive_blocks_per_prefix_and_day(self, session: Session) -> None:
        first = references.reserve(session, prefix="TS", day="20261122", count=3)
        second = references.reserve(session, prefix="TS", day="20261122", count=2)
        other_day = references.reserve(session, prefix="TS", day="20261123", count=1)
        assert (first, second, other_day) == (1, 4, 1)


class TestFormatReference:
    def test_pads_the_sequence_to_six_digits(self) -> None:
        assert references.format_reference("TS", "20261122", 123) == "TS20261122000123"
