"""The bulk writers of the intake hot path, on every database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.db import bulk_insert_ids
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import Customer


def customers(*segments: str) -> list[dict[str, Any]]:
    fields = ("name_enc", "phone_enc", "id_number_enc", "phone_bidx", "id_number_bidx",
              "name_masked", "phone_masked", "id_number_masked", "birth_year")
    return [{**dict.fromkeys(fields), "segment": segment, "flags": [], "created_at": utcnow()}
            for segment in segments]


class TestBulkInsertIds:
    def test_gives_each_new_row_its_id_in_the_order_of_the_rows(self, session: Session) -> None:
        bulk_insert_ids(session, Customer, customers("before"))
        ids = bulk_insert_ids(session, Customer, customers("a", "b", "c"))
        stored = dict(session.execute(select(Customer.id, Customer.segment)).all())
        assert [stored[i] for i in ids] == ["a", "b", "c"]

    def test_nothing_to_insert_gives_no_ids(self, session: Session) -> None:
        assert bulk_insert_ids(session, Customer, []) == []
