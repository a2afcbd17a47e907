"""Load benchmark: mixed API traffic against PostgreSQL holding 1,000,000 cases.

    python bench/load.py [--rps R] [--seconds S] [--database URL] [--workers W]
                         [--step-seconds T] [--no-steps] [--fresh]

Builds (once; cached, see bench/analytics.py: a database `bench_analytics_<N>` beside the one
named, reused when it holds N generated cases) a bank of 436 orgs and N cases (default
1,000,000), starts W API processes (`uvicorn --workers W` on loopback, no in-process jobs) and
drives them with wrk (Debian's `wrk`, a native load generator: `apt-get install wrk`) and a Lua
script that holds a fixed request rate (see LUA below: each request takes the next slot of a
schedule of R per second; wrk itself is closed-loop) in this mix:

    30 % list   GET  /api/v1/cases?…        (inbox filters: status, org subtree, channel, …)
    30 % detail GET  /api/v1/cases/{ref}
    15 % dash   GET  /api/v1/kpis/headline  (the dashboard's headline KPIs, HQ or a branch)
    15 % create POST /api/v1/cases          (a new complaint through the whole intake pipeline,
                                             its text one of 400 of the demo generator's)
    10 % step   POST /api/v1/cases/{ref}/steps (an investigation note on an open case, with the
                version read from a detail response)

It runs R requests/s for S seconds, then (unless --no-steps) steps the rate (×1.5 up from R
while p99 < 200 ms and no errors, else ×0.67 down) for --step-seconds each, at most 6 steps,
to find the highest rate tried whose p99 stays under 200 ms with no errors.

The last line is one JSON object: {"rps", "p50_ms", "p95_ms", "p99_ms", "errors",
"max_rps_meeting_p99", ...} (latencies in ms, of the run at R; errors: non-2xx answers plus
socket errors and timeouts).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

import analytics as dataset
from bankvoc.analytics.periods import parse_period
from bankvoc.cases.models import Case
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.demo import generator
from bankvoc.orgs import service as org_service

P99_GOAL_MS = 200.0
MONTH = "2026-10"
COMPLAINT_TEXTS = 400
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"

# The traffic, as wrk runs it. `init` gets the rate per thread, the token and the references'
# range; every request takes the next slot of the thread's schedule (`delay`), so the rate
# holds whatever the latency, as long as a connection is free (connections = rate / 2: each
# one is used at most every 0.5 s at the target rate). A request sent over 20 ms after its
# slot is counted as `late` (then the latencies undercount: coordinated omission).
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bv_timeval;
int gettimeofday(bv_timeval *tv, void *tz);
]]
local tv = ffi.new("bv_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local threads = {}
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local interval, next_at, slots, sent, open_cases, seq
late, bad = 0, 0  -- globals: done() reads them from each thread
local token, cases, orgs, statuses, channels

function init(args)
  interval = 1000.0 / tonumber(args[1])
  token = args[2]
  cases = tonumber(args[3])
  orgs = tonumber(args[4])
  next_at = now_ms() + math.random() * interval
  slots, late, sent, bad, seq = {}, 0, 0, 0, 0
  open_cases = {}
  statuses = {"received", "accepted", "investigating", "closed"}
  channels = {"hotline", "branch", "mobile_app", "wechat"}
  math.randomseed(tid * 7919 + os.time())
end

function delay()
  local now = now_ms()
  next_at = next_at + interval
  table.insert(slots, next_at)
  if next_at <= now then return 0 end
  return next_at - now
end

local function auth(extra)
  local h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"}
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return h
end

local function ref()
  return string.format("BA%012d", math.random(0, cases - 1))
end

local function branch()
  return string.format("B%02d", math.random(1, 36))
end

function request()
  local slot = table.remove(slots, 1)
  if slot and now_ms() - slot > 20 then late = late + 1 end
  sent = sent + 1
  local r = math.random(100)
  if r <= 30 then
    local q = "/api/v1/cases?limit=20"
    local f = math.random(4)
    if f == 1 then q = q .. "&status=" .. statuses[math.random(#statuses)]
    elseif f == 2 then q = q .. "&org=" .. branch()
    elseif f == 3 then
      q = q .. "&org=" .. branch() .. "&channel=" .. channels[math.random(#channels)]
    else q = q .. "&severity=urgent" end
    return wrk.format("GET", q, auth())
  elseif r <= 60 then
    return wrk.format("GET", "/api/v1/cases/" .. ref(), auth())
  elseif r <= 75 then
    local q = "/api/v1/kpis/headline?period=" .. MONTH
    if math.random(2) == 1 then q = q .. "&org=" .. branch() end
    return wrk.format("GET", q, auth())
  elseif r <= 90 then
    seq = seq + 1
    local body = '{"text":' .. TEXTS[math.random(#TEXTS)] .. string.format(
      ',"channel":"hotline","org":"%s","source_system":"load","source_id":"%s-%d-%d"}',
      branch(), RUN, tid, seq)
    return wrk.format("POST", "/api/v1/cases", auth({["Content-Type"] = "application/json"}), body)
  else
    local c = table.remove(open_cases)
    if c then
      local body = string.format(
        '{"action":"note","version":%d,"text":"已联系客户核实扣费情况"}', c[2])
      return wrk.format("POST", "/api/v1/cases/" .. c[1] .. "/steps",
                        auth({["Content-Type"] = "application/json"}), body)
    end
    return wrk.format("GET", "/api/v1/cases/" .. ref(), auth())
  end
end

function response(status, headers, body)
  if status >= 400 then
    bad = bad + 1
    if bad <= 3 then
      io.stderr:write("HTTP " .. status .. ": " .. string.sub(body, 1, 200) .. "\n")
    end
    return
  end
  if #open_cases < 50 and string.find(body, '"status":"investigating"', 1, true) then
    local reference = string.match(body, '"reference":"(BA%d+)"')
    local version = string.match(body, '"version":(%d+)')
    if reference and version and not string.find(body, '"items"', 1, true) then
      table.insert(open_cases, {reference, tonumber(version)})
    end
  end
end

function done(summary, latency, requests)
  local total_bad, total_late = 0, 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    total_late = total_late + t:get("late")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"http_errors":%d,"socket_errors":%d,"late":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, total_bad,
    e.connect + e.read + e.write + e.timeout, total_late))
end
"""


