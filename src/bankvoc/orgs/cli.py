from __future__ import annotations

from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.orgs import service

users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


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
