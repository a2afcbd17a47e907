"""Metrics across several API processes (prometheus_client's multiprocess mode): a scrape of
one process counts the requests every process served."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bankvoc.core import migrate
from bankvoc.core.db import build_engine

# One API process: serve N requests to /healthz, then (if asked) print a scrape of /metrics.
PROCESS = """
import sys
from fastapi.testclient import TestClient
from bankvoc.api.app import create_app
client = TestClient(create_app(), client=("127.0.0.1", 50000))
for _ in range(int(sys.argv[1])):
    assert client.get("/healthz").status_code == 200
if sys.argv[2] == "scrape":
    sys.stdout.write(client.get("/metrics").text)
"""


def api_process(requests: int, then: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROCESS, str(requests), then], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class TestMultiprocess:
    def test_a_scrape_of_any_process_sums_every_process(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'api.db'}"
        engine = build_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        shared = tmp_path / "prometheus"
        shared.mkdir()
        src = str(Path(__file__).resolve().parents[2] / "src")
        env = {**os.environ, "BANKVOC_DATABASE_URL": url, "PROMETHEUS_MULTIPROC_DIR": str(shared),
               "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        api_process(3, "-", env)
        exposition = api_process(4, "scrape", env)
        healthz = [sample.value for family in text_string_to_metric_families(exposition)
                   for sample in family.samples
                   if sample.name == "bankvoc_http_requests_total"
                   and sample.labels.get("route") == "/healthz"]
        assert healthz == [7.0]
        assert "bankvoc_sla_breaches" in exposition  # the database's figures are there too