def complaint_texts(count: int = COMPLAINT_TEXTS) -> list[str]:
    """What the created cases say: the demo generator's complaints (its templates, with names,
    numbers, amounts and dates drawn afresh), as in a bank's day. One fixed text for every
    registration made each a copy of all the earlier ones: the mass-complaint count of a new
    case then grew with every run on the cached data set (4,000 copies: ~14 ms of PostgreSQL
    a registration), and runs on one day were not comparable."""
    records = generator.generate_records(count * 2, generator.DEFAULT_SEED, dt.date(2026, 11, 27))
    texts = [raw["text"] for _, raw in records if raw.get("kind") == "complaint"]
    return texts[:count]


def texts_table() -> str:
    """`complaint_texts` as a Lua table of JSON string literals (for the request bodies)."""
    literals = [json.dumps(text, ensure_ascii=False) for text in complaint_texts()]
    assert not any("]==]" in literal for literal in literals)
    return "TEXTS = {\n" + ",\n".join(f"[==[{literal}]==]" for literal in literals) + "\n}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(base: str, cases: int, fresh: bool) -> tuple[str, float | None]:
    """The database holding the data set: its URL and the seconds it took to build (None
    when it was there already)."""
    url, ready = dataset.database_url(base, cases, fresh)
    if ready:
        return url, None
    engine = build_engine(url)
    log(f"generating {cases:,} cases into {engine.url.render_as_string()}")
    began = time.perf_counter()
    month = parse_period(MONTH).start
    dataset.generate(engine, cases, month)
    dataset.roll_up(engine, month)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url, time.perf_counter() - began


def issue_token(url: str) -> str:
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        admin = org_service.get_user(session, username="admin")
        token = org_service.issue_token(session, user=admin, label="bench/load", days=1)
        first = session.scalar(select(Case.id).order_by(Case.id).limit(1))
        assert first is not None, "the data set holds no cases"
    engine.dispose()
    return token


