"""`bankvoc surveys import FILE` and `bankvoc callbacks schedule`."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import open_rows
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.surveys import service
from bankvoc.surveys.schemas import SurveyCreate

surveys_app = typer.Typer(help="Satisfaction surveys: import answers from a file.",
                          no_args_is_help=True)
callbacks_app = typer.Typer(help="Callbacks after resolution (回访).", no_args_is_help=True)

# Chinese headers bank survey exports use, by field.
HEADERS = {
    "问卷编号": "source_id", "编号": "source_id", "机构": "org", "机构代码": "org",
    "网点": "org", "渠道": "channel", "触点": "touchpoint", "场景": "touchpoint",
    "答卷时间": "answered_at", "时间": "answered_at", "满意度": "csat", "推荐度": "nps",
    "是否解决": "solved", "意见": "comment", "评价": "comment", "工单编号": "case",
}
_YES = {"是", "已解决", "yes", "y", "true", "1"}
_NO = {"否", "未解决", "no", "n", "false", "0"}


def _record(values: dict[str, Any], source: str) -> dict[str, Any]:
    record: dict[str, Any] = {"source_system": source}
    for header, value in values.items():
        name = HEADERS.get(str(header).strip(), str(header).strip().lower())
        if value in (None, ""):
            continue
        if name == "solved" and str(value).strip().lower() in _YES | _NO:
            value = str(value).strip().lower() in _YES
        record[name] = value
    return record


@surveys_app.command("import")
@handle_errors
def import_command(
    path: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX or JSONL, plain or gzipped")],
    source: Annotated[str, typer.Option(help="Source system of the answers")] = "survey",
    user: Annotated[str, typer.Option(help="Act as this user")] = "admin",
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Import survey answers: each stored once per source id; bad rows go to a rejects file
    with their row, field and reason."""
    get_settings().check_safe()
    rows = open_rows(path)
    rejects = RejectsWriter(default_rejects_path(path))
    counts = {"stored": 0, "unchanged": 0, "rejected": 0}
    with closing(rejects), unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        orgs: dict[str, Org] = {}  # each org looked up once per run
        for row in rows:
            reason = _import_row(session, actor, row.values, source, orgs) \
                if row.error is None else ("row", row.error)
            if isinstance(reason, tuple):
                counts["rejected"] += 1
                rejects.write(row.number, *reason)
            else:
                counts["stored" if reason else "unchanged"] += 1
    summary = {**counts, "rejects_file": str(rejects.path) if rejects.used else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


def _import_row(session: Any, actor: Any, values: dict[str, Any], source: str,
                orgs: dict[str, Org]) -> bool | tuple[str, str]:
    try:
        data = SurveyCreate.model_validate(_record(values, source))
        with session.begin_nested():  # a refused row leaves the others alone
            return service.add_survey(session, actor=actor, data=data, orgs=orgs)[1]
    except ValidationError as exc:
        error = exc.errors()[0]
        return (".".join(str(p) for p in error["loc"]) or "row",
                error["msg"].removeprefix("Value error, "))
    except BankvocError as exc:
        return (exc.field or "row", exc.message)


@callbacks_app.command("schedule")
@handle_errors
def schedule_command(
    since: Annotated[datetime | None, typer.Option(
        help="Look back to this time (local if no zone is given) instead of the last "
             f"{service.LOOKBACK.days} days, e.g. after the scheduler was stopped longer")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Queue (or skip, by policy) the callback of every newly resolved case."""
    with unit_of_work(get_engine()) as session:
        report = service.schedule_due(session, now=utcnow(), since=since)
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(f"{report.scheduled} callbacks queued, {report.skipped} skipped by policy")
