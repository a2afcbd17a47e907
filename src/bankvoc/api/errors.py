"""One rendering of every error: {code, message, field}; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bankvoc.core.db import database_unavailable
from bankvoc.core.errors import BankvocError, Unavailable

log = logging.getLogger("bankvoc.api")

# How long a client is asked to wait before retrying a request the database could not serve.
RETRY_AFTER_SECONDS = 2

DATABASE_AWAY = Unavailable("the database is unavailable for now; retry the request shortly",
                            field=None)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    if error.get("type") == "missing":
        return "is required"
    return message


def install(app: FastAPI) -> None:
    @app.exception_handler(BankvocError)
    async def _bankvoc(_: Request, exc: BankvocError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_of(tuple(e.get("loc", ()))), "message": _validation_message(e)}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": "body", "message": "is invalid"}
        return JSONResponse(
            {"code": "invalid", "message": f"{first['field']}: {first['message']}",
             "field": first["field"], "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse({"code": code, "message": str(exc.detail), "field": None},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Log the type only: messages of unexpected errors may carry personal data.
        log.error("unexpected error %s", type(exc).__name__, exc_info=False)
        return JSONResponse({"code": "internal", "message": "internal error", "field": None},
                            status_code=500)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # A database restarting or failing over is not a bug of ours: 503 and Retry-After, so
        # that clients (and load balancers) retry; the request's transaction was rolled back,
        # and a retried registration is safe (its Idempotency-Key or source id).
        if database_unavailable(exc):
            log.warning("database unavailable: %s", type(exc.orig if isinstance(
                exc, DBAPIError) else exc).__name__)
            return JSONResponse(DATABASE_AWAY.to_dict(), status_code=DATABASE_AWAY.status,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return await _unexpected(request, exc)
