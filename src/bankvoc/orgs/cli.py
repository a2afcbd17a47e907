from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.orgs import admin, service, totp
from bankvoc.orgs.models import ApiToken

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
        # Through the administration's service: the same checks and the same audit record
        # as the admin screens (by `cli`).
        user = admin.create_user(session, actor=None, username=name,
                                 display_name=display_name or name, org_id=home.id,
                                 roles=roles, email=email, mobile=mobile)
        token = service.issue_token(session, user=user, label="cli", by="cli")
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
    """Issue another API token for an existing user, with all of their permissions (a scoped
    one: bankvoc tokens create)."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        token = service.issue_token(session, user=service.get_user(session, username=name),
                                    label="cli", by="cli")
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
        # Through the administration's service, recorded in the directory's audit trail
        # (by `cli`), as `users create` is.
        admin.reset_password(session, actor=None, user_id=user.id, password=password,
                             initial=initial)
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
        user = service.get_user(session, username=username)
        was_locked = admin.unlock_user(session, actor=None, user_id=user.id)
    if as_json:
        emit_json({"user": username, "was_locked": was_locked})
    else:
        typer.echo(f"{username} unlocked" if was_locked else f"{username} was not locked")


@users_app.command("totp-reset")
@handle_errors
def totp_reset(
    username: Annotated[str, typer.Argument(help="Log-in name")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Clear a user's TOTP second factor (a lost phone): they log in with the password alone,
    or enrol again at the next log-in where their role requires it."""
    with unit_of_work(get_engine()) as session:
        user = service.get_user(session, username=username)
        was_enrolled = totp.reset(session, user=user, by="cli")
    if as_json:
        emit_json({"user": username, "was_enrolled": was_enrolled})
    else:
        typer.echo(f"second factor of {username} cleared" if was_enrolled
                   else f"{username} had no second factor")


# --- API tokens --------------------------------------------------------------------------------

tokens_app = typer.Typer(help="API tokens for integrations: scoped, expiring, revocable.",
                         no_args_is_help=True)


def _token_json(row: ApiToken) -> dict[str, object]:
    return {"id": row.id, "user": row.user.username, "label": row.label,
            "scopes": service.ALL_SCOPES if row.scopes is None else row.scopes,
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


@tokens_app.command("create")
@handle_errors
def create_token(
    user: Annotated[str, typer.Option(help="Log-in name of the token's user")],
    label: Annotated[str, typer.Option(help="What the token is for (an integration's name)")],
    scope: Annotated[list[str] | None, typer.Option(
        help="A permission the token may use (repeat, or comma-separated); 'all' for every "
             "permission of the user. Default: read-only (" + ", ".join(service.DEFAULT_SCOPES)
             + ")")] = None,
    days: Annotated[int | None, typer.Option(
        help="Days until it expires (default BANKVOC_API_TOKEN_DAYS, 90)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Create an API token and print it (shown this once: only its hash is kept)."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        made = service.create_token(session, user=service.get_user(session, username=user),
                                    label=label, scopes=scope or (), days=days, by="cli")
        found = _token_json(made.row) | {"token": made.token}
    if as_json:
        emit_json(found)
    else:
        typer.echo(f"token {found['id']} for {user}, scopes "
                   f"{_scope_list(found['scopes'])}, expires {found['expires_at']}")
        typer.echo(f"token: {made.token}")
        typer.echo("(shown once: store it now)", err=True)


def _scope_list(scopes: object) -> str:
    return ", ".join(scopes) if isinstance(scopes, list) else str(scopes)


@tokens_app.command("list")
@handle_errors
def list_tokens(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The API tokens, newest first (never the tokens themselves)."""
    with unit_of_work(get_engine()) as session:
        owner = service.get_user(session, username=user) if user else None
        found = [_token_json(row) for row in service.list_tokens(session, user=owner)]
    if as_json:
        emit_json({"tokens": found})
        return
    for row in found:
        state = ("revoked" if row["revoked_at"] else
                 f"expires {row['expires_at'] or 'never'}")
        typer.echo(f"{row['id']:>5}  {row['user']:<16} {row['label']:<20} {state}  "
                   f"last used {row['last_used_at'] or '-'}  scopes {_scope_list(row['scopes'])}")


@tokens_app.command("revoke")
@handle_errors
def revoke_token(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (tokens list)")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Revoke an API token at once (every later request with it gets 401)."""
    with unit_of_work(get_engine()) as session:
        row, was_live = service.revoke_token(session, token_id=token_id, by="cli")
        found = {"id": row.id, "user": row.user.username, "was_live": was_live,
                 "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}
    if as_json:
        emit_json(found)
    else:
        typer.echo(f"token {token_id} revoked" if was_live
                   else f"token {token_id} was revoked already")
