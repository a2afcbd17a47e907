"""Logging: one JSON object a line (or plain text for people), each carrying the request id.

The request id lives in a context variable set by the API's request middleware
(`ops.middleware`): every log line written while a request is served, by any module and in
any thread the request's context is copied to, carries it, so one request's lines can be found
together across processes behind a load balancer.

No personal data in logs (PIPL art. 28; DESIGN.md "Always"): the code never logs names, phone
or ID numbers, and as a second line of defence every message is passed through `scrub`, which
masks any run of seven or more digits (phone, ID, card and account numbers) before it is
written.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
import uuid
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("bankvoc_request_id", default=None)
# A request id from the caller is kept when it is plain and short (it is echoed in a header and
# written to the logs); anything else is replaced by a fresh one.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Seven or more digits, maybe separated by spaces or dashes, maybe ending in X (ID numbers).
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9０-９](?:[ -]?[0-9０-９]){6,}[Xx]?")
MASK = "[number]"


def request_id() -> str | None:
    return _request_id.get()


def accept_request_id(offered: str | None) -> str:
    """The caller's X-Request-ID when it is acceptable, else a new random one."""
    if offered and _ACCEPTABLE_ID.fullmatch(offered) and not _LONG_NUMBER.search(offered):
        return offered
    return uuid.uuid4().hex


def bind_request_id(value: str | None) -> Any:
    """Set the request id of the current context; returns the token to `reset_request_id`."""
    return _request_id.set(value)


def reset_request_id(token: Any) -> None:
    _request_id.reset(token)


def scrub(text: str) -> str:
    """`text` with every long run of digits masked."""
    return _LONG_NUMBER.sub(MASK, text)


class ContextFilter(logging.Filter):
    """Adds `request_id` to every record and masks long numbers in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it as logging always does
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback repeats the exception's message, which may quote input (a driver's
            # "Key (phone)=(…) already exists"): its type and where it was raised only.
            exc = record.exc_info[1]
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
            record.exc_text = f"{type(exc).__name__}{at} (traceback withheld)"
            record.exc_info = None
        return True


def handler(stream: Any = None, *, fmt: Literal["json", "text"] = "json") -> logging.Handler:
    """A stream handler (stderr by default) that writes JSON or text with the request id."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(ContextFilter())
    if fmt == "json":
        out.setFormatter(JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(request_id)s", timestamp="time",
            rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False))
    else:
        out.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    return out


def configure(level: str = "INFO", *, fmt: Literal["json", "text"] = "json",
              stream: Any = None) -> None:
    """Route every logger (uvicorn's and the libraries' too) to one handler on stderr.

    Does nothing when the root logger has handlers already (an embedding application, pytest)
    beyond setting the level."""
    root = logging.getLogger()
    root.setLevel(level)
    if root.handlers:
        return
    root.addHandler(handler(stream, fmt=fmt))
