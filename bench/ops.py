"""Operations benchmark: key rotation and backup/restore on a database of N customers.

    python bench/ops.py [--customers N] [--database URL] [--batch B]

Stores N customers (name, phone and ID number encrypted, two blind indexes each) under the
key "b1", then times, on the product's own code: `bankvoc db backup` (ops.backup.backup), a
restore of it into a new database, and the rotation of every value to the key "b2"
(ops.keys.rotate, batches of B). SQLite under a temporary directory unless --database names
an empty PostgreSQL database.

The last line is one JSON object: {"customers", "backup_s", "backup_bytes", "restore_s",
"rotate_s", "rotated_rows_per_s", "values", "remaining"}.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, bulk_insert, unit_of_work
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import service as customer_service
from bankvoc.customers.crypto import KeyRing
from bankvoc.customers.models import Customer
from bankvoc.ops import backup, keys

OLD = "b1:" + base64.b64encode(b"bench-old-pii-key-32-bytes-00000").decode()
NEW = "b2:" + base64.b64encode(b"bench-new-pii-key-32-bytes-00000").decode()


def id_number(rng: random.Random) -> str:
    body = f"110101{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    url = args.database or f"sqlite:///{work / 'bench.db'}"
    engine = build_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(7)
    old = KeyRing(OLD)
    rows = []
    for number in range(args.customers):
        identity = customer_service.protect_identity(
            old, name=f"客户{number}", phone=f"13{rng.randint(0, 999_999_999):09d}",
            id_number=id_number(rng))
        rows.append({**identity.as_row(), "created_at": identity_time()})
    with unit_of_work(engine) as session:
        for start in range(0, len(rows), 5_000):
            bulk_insert(session, Customer, rows[start:start + 5_000])
    started = time.perf_counter()
    report = backup.backup(engine, work / "bench.backup")
    backup_s = time.perf_counter() - started
    restored_url = (f"sqlite:///{work / 'restored.db'}" if url.startswith("sqlite")
                    else None)
    restore_s = None
    if restored_url:
        target = build_engine(restored_url)
        started = time.perf_counter()
        backup.restore(target, work / "bench.backup")
        restore_s = round(time.perf_counter() - started, 3)
        target.dispose()
    started = time.perf_counter()
    rotation = keys.rotate(engine, batch_size=args.batch, ring=KeyRing(f"{NEW},{OLD}"))
    rotate_s = time.perf_counter() - started
    print(f"rotated {rotation.rotated} rows in {rotate_s:.1f} s", file=sys.stderr)
    print(json.dumps({
        "customers": args.customers, "backup_s": round(backup_s, 3),
        "backup_bytes": report.bytes, "restore_s": restore_s, "rotate_s": round(rotate_s, 3),
        "rotated_rows_per_s": round(rotation.rotated / rotate_s), "values": rotation.values,
        "remaining": rotation.remaining}))
    engine.dispose()


def identity_time() -> datetime:
    return utcnow()


if __name__ == "__main__":
    main()
