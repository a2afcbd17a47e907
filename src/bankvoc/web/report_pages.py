"""The reports page: a form (month, org, language, format, quarterly review) that downloads the
monthly VOC report made by `reports.monthly` and rendered by `reports.files` (the same service
the API's /api/v1/reports/monthly and `bankvoc report monthly` use; org scoping there)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bankvoc.core.errors import BankvocError
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.orgs.service import Actor
from bankvoc.reports import files as report_files
from bankvoc.reports import monthly as monthly_report
from bankvoc.web.dashboard_pages import last_complete_month, org_choices
from bankvoc.web.present import Choice, Labeller, Problem

FORMATS = report_files.FORMATS
LANGS = ("zh", "en")


@dataclass
class ReportsView:
    month: str
    org: str
    report_lang: str
    format: str
    quarterly: bool
    orgs: list[Choice]
    formats: list[Choice] = field(default_factory=list)
    langs: list[Choice] = field(default_factory=list)
    problem: Problem | None = None
    status: int = 200

    @property
    def status_code(self) -> int:
        return self.status if self.problem else 200


@dataclass(frozen=True)
class ReportFile:
    data: bytes
    media_type: str
    filename: str


def _form(session: Session, actor: Actor, params: Mapping[str, str], lab: Labeller,
          now: datetime) -> ReportsView:
    def get(name: str) -> str:
        return str(params.get(name, "")).strip()

    today = ensure_aware(now).astimezone(lab.tz).date()
    return ReportsView(
        month=get("month") or last_complete_month(today), org=get("org"),
        report_lang=get("report_lang") or lab.lang, format=get("format") or "html",
        quarterly=get("quarterly") == "1", orgs=org_choices(session, actor, lab),
        formats=[Choice(f, lab(f"rep.format_{f}")) for f in FORMATS],
        langs=[Choice(code, lab(f"rep.lang_{code}")) for code in LANGS])


def reports_page(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
                 now: datetime | None = None) -> ReportsView:
    return _form(session, actor, params, lab, now or utcnow())


def _refused(view: ReportsView, name: str, lab: Labeller, detail: str = "",
             status: int = 422) -> ReportsView:
    view.problem = Problem(field=f"r-{name}", label=lab(f"rep.field_{name}"),
                           message=lab(f"rep.invalid_{name}"), detail=detail)
    view.status = status
    return view


def monthly(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
            now: datetime | None = None) -> ReportFile | ReportsView:
    """The report file asked for, or the form again with what is wrong."""
    view = _form(session, actor, params, lab, now or utcnow())
    if view.format not in FORMATS:
        return _refused(view, "format", lab)
    if view.report_lang not in LANGS:
        return _refused(view, "report_lang", lab)
    try:
        report = monthly_report.build_report(session, actor=actor, month=view.month,
                                      org=view.org or None, quarterly=view.quarterly,
                                      lang=view.report_lang)
        data = report_files.render(report, view.format)
    except BankvocError as exc:
        if exc.field not in ("month", "org", "format"):
            raise
        return _refused(view, exc.field, lab, exc.message, exc.status)
    return ReportFile(data=data, media_type=report_files.MEDIA_TYPES[view.format],
                      filename=f"{report_files.file_stem(report)}.{view.format}")
