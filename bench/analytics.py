"""VOC analytics benchmark: the dashboard's KPI queries and the monthly reports on a big bank.

    python bench/analytics.py [--cases N] [--database URL] [--month YYYY-MM] [--fresh]

Builds a bank of 36 branches and 400 outlets and N cases (default 1,000,000) received over the
13 months up to the report month (default 2026-10), in the mix of kinds, channels, products,
categories, severities and outcomes a bank sees: 85% decided (most on time), callbacks with
CSAT/NPS for a third of the decided, repeat customers, escalations and regulator transfers,
stand-alone survey answers, imported customer and outlet counts, targets. The data set is
cached between runs: a SQLite file under var/bench/ (or a PostgreSQL database
`bench_analytics_<N>` beside the one named), reused when it holds N cases; `--fresh` rebuilds.

Then it times, on the product's own code:
- every dashboard KPI query (each headline KPI for head office and for one branch, the
  category share, the 12-month trend, the branch ranking), after the roll-up has caught up with
  a burst of changes (1,000 cases decided, 1,000 received) — its refresh is timed too;
- one branch's monthly report in all three formats (HTML, PDF, XLSX);
- every branch's and head office's report (37 reports, three formats each).

The last line is one JSON object: {"cases", "kpi_query_s_max", "branch_report_s",
"all_reports_s", ...}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url

from bankvoc.analytics import service as analytics
from bankvoc.analytics.models import KpiTarget, OrgMonthStat, RollupMark
from bankvoc.analytics.periods import add_months, parse_period
from bankvoc.cases.models import Case
from bankvoc.core import migrate
from bankvoc.core.db import (
    build_engine,
    bulk_insert,
    bulk_insert_ids,
    normalise_url,
    unit_of_work,
)
from bankvoc.customers.models import Customer
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.reports import files, monthly
from bankvoc.surveys.models import Callback, SurveyResponse

BRANCHES, OUTLETS = 36, 400
BATCH = 20_000
SEED = 20261127
CHANNELS = (("hotline", 45), ("branch", 25), ("mobile_app", 15), ("online_banking", 5),
            ("wechat", 5), ("letter", 1), ("regulator", 4))
KINDS = (("complaint", 80), ("complaint_intent", 8), ("suggestion", 7), ("hard_question", 4),
         ("praise", 1))
SEVERITIES = (("general", 80), ("important", 14), ("urgent", 5), ("major", 1))
SEGMENTS = ("important_value", "important_retain", "important_develop", "general", "new")
PHRASES = ("信用卡年费被多扣，要求退还", "网点排队时间太长，工作人员态度冷淡",
           "手机银行转账失败但扣款", "理财产品收益与宣传不符", "催收电话骚扰家人",
           "房贷提前还款手续繁琐", "境外刷卡被拒", "存款到期自动转存未告知", "客服电话一直打不通",
           "贷款审批进度无人告知")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> Callable[[], str]:
    values = [o[0] for o in options]
    weights = [o[1] for o in options]
    return lambda: rng.choices(values, weights)[0]


def database_url(base: str | None, cases: int, fresh: bool) -> tuple[str, bool]:
    """The cached database's URL and whether it already holds the data set."""
    name = f"bench_analytics_{cases}"
    if base is None or make_url(normalise_url(base)).get_backend_name() == "sqlite":
        folder = Path("var/bench")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.db"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if fresh and exists:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.rsplit("/", 1)[0] + f"/{name}"
    engine = build_engine(url)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        # The generated cases' references start BA; each run's burst of new ones, BN.
        ready = session.scalar(select(func.count()).select_from(Case).where(
            Case.reference.startswith("BA"))) == cases
    engine.dispose()
    return url, ready


def build_tree(engine: Engine) -> list[Org]:
    """Head office, 36 branches and 400 outlets (11 or 12 under each branch)."""
    with unit_of_work(engine) as session:
        root, _ = org_service.ensure_root(session)
        branches = [org_service.create_org(session, code=f"B{b:02d}", name=f"第{b}分行",
                                           name_en=f"Branch {b}", kind=OrgKind.branch,
                                           parent=root) for b in range(1, BRANCHES + 1)]
        for o in range(OUTLETS):
            org_service.create_org(session, code=f"B{o % BRANCHES + 1:02d}O{o:03d}",
                                   name=f"网点{o}", kind=OrgKind.outlet,
                                   parent=branches[o % BRANCHES])
    with unit_of_work(engine) as session:
        return list(session.scalars(select(Org).order_by(Org.id)))


