"""`bankvoc config …`: versioned configuration for scripts and operations.

Results go to stdout (with --json, the last line is one JSON object; `show` without --json
prints the text itself); problems go to stderr and end the command with exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bankvoc.config import service
from bankvoc.config.kinds import ConfigInvalid
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import unit_of_work
from bankvoc.core.yamlfile import read_text
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

config_app = typer.Typer(help="Versioned configuration: taxonomy, SLA policy, calendar, "
                              "notification templates, routing and authority limits, grading "
                              "and alert rules.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their roles)")]
KindArg = Annotated[str, typer.Argument(help="taxonomy, sla_policy, calendar, "
                                             "notify_templates, workflow, grading, alert_rules, "
                                             "qa_rules")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why (kept with the change)")]


def _actor(session: Any, user: str) -> Actor:
    return org_service.actor_for(org_service.get_user(session, username=user))


@contextmanager
def _work(payload: dict[str, Any], as_json: bool) -> Iterator[Session]:
    """A unit of work; a text it refuses is reported problem by problem, each with its line
    (in the JSON too), before the error ends the command."""
    try:
        with unit_of_work() as session:
            yield session
    except ConfigInvalid as exc:
        if as_json:
            emit_json({**payload, "ok": False, "problems": [p.to_dict() for p in exc.problems]})
        for problem in exc.problems[1:]:
            typer.echo(problem.describe(payload.get("file") or payload["kind"]), err=True)
        raise


def _done(payload: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        emit_json(payload)
    else:
        typer.echo(text)


@config_app.command("list")
@handle_errors
def list_command(user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Every kind with the version in force (0: its file) and its latest saved version."""
    with unit_of_work() as session:
        rows = service.overview(session, actor=_actor(session, user))
        kinds = [{"kind": r.kind.code, "active": r.active, "latest": r.latest,
                  "versions": r.versions,
                  "changed_at": r.changed_at.isoformat() if r.changed_at else None,
                  "changed_by": r.changed_by or None} for r in rows]
    if as_json:
        emit_json({"kinds": kinds})
        return
    for row in kinds:
        typer.echo(f"{row['kind']:<18} active v{row['active']}  latest v{row['latest']}  "
                   f"({row['versions']} saved)")


@config_app.command("show")
@handle_errors
def show_command(kind: KindArg,
                 version: Annotated[int | None, typer.Option(
                     "--version", help="This version (0: the file); default: the one in force")
                 ] = None,
                 user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """A version's text (default: the one in force), or with --json its record too."""
    with unit_of_work() as session:
        actor = _actor(session, user)
        number = service.active_version(session, kind=kind) if version is None else version
        found = service.get_version(session, actor=actor, kind=kind, version=number)
    if as_json:
        emit_json({"kind": found.kind, "version": found.version, "active": found.active,
                   "sha256": found.sha256, "note": found.note, "based_on": found.based_on,
                   "created_at": found.created_at.isoformat() if found.created_at else None,
                   "created_by": found.created_by or None, "content": found.content})
        return
    typer.echo(found.content, nl=False)


@config_app.command("import")
@handle_errors
def import_command(kind: KindArg,
                   file: Annotated[Path, typer.Argument(help="The YAML (UTF-8)", dir_okay=False)],
                   note: NoteOpt = "",
                   activate: Annotated[bool, typer.Option(
                       "--activate", help="Put it in force as well")] = False,
                   user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Save FILE as the next version of KIND (checked first: refused with each problem's line);
    --activate puts it in force too."""
    payload: dict[str, Any] = {"kind": kind, "file": str(file)}
    with _work(payload, as_json) as session:
        actor = _actor(session, user)
        row = service.save_version(session, actor=actor, kind=kind,
                                   content=read_text(file, ConfigInvalid), note=note)
        if activate:
            service.activate(session, actor=actor, kind=kind, version=row.version, note=note)
        payload.update(ok=True, version=row.version, active=activate, sha256=row.content_sha256)
    _done(payload, as_json,
          f"saved {kind} v{row.version}" + (" (in force)" if activate else ""))


@config_app.command("activate")
@handle_errors
def activate_command(kind: KindArg,
                     version: Annotated[int, typer.Argument(help="The version (0: the file)")],
                     note: NoteOpt = "", user: UserOpt = "admin",
                     as_json: JsonOpt = False) -> None:
    """Put VERSION of KIND in force (0: back to its file)."""
    payload: dict[str, Any] = {"kind": kind, "version": version}
    with _work(payload, as_json) as session:
        record = service.activate(session, actor=_actor(session, user), kind=kind,
                                  version=version, note=note)
        payload.update(ok=True, previous=record.previous, action=record.action)
    _done(payload, as_json, f"{kind}: v{version} in force (was v{record.previous})")


@config_app.command("rollback")
@handle_errors
def rollback_command(kind: KindArg, note: NoteOpt = "", user: UserOpt = "admin",
                     as_json: JsonOpt = False) -> None:
    """Put back the version of KIND in force before its last change."""
    payload: dict[str, Any] = {"kind": kind}
    with _work(payload, as_json) as session:
        record = service.rollback(session, actor=_actor(session, user), kind=kind, note=note)
        payload.update(ok=True, version=record.version, previous=record.previous,
                       action=record.action)
    _done(payload, as_json,
          f"{kind}: v{record.version} in force again (was v{record.previous})")


@config_app.command("diff")
@handle_errors
def diff_command(kind: KindArg,
                 old: Annotated[int, typer.Argument(help="From this version (0: the file)")],
                 new: Annotated[int, typer.Argument(help="To this version")],
                 user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """The unified diff between two versions of KIND."""
    with unit_of_work() as session:
        lines = service.diff(session, actor=_actor(session, user), kind=kind, old=old, new=new)
    if as_json:
        emit_json({"kind": kind, "old": old, "new": new, "changed": bool(lines),
                   "diff": lines})
        return
    for line in lines:
        typer.echo(line)
