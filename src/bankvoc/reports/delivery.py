"""Monthly reports produced on schedule and announced by e-mail.

On the first days of a month (`FIRST_DAYS`) the `reports.monthly` job writes last month's report
of head office and of every branch, in every format, under the data directory
(`BANKVOC_DATA_DIR/reports/monthly/YYYY-MM/`), and tells the consumer-protection officers (消保)
and branch managers of each org through the notification outbox that it is ready. The outbox
carries no attachments, so the message names the report, the API link and where it is kept.

Idempotent: a report whose files exist is not rendered again, and each message has a dedupe
key (month, org, person), so a re-run (or two runs at once) e-mails nobody twice. Staff without
a work e-mail address are counted as unreachable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.analytics.periods import add_months
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware
from bankvoc.notify import service as notify
from bankvoc.notify.service import Outgoing, Recipient
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.models import Org, User
from bankvoc.reports import files, monthly

log = logging.getLogger(__name__)

TEMPLATE = "monthly_report_ready"
FIRST_DAYS = 5  # the job produces last month's reports on days 1..FIRST_DAYS of a month
FORMATS = ("html", "pdf", "xlsx")
# Who is told: head office's consumer protection for the head-office report; an org's own
# consumer-protection officers and managers for its report.
ROOT_ROLES = frozenset({Role.cpo.value})
BRANCH_ROLES = frozenset({Role.cpo.value, Role.branch_manager.value})


@dataclass
class DeliveryReport:
    month: str | None
    reports: int = 0  # rendered now
    kept: int = 0  # found written already
    notifications: int = 0  # messages planned (the outbox drops those sent before)
    unreachable: list[str] = field(default_factory=list)
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "reports": self.reports, "kept": self.kept,
                "notifications": self.notifications, "unreachable": self.unreachable,
                "skipped": self.skipped}


def due_month(now: datetime) -> str | None:
    """The month whose reports are due at `now` (last month, in the first days), else None."""
    local = ensure_aware(now).astimezone(get_settings().tz).date()
    if local.day > FIRST_DAYS:
        return None
    return add_months(local.replace(day=1), -1).strftime("%Y-%m")


def report_folder(month: str) -> Path:
    return get_settings().data_dir / "reports" / "monthly" / month


def _recipients(session: Session, org: Org) -> list[User]:
    roles = ROOT_ROLES if org.parent_id is None else BRANCH_ROLES
    people = session.scalars(select(User).where(User.org_id == org.id, User.active.is_(True))
                             .order_by(User.id))
    return [user for user in people if roles & set(user.roles or [])]


def deliver_month(session: Session, *, month: str, now: datetime, user: str = "admin",
                  folder: Path | None = None) -> DeliveryReport:
    """Write `month`'s report of head office and every branch (as `user` sees them) and queue
    the messages saying so. Never commits."""
    actor = org_service.actor_for(org_service.get_user(session, username=user))
    folder = folder or report_folder(month)
    result = DeliveryReport(month=month)
    outgoing: list[Outgoing] = []
    for org in monthly.report_orgs(session, actor=actor):
        stem = f"voc-monthly-{month}-{org.code}"
        paths = [folder / f"{stem}.{fmt}" for fmt in FORMATS]
        if all(path.exists() for path in paths):
            result.kept += 1
        else:
            report = monthly.build_report(session, actor=actor, month=month, org=org.code,
                                          now=now)
            paths = files.write_files(report, FORMATS, folder)
            result.reports += 1
        context = {"org_name": org.name, "org_code": org.code, "period": month,
                   "formats": ", ".join(fmt.upper() for fmt in FORMATS),
                   "link": f"/api/v1/reports/monthly?month={month}&org={org.code}&format=pdf",
                   "location": str(folder / f"{stem}.*")}
        for person in _recipients(session, org):
            address = _email(person)
            if address is None:
                result.unreachable.append(person.username)
                continue
            outgoing.append(Outgoing(
                template=TEMPLATE, channel="email",
                recipient=Recipient.user(address, ref=person.username), language="zh",
                context=context, dedupe_key=f"report:monthly:{month}:{org.code}:{person.id}"))
    if outgoing:
        notify.enqueue_many(session, outgoing, now=now)
    result.notifications = len(outgoing)
    log.info("monthly reports of %s: %d rendered, %d kept, %d message(s) planned", month,
             result.reports, result.kept, result.notifications)
    return result


def _email(person: User) -> str | None:
    if not person.email:
        return None
    try:
        return notify.normalise_address("email", person.email)
    except Invalid:
        return None