@contextmanager
def api_processes(url: str, workers: int, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """`workers` API processes on a free loopback port; yields (port, parent pid)."""
    port = free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "bankvoc.api.app:serve_app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(uvicorn, env={**env, "BANKVOC_DATABASE_URL": url},
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the API processes did not start")
            time.sleep(0.5)
        yield port, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
            return conn.recv(32).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def drain(port: int, token: str, *, within_s: float = 120) -> None:
    """Wait until the API answers a case list quickly again: after an overloaded run the
    workers still work off requests whose clients gave up, and the next run would pay."""
    deadline = time.monotonic() + within_s
    request = (f"GET /api/v1/cases?limit=1 HTTP/1.0\r\nHost: x\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    while time.monotonic() < deadline:
        began = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(request)
                conn.recv(16)
        except OSError:
            pass
        if time.monotonic() - began < 0.2:
            return
        time.sleep(1)
    log("the API did not recover within the drain time")


def run_wrk(port: int, script: Path, *, rps: float, seconds: int, token: str, cases: int,
            threads: int = 1) -> dict[str, Any]:
    """One wrk run at `rps` for `seconds`: requests, latencies (ms), errors and late sends."""
    connections = max(threads, min(400, int(rps / 2) + 8))
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "5s", "-s", str(script), f"http://127.0.0.1:{port}", "--",
               str(rps / threads), token, str(cases), "436"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr[-500:]}")
    for line in done.stderr.splitlines()[:3]:
        log(f"  wrk: {line}")
    raw = json.loads(lines[-1].removeprefix("BENCH "))
    return {
        "rps": rps, "achieved_rps": round(raw["requests"] / raw["seconds"], 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1), "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1), "max_ms": round(raw["max_us"] / 1000, 1),
        "errors": raw["http_errors"] + raw["socket_errors"], "late": raw["late"],
        "requests": raw["requests"],
    }


def meets(result: dict[str, Any]) -> bool:
    return bool(result["p99_ms"] < P99_GOAL_MS and result["errors"] == 0
                and result["achieved_rps"] >= 0.95 * result["rps"])


def step_rates(first: dict[str, Any], run: Any, steps: int) -> float:
    """The highest rate tried that met the goal, stepping from the first run's rate."""
    best = first["rps"] if meets(first) else 0.0
    rate, up = first["rps"], meets(first)
    for _ in range(steps):
        rate = round(rate * (1.5 if up else 0.67))
        if rate < 5:
            break
        result = run(rate)
        log(f"step {rate} rps: p99 {result['p99_ms']} ms, errors {result['errors']}, "
            f"achieved {result['achieved_rps']} rps")
        if meets(result):
            best = max(best, rate)
            if not up:
                break  # stepping down: the first rate that meets it
        elif up:
            break  # stepping up: the first rate that fails ends it
    return best


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rps", type=float, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help="PostgreSQL URL; the data set goes into a database beside it")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2),
                        help="API processes")
    parser.add_argument("--step-seconds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=6, help="Most rate steps after the run")
    parser.add_argument("--no-steps", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the cached data set")
    args = parser.parse_args(argv)
    if args.rps <= 0 or args.seconds <= 0:
        parser.error("--rps and --seconds must be positive")
    return args


def bench_environment() -> dict[str, str]:
    """The API processes' environment: this one's, with throwaway keys for the run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKVOC_")}
    env["BANKVOC_SECRET_KEY"] = secrets.token_urlsafe(48)
    env["BANKVOC_PII_KEY"] = "b1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parents[1] / "src"),
                                                    env.get("PYTHONPATH")) if p)
    return env


def summary(args: argparse.Namespace, result: dict[str, Any], *, best: float,
            setup_s: float | None) -> dict[str, Any]:
    """The last line: the issue's keys first, in its order, then the details."""
    return {"rps": args.rps, "p50_ms": result["p50_ms"], "p95_ms": result["p95_ms"],
            "p99_ms": result["p99_ms"], "errors": result["errors"],
            "max_rps_meeting_p99": best, "achieved_rps": result["achieved_rps"],
            "max_ms": result["max_ms"], "late_sends": result["late"],
            "requests": result["requests"], "workers": args.workers, "cases": args.cases,
            "setup_s": round(setup_s, 1) if setup_s is not None else None,
            # The machine's 1-minute load average at the end (the cores are shared).
            "load_avg": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    env = bench_environment()
    os.environ.update({k: v for k, v in env.items() if k.startswith("BANKVOC_")})
    url, setup_s = prepare(args.database, args.cases, args.fresh)
    token = issue_token(url)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, \
            api_processes(url, args.workers, env) as (port, _pid):
        script = Path(folder) / "mix.lua"
        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        script.write_text(f'MONTH = "{MONTH}"\nRUN = "{run_id}"\n{texts_table()}\n' + LUA,
                          encoding="utf-8")

        def run(rate: float, seconds: int | None = None) -> dict[str, Any]:
            drain(port, token)
            return run_wrk(port, script, rps=rate, seconds=seconds or args.step_seconds,
                           token=token, cases=args.cases)

        run(20, 5)  # warm-up: connections, caches, the first requests' imports
        log(f"{args.rps} rps for {args.seconds} s, {args.workers} API processes")
        result = run(args.rps, args.seconds)
        log(f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
            f"errors {result['errors']}, achieved {result['achieved_rps']} rps")
        best = (args.rps if meets(result) else 0.0) if args.no_steps else \
            step_rates(result, run, args.steps)
    ordered = summary(args, result, best=best, setup_s=setup_s)
    print(json.dumps(ordered))
    return ordered


if __name__ == "__main__":
    main()
