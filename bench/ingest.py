"""Ingest benchmark: records per second through the whole intake pipeline, and for raw inserts
of the very rows the pipeline stored (the storage limit of this machine), in one run.

    python bench/ingest.py [--records N] [--batch-size B] [--database-url URL]

The records are the demo generator's (realistic Chinese complaints with customers, amounts,
repeat complainants, personal data in the text), written to a CSV file with a bank's Chinese
headers and imported with `import_file`: reading, header mapping, every pipeline stage and the
batched transactions are timed. The raw run inserts the stored customer, case, event and intake
rows into a fresh database with the driver's executemany, batch by batch, with nothing else.
The last line is one JSON object: {"records", "pipeline_rps", "raw_insert_rps", ...}.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, normalise_url, unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.demo import generator
from bankvoc.demo.service import ensure_orgs
from bankvoc.intake.importer import import_file
from bankvoc.orgs import service as org_service

HEADERS = {
    "source_id": "工单编号", "received_at": "受理时间", "channel": "受理渠道", "kind": "工单类型",
    "customer_name": "客户姓名", "customer_phone": "联系电话", "customer_id_number": "证件号码",
    "text": "投诉内容", "amount": "涉及金额", "org": "所属机构", "product": "业务类型",
    "category": "投诉类别", "severity": "紧急程度", "title": "标题",
}
STORED_TABLES = ("customer", "case", "case_event", "intake_record")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_records(path: Path, count: int) -> None:
    records = generator.generate_records(count, generator.DEFAULT_SEED, date(2026, 11, 27))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS.values())
        for _, raw in records:
            writer.writerow(["" if raw.get(k) is None else str(raw[k]) for k in HEADERS])


def fresh_database(base_url: str | None, workdir: Path, name: str) -> str:
    """An empty, migrated database holding the demo org tree."""
    if base_url is None or make_url(normalise_url(base_url)).get_backend_name() == "sqlite":
        url = f"sqlite:///{workdir / (name + '.db')}"
    else:
        admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base_url.rsplit("/", 1)[0] + f"/{name}"
    engine = build_engine(url)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        ensure_orgs(session)
    engine.dispose()
    return url


def run_pipeline(url: str, source: Path, batch_size: int) -> tuple[float, dict[str, Any]]:
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        actor = org_service.actor_for(org_service.get_user(session, username="admin"))
    started = time.perf_counter()
    report = import_file(source, engine=engine, actor=actor, batch_size=batch_size)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, report.as_dict()


def stored_rows(engine: Engine) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    rows = {}
    with engine.connect() as conn:
        for table in STORED_TABLES:
            result = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))
            rows[table] = (list(result.keys()), [tuple(r) for r in result])
    return rows


def _adapt_json(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """psycopg sends JSON columns read back as dicts and lists only when wrapped as JSONB."""
    from psycopg.types.json import Jsonb

    return tuple(Jsonb(v) if isinstance(v, dict | list) else v for v in row)


def run_raw_inserts(url: str, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                    batch_size: int) -> float:
    """The same rows, inserted with the driver's executemany, one transaction per batch."""
    engine = build_engine(url)
    raw = engine.raw_connection()
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    statements = {
        table: (f'INSERT INTO "{table}" ({", ".join(columns)}) '
                f'VALUES ({", ".join([marker] * len(columns))})')
        for table, (columns, _) in rows.items()
    }
    if engine.dialect.name == "postgresql":
        rows = {table: (columns, [_adapt_json(v) for v in values])
                for table, (columns, values) in rows.items()}
    started = time.perf_counter()
    # Parents before children, so every foreign key holds; one transaction per batch of rows.
    for table, (_, values) in rows.items():
        for start in range(0, len(values), batch_size):
            cursor = raw.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("BEGIN")
            cursor.executemany(statements[table], values[start:start + batch_size])
            raw.commit()
            cursor.close()
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (databases are created on it); "
                             "default: SQLite in a temporary folder")
    args = parser.parse_args()
    os.environ.setdefault("BANKVOC_DEMO", "1")
    reset_settings()
    with tempfile.TemporaryDirectory(prefix="bankvoc-bench-") as tmp:
        workdir = Path(tmp)
        source = workdir / "records.csv"
        log(f"generating {args.records} records …")
        write_records(source, args.records)
        pipeline_url = fresh_database(args.database_url, workdir, "bench_pipeline")
        log("importing through the whole pipeline …")
        pipeline_s, counts = run_pipeline(pipeline_url, source, args.batch_size)
        rows = stored_rows(build_engine(pipeline_url))
        raw_url = fresh_database(args.database_url, workdir, "bench_raw")
        log("inserting the same rows raw …")
        raw_s = run_raw_inserts(raw_url, rows, args.batch_size)
        with build_engine(raw_url).connect() as conn:
            copied = conn.execute(select(text("count(*)")).select_from(text('"case"'))).scalar()
        assert copied == len(rows["case"][1]), "raw run lost rows"
    pipeline_rps = args.records / pipeline_s
    raw_rps = args.records / raw_s
    log(f"pipeline: {pipeline_s:.1f} s, {pipeline_rps:,.0f} records/s  {counts}")
    log(f"raw inserts of the same {sum(len(v) for _, v in rows.values())} rows: {raw_s:.1f} s, "
        f"{raw_rps:,.0f} records/s; pipeline/raw = {pipeline_rps / raw_rps:.2f}")
    print(json.dumps({
        "records": args.records, "pipeline_rps": round(pipeline_rps, 1),
        "raw_insert_rps": round(raw_rps, 1), "ratio": round(pipeline_rps / raw_rps, 3),
        "pipeline_seconds": round(pipeline_s, 2), "raw_insert_seconds": round(raw_s, 2),
        "database": make_url(normalise_url(pipeline_url)).get_backend_name(),
        "batch_size": args.batch_size, **{k: v for k, v in counts.items() if k != "rejects_file"},
    }))


if __name__ == "__main__":
    main()
