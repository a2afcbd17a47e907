"""Soak benchmark: steady mixed traffic for minutes; the API processes' memory must stay flat.

    python bench/soak.py [--minutes M] [--rps R] [--database URL] [--workers W]

The data set, API processes and traffic are bench/load.py's (its mix, at R requests/s, default
100, for M minutes, default 10). Every 10 s it samples the resident memory (RSS, from
/proc/<pid>/status) of each API worker process and logs it to stderr. The first minute is
warm-up (imports, models, caches filling); the slope is the least-squares line through the
samples after it, in MB per minute of the workers' summed RSS.

The last line is one JSON object: {"minutes", "rps", "rss_start_mb", "rss_end_mb",
"rss_max_mb", "slope_mb_per_min", "samples", "p99_ms", "errors", ...} (start: the first sample
after warm-up; memory summed over the workers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import load

SAMPLE_EVERY_S = 10
WARM_UP_S = 60


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The API worker processes: the uvicorn supervisor's children (not its resource
    tracker, which holds no request state)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 for fewer than two."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rps", type=float, default=100)
    parser.add_argument("--database", default=load.DEFAULT_DATABASE)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rps <= 0:
        parser.error("--minutes and --rps must be positive")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    env = load.bench_environment()
    os.environ.update({k: v for k, v in env.items() if k.startswith("BANKVOC_")})
    url, _ = load.prepare(args.database, args.cases, fresh=False)
    token = load.issue_token(url)
    seconds = int(args.minutes * 60)
    samples: list[tuple[float, float]] = []
    traffic: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, \
            load.api_processes(url, args.workers, env) as (port, parent):
        script = Path(folder) / "mix.lua"
        script.write_text(f'MONTH = "{load.MONTH}"\nRUN = "soak{int(time.time())}"\n'
                          + load.LUA, encoding="utf-8")

        def drive() -> None:
            traffic.update(load.run_wrk(port, script, rps=args.rps, seconds=seconds,
                                        token=token, cases=args.cases))

        driver = threading.Thread(target=drive, name="wrk", daemon=True)
        began = time.monotonic()
        driver.start()
        while driver.is_alive():
            elapsed = time.monotonic() - began
            workers = children(parent)
            total = sum(rss_mb(pid) for pid in workers)
            samples.append((elapsed / 60, total))
            load.log(f"{elapsed:6.0f} s  RSS {total:7.1f} MB over {len(workers)} workers")
            driver.join(timeout=SAMPLE_EVERY_S)
    steady = [(x, y) for x, y in samples if x * 60 >= WARM_UP_S] or samples
    result = {
        "minutes": args.minutes, "rps": args.rps,
        "rss_start_mb": round(steady[0][1], 1) if steady else None,
        "rss_end_mb": round(steady[-1][1], 1) if steady else None,
        "rss_max_mb": round(max(y for _, y in steady), 1) if steady else None,
        "slope_mb_per_min": round(slope(steady), 3), "samples": len(samples),
        "p99_ms": traffic.get("p99_ms"), "errors": traffic.get("errors"),
        "achieved_rps": traffic.get("achieved_rps"), "requests": traffic.get("requests"),
        "workers": args.workers,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