def generate(engine: Engine, cases: int, month: dt.date) -> None:
    rng = random.Random(SEED)
    orgs = build_tree(engine)
    outlets = [o for o in orgs if o.kind == OrgKind.outlet]
    branches = [o for o in orgs if o.kind == OrgKind.branch]
    taxonomy = load_taxonomy()
    products = [p.code for p in taxonomy.products]
    categories = [c.code for c in taxonomy.categories]
    start = add_months(month, -12)
    seconds = int((add_months(month, 1) - start).total_seconds())
    origin_of = {"regulator": "nfra"}
    channel, kind, severity = (weighted(rng, CHANNELS), weighted(rng, KINDS),
                               weighted(rng, SEVERITIES))
    customers = max(1, cases // 3)
    with unit_of_work(engine) as session:
        for at in range(0, customers, BATCH):
            session.execute(insert(Customer), [
                {"segment": rng.choice(SEGMENTS), "flags": []}
                for _ in range(min(BATCH, customers - at))])
        first_customer = session.scalar(select(func.min(Customer.id))) or 1
    log(f"{customers:,} customers")
    began = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=8)
    made = 0
    for at in range(0, cases, BATCH):
        rows: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        # Received in order, as a bank's history is: each batch a slice of the 13 months.
        size = min(BATCH, cases - at)
        low, high = seconds * at // cases, seconds * (at + size) // cases
        moments = sorted(rng.randrange(low, max(high, low + 1)) for _ in range(size))
        for i, offset in zip(range(at, at + size), moments, strict=True):
            received = began + dt.timedelta(seconds=offset)
            decided = rng.random() < 0.85
            late = rng.random() < 0.08
            via = channel()
            outlet = outlets[int(rng.paretovariate(1.2) * 7) % len(outlets)]
            org_id = outlet.id if rng.random() < 0.8 else branches[outlet.id % BRANCHES].id
            text_ = rng.choice(PHRASES)
            rows.append({
                "reference": f"BA{i:012d}", "kind": kind(), "channel": via,
                "status": "closed" if decided else "investigating", "severity": severity(),
                "org_id": org_id,
                "customer_id": (first_customer + rng.randrange(customers)
                                if rng.random() < 0.7 else None),
                "product": rng.choice(products), "category": rng.choice(categories),
                "title": text_[:20], "text_masked": text_, "text_enc": "-",
                "text_hash": hashlib.sha256(f"{i}".encode()).hexdigest(),
                "received_at": received, "due_at": received + dt.timedelta(days=15),
                "resolved_at": (received + dt.timedelta(days=rng.uniform(16, 40) if late
                                                        else rng.uniform(0.2, 14)))
                if decided else None,
                "reopen_count": 1 if decided and rng.random() < 0.04 else 0,
                "escalation_level": 1 if rng.random() < 0.05 else 0,
                "transfer_count": 1 if rng.random() < 0.2 else 0,
                "origin": origin_of.get(via, "direct"),
                "sentiment": rng.uniform(-1, 0.3), "annotations": {},
                "created_at": received, "updated_at": received,
            })
        made_at = dt.datetime.now(dt.UTC)
        with unit_of_work(engine) as session:
            ids = bulk_insert_ids(session, Case, rows)
            decided_ids = [case_id for case_id, row in zip(ids, rows, strict=True)
                           if row["resolved_at"] is not None]
            for case_id in decided_ids:
                if rng.random() < 0.33:
                    answers.append({"case_id": case_id, "round": 0, "status": "done",
                                    "reason": "policy", "nps": rng.randrange(11),
                                    "csat": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                                    "created_at": made_at})
            if answers:
                bulk_insert(session, Callback, answers)
            bulk_insert(session, SurveyResponse, [
                {"source_system": "bench", "source_id": f"{at}-{j}",
                 "org_id": rng.choice(outlets).id, "channel": "branch", "touchpoint": "visit",
                 "csat": rng.randrange(1, 6), "nps": rng.randrange(11),
                 "answered_at": began + dt.timedelta(seconds=rng.randrange(seconds)),
                 "created_at": made_at}
                for j in range(len(rows) // 20)])
        made += len(rows)
        log(f"{made:,} cases")
    with unit_of_work(engine) as session:
        months = [add_months(start, m) for m in range(13)]
        session.execute(insert(OrgMonthStat), [
            {"org_id": org.id, "month": m, "customers": 250_000,
             "individual_customers": 240_000, "outlets": 1 if org.kind == OrgKind.outlet else 0,
             "source": "bench"} for org in orgs for m in months])
        for code, value in (("csat", 80.0), ("callback_rate", 30.0), ("on_time_rate", 95.0),
                            ("complaints_per_10k_customers", 5.0)):
            session.add(KpiTarget(kpi=code, value=value, valid_from=start))


def roll_up(engine: Engine, month: dt.date) -> float:
    """First load: drop the marks the inserts left and build every row from the cases."""
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        session.execute(delete(RollupMark))
        analytics.rebuild_rollup(session, start=add_months(month, -12), end=month)
    return time.perf_counter() - began


def churn(engine: Engine, month: dt.date, count: int = 1_000) -> float:
    """A burst of changes as a bank makes them, then the refresh that catches the roll-up up
    with them; returns the refresh's seconds. The changes: `count` open cases of the last 30
    days decided (work happens on recent cases) and `count` new cases received in the month,
    at every org."""
    rng = random.Random(7)
    with unit_of_work(engine) as session:
        since = dt.datetime.combine(add_months(month, 1), dt.time(), tzinfo=dt.UTC) \
            - dt.timedelta(days=30)
        still_open = session.execute(select(Case.id, Case.received_at).where(
            Case.resolved_at.is_(None), Case.received_at >= since).limit(count)).all()
        for row in still_open:
            session.execute(update(Case).where(Case.id == row.id).values(
                status="resolved", resolved_at=row.received_at + dt.timedelta(days=3)))
        template = session.scalars(select(Case).limit(1)).one()
        org_ids = session.scalars(select(Org.id)).all()
        received = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
        stamp = time.time_ns()
        session.execute(insert(Case), [{
            "reference": f"BN{stamp}{i:06d}"[-24:], "kind": "complaint", "channel": "hotline",
            "status": "received", "severity": "general", "org_id": rng.choice(org_ids),
            "product": template.product, "category": template.category, "title": "t",
            "text_masked": "新投诉", "text_enc": "-", "text_hash": f"{stamp}{i}",
            "received_at": received + dt.timedelta(minutes=rng.randrange(40_000)),
            "annotations": {}} for i in range(count)])
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        analytics.refresh_rollup(session)
    return time.perf_counter() - began


def kpi_queries(engine: Engine, actor: Actor, month: str, branch: str) -> dict[str, float]:
    """Every query the dashboard makes, each timed alone."""
    last = parse_period(month)
    trend = f"{add_months(last.start, -11).isoformat()}..{(last.end - dt.timedelta(days=1))}"
    asks: list[tuple[str, dict[str, Any]]] = []
    for org in (None, branch):
        asks += [(f"{code}@{org or 'HQ'}", {"kpi": code, "period": month, "org": org})
                 for code in analytics.HEADLINE]
        asks += [(f"category share@{org or 'HQ'}",
                  {"kpi": "complaints", "period": month, "org": org, "by": "category"}),
                 (f"trend@{org or 'HQ'}",
                  {"kpi": "complaints", "period": trend, "org": org, "by": "month",
                   "compare": False}),
                 (f"on-time trend@{org or 'HQ'}",
                  {"kpi": "on_time_rate", "period": trend, "org": org, "by": "month",
                   "compare": False})]
    asks.append(("branch ranking", {"kpi": "complaints", "period": month, "by": "org"}))
    timings = {}
    for name, ask in asks:
        with unit_of_work(engine) as session:
            began = time.perf_counter()
            analytics.kpi_report(session, actor=actor, **ask)
            timings[name] = time.perf_counter() - began
    return timings


def reports(engine: Engine, actor: Actor, month: str, orgs: list[str | None],
            out: Path) -> float:
    """Seconds to build and write the monthly report of each org in all three formats."""
    began = time.perf_counter()
    for org in orgs:
        with unit_of_work(engine) as session:
            report = monthly.build_report(session, actor=actor, month=month, org=org)
        files.write_files(report, files.FORMATS, out / (org or "HQ"))
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the cached data set")
    args = parser.parse_args(argv)
    month = parse_period(args.month).start
    url, ready = database_url(args.database, args.cases, args.fresh)
    engine = build_engine(url)
    result: dict[str, Any] = {"cases": args.cases, "database": engine.dialect.name}
    if not ready:
        log(f"generating {args.cases:,} cases into {engine.url.render_as_string()}")
        began = time.perf_counter()
        generate(engine, args.cases, month)
        result["generate_s"] = round(time.perf_counter() - began, 1)
        result["rollup_build_s"] = round(roll_up(engine, month), 1)
        log(f"roll-up built in {result['rollup_build_s']} s")
    result["refresh_after_2000_changes_s"] = round(churn(engine, month), 3)
    with unit_of_work(engine) as session:
        actor = org_service.actor_for(org_service.get_user(session, username="admin"))
    timings = kpi_queries(engine, actor, args.month, "B07")
    slowest = max(timings, key=lambda k: timings[k])
    for name, seconds in sorted(timings.items(), key=lambda kv: -kv[1])[:8]:
        log(f"  {seconds * 1000:8.1f} ms  {name}")
    result.update(kpi_queries=len(timings), kpi_query_slowest=slowest,
                  kpi_query_s_max=round(timings[slowest], 3))
    with tempfile.TemporaryDirectory() as folder:
        one = reports(engine, actor, args.month, ["B07"], Path(folder))
        result["branch_report_s"] = round(one, 2)
        log(f"one branch's report, three formats: {one:.2f} s")
        every: list[str | None] = [None, *[f"B{b:02d}" for b in range(1, BRANCHES + 1)]]
        result["all_reports_s"] = round(reports(engine, actor, args.month, every,
                                                Path(folder)), 1)
    engine.dispose()
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
