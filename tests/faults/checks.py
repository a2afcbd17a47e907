"""What the fault tests prove afterwards: each registration stored once, each notification
queued once and, by the dispatcher, sent once."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from bankvoc.cases.models import Case
from bankvoc.core.db import unit_of_work
from bankvoc.intake.models import IntakeRecord
from bankvoc.notify import service as notify_service
from bankvoc.notify.adapters import Adapter, FileAdapter
from bankvoc.notify.enums import Channel
from bankvoc.notify.models import Notification


def assert_registered_once(engine: Engine, numbers: range) -> None:
    """Each numbered registration (Idempotency-Key fault-N) is one case, accepted."""
    with unit_of_work(engine) as session:
        keys = session.execute(select(IntakeRecord.source_id, func.count())
                               .group_by(IntakeRecord.source_id)).all()
        assert [key for key, n in keys if n != 1] == []
        stored = sorted(int(key.rsplit("fault-", 1)[1]) for key, _ in keys)
        assert stored == list(numbers)
        assert session.scalar(select(func.count()).select_from(Case)) == len(numbers)
        statuses = set(session.scalars(select(Case.status).distinct()))
        assert statuses == {"accepted"}


def assert_queued_once(engine: Engine, count: int) -> None:
    """One "accepted" notification per case, and nothing else."""
    with unit_of_work(engine) as session:
        per_case = session.execute(select(Notification.case_id, Notification.template,
                                          func.count())
                                   .group_by(Notification.case_id, Notification.template)).all()
    assert len(per_case) == count
    assert {(template, n) for _, template, n in per_case} == {("accepted", 1)}


def dispatch_all(engine: Engine, directory: Path, *, now: datetime | None = None) -> int:
    """Run the dispatcher (at `now`, default the time) until nothing is due; the number of
    messages it sent."""
    files = FileAdapter(directory)
    adapters: dict[str, Adapter] = {channel: files for channel in Channel}
    sent = 0
    while True:
        report = notify_service.dispatch_due(engine, adapters=adapters, now=now)
        sent += report.sent
        if report.claimed == 0:
            return sent


def assert_sent_once(engine: Engine, directory: Path, count: int) -> None:
    """Every notification marked sent, and the SMS gateway got each exactly once."""
    with unit_of_work(engine) as session:
        rows = session.execute(select(Notification.id, Notification.delivery_id,
                                      Notification.status)).all()
    assert len(rows) == count
    assert {status for _, _, status in rows} == {"sent"}
    sms = directory / "sms.jsonl"
    lines = sms.read_text(encoding="utf-8").splitlines() if sms.exists() else []
    messages = [json.loads(line) for line in lines]
    assert sorted(m["notification_id"] for m in messages) == sorted(i for i, _, _ in rows)
    assert sorted(m["delivery_id"] for m in messages) == sorted(d for _, d, _ in rows)
