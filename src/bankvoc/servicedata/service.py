"""What other features and the interfaces call: importing service data, storing generated
records in bulk (the demo), and the metrics against their targets. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bankvoc.core.db import insert_new
from bankvoc.core.rowimport import ImportCounts
from bankvoc.core.timeutil import utcnow
from bankvoc.orgs.service import Actor
from bankvoc.servicedata.imports import (
    KINDS,
    PERMISSION,
    TABLES,
    Kind,
    Lookups,
    import_rows,
    parse,
    store,
)
from bankvoc.servicedata.metrics import (
    COMPARED,
    OrgRow,
    Report,
    Series,
    add_months,
    by_org,
    latest_month,
    months_between,
    parse_month,
    report,
)
from bankvoc.servicedata.targets import METRICS, Metric, load_targets

__all__ = ["COMPARED", "KINDS", "METRICS", "ImportCounts", "Kind", "Metric", "OrgRow", "Report",
           "Series", "add_months", "by_org", "import_rows", "latest_month", "load_targets",
           "months_between", "parse_month", "report", "store", "store_many"]


def store_many(session: Session, *, actor: Actor, kind: Kind,
               records: Sequence[dict[str, Any]]) -> int:
    """Store records that are known to be good (generated ones) in one statement, each once
    per natural key (one already stored is left as it is); returns how many were new. A bad
    record raises Invalid naming its field, and nothing of the batch is stored."""
    actor.require(PERMISSION)
    model, resolver = TABLES[kind]
    lookups = Lookups()
    now = utcnow()
    rows = []
    key_names: list[str] = []
    for values in records:
        key, columns = resolver(session, actor, parse(kind, values), lookups)
        key_names = list(key)
        rows.append({**key, **columns, "created_at": now, "updated_at": now})
    return insert_new(session, model, rows, key_names)
