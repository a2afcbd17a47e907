from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.orgs import auth, service

users_app = typer.Typer(help="Users, their passwords and their API tokens.", no_args_is_help=True)


@users_app.command("create")
@handle_errors
def create_user(
    org: Annotated[str, typer.Option(help="Code of the user's home org")],
    role: Annotated[list[str], typer.Option(help="Role (repeat for several)")],
    name: Annotated[str, typer.Option(help="Log-in name")],
    display_name: Annotated[str | None, typer.Option(help="Name shown on screens")] = None,
    email: Annotated[str | None, typer.Option(help="Work e-mail for deadline alarms")] = None,
    mobile: Annotated[str | None, typer.Option(help="Work mobile for deadline alarms")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Create a user and print their API token (shown once)."""
    get_settings().check_safe()
    roles = [r for value in role for r in value.split(",")]
    with unit_of_work(get_engine()) as session:
        home = service.get_org_by_code(session, code=org)
        user = service.create_user(session, username=name, display_name=display_name or name,
                                   org=home, roles=roles, email=email, mobile=mobile)
        token = service.issue_token(session, user=user, label="cli")
    if as_json:
        emit_json({"user": name, "org": org, "roles": roles, "token": token})
    else:
        typer.echo(f"user {name} created in {org} with roles {', '.join(roles)}")
        typer.echo(f"token: {token}")


@users_app.command("token")
@handle_errors
def new_token(
    name: Annotated[str, typer.Option(help="Log-in name")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue another API token for an existing user."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        token = service.issue_token(session, user=service.get_user(session, username=name),
                                    label="cli")
    if as_json:
        emit_json({"user": name, "token": token})
    else:
        typer.echo(f"token: {token}")


@users_app.command("contact")
@handle_errors
def set_contact(
    name: Annotated[str, typer.Option(help="Log-in name")],
    email: Annotated[str | None, typer.Option(help="Work e-mail ('' clears it)")] = None,
    mobile: Annotated[str | None, typer.Option(help="Work mobile ('' clears it)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set where a user is told of deadline warnings and escalations."""
    with unit_of_work(get_engine()) as session:
        user = service.get_user(session, username=name)
        service.set_contact(user, email=email, mobile=mobile)
        found = {"user": name, "email": user.email, "mobile": user.mobile}
    if as_json:
        emit_json(found)
    else:
        typer.echo(f"{name}: e-mail {found['email'] or '-'}, mobile {found['mobile'] or '-'}")


def _read_password(from_stdin: bool) -> str:
    """The new password, never echoed: from a prompt (typed twice), or one line of stdin."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise Invalid("the two passwords differ", field="password")
    return first


@users_app.command("password")
@handle_errors
def set_password(
    username: Annotated[str, typer.Argument(help="Log-in name")],
    initial: Annotated[bool, typer.Option(
        "--initial", help="An initial password: the user must change it at first log-in")]
    = False,
    stdin: Annotated[bool, typer.Option(
        "--stdin", help="Read the password from the first line of stdin (no prompt)")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set a user's password for the pages (asked without echo); ends their sessions."""
    password = _read_password(stdin)
    with unit_of_work(get_engine()) as session:
        user = service.get_user(session, username=username)
        auth.set_password(session, user=user, password=password, initial=initial, by="cli")
    if as_json:
        emit_json({"user": username, "must_change_password": initial})
    else:
        typer.echo(f"password of {username} set" + (" (to be changed at first log-in)"
                                                     if initial else ""))


@users_app.command("unlock")
@handle_errors
def unlock(
    username: Annotated[str, typer.Argument(help="Log-in name")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Lift a lock-out after too many failed log-ins."""
    with unit_of_work(get_engine()) as session:
        service.get_user(session, username=username)
        was_locked = auth.unlock(session, username=username, by="cli")
    if as_json:
        emit_json({"user": username, "was_locked": was_locked})
    else:
        typer.echo(f"{username} unlocked" if was_locked else f"{username} was not locked")
