"""What every command shares: one JSON line for scripts, clear errors for people."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from bankvoc.core import logs
from bankvoc.core.db import database_unavailable
from bankvoc.core.errors import BankvocError

P = ParamSpec("P")
R = TypeVar("R")


# The exit code of a command stopped because the database went away (2: a usage error).
DATABASE_UNAVAILABLE_EXIT = 3


def emit_json(payload: dict[str, Any]) -> None:
    """The last line of a --json command: one JSON object on stdout."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, *, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures end the command with their message and exit code 2, never a trace."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BankvocError as exc:
            where = f" ({exc.field})" if exc.field else ""
            raise fail(f"{exc.message}{where}") from None
        except FileNotFoundError as exc:
            raise fail(f"no such file: {exc.filename}") from None
        except SQLAlchemyError as exc:
            if not database_unavailable(exc):
                raise
            # What was committed stays; the command is safe to run again (imports resume).
            raise fail("the database is unavailable; run the command again once it is back",
                       code=DATABASE_UNAVAILABLE_EXIT) from None

    return wrapper


def configure_logging(level: str = "INFO", fmt: Literal["json", "text"] = "json") -> None:
    """Logs go to stderr, so stdout stays clean for --json and JSON Lines."""
    logs.configure(level, fmt=fmt, stream=sys.stderr)
