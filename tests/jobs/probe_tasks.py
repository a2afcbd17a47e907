"""A job for the tests of the engines, loaded through BANKVOC_JOB_MODULES by the test process
and by the `bankvoc worker` processes it starts.

`probe.mark(key, pause)` notes that it started (data_dir/probe/started.log), waits `pause`
seconds (the window a test kills its worker in), queues one SMS with the dedupe key
`probe:<key>` in its own unit of work (whose commit enqueues `notify.dispatch`), then notes
that it is done (done.log). Run twice, it queues the SMS once: it is idempotent like every job.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.jobs.registry import job
from bankvoc.notify import service as notify_service
from bankvoc.notify.service import Recipient
from tests.notify.conftest import CONTEXT


def probe_dir() -> Path:
    return get_settings().data_dir / "probe"


def note(log: str, key: str) -> None:
    """One line appended at once (O_APPEND: lines of processes running together never mix)."""
    directory = probe_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{key} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


@job("probe.mark")
def mark(now: datetime, *, key: str, pause: float = 0.0) -> dict[str, Any]:
    """Queue the SMS of `key` once (a test job)."""
    note("started.log", key)
    time.sleep(pause)
    with unit_of_work() as session:
        row = notify_service.enqueue(
            session, template="accepted", channel="sms",
            recipient=Recipient.customer("13812345678"), language="zh", context=CONTEXT,
            dedupe_key=f"probe:{key}")
    note("done.log", key)
    return {"queued": int(row is not None)}
