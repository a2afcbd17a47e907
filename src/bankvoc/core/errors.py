"""One error hierarchy: every expected failure is a `BankvocError`.

Each renders as {code, message, field}; features subclass the four kinds below.
"""

from __future__ import annotations


class BankvocError(Exception):
    status: int = 400
    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotFound(BankvocError):
    status = 404
    code = "not_found"


class Forbidden(BankvocError):
    status = 403
    code = "forbidden"


class Unauthorized(BankvocError):
    status = 401
    code = "unauthorized"


class Conflict(BankvocError):
    status = 409
    code = "conflict"


class Invalid(BankvocError):
    status = 422
    code = "invalid"


class Unavailable(BankvocError):
    """A service the request needs (the database) is away for now: try again shortly."""

    status = 503
    code = "unavailable"


class ConfigurationError(BankvocError):
    status = 500
    code = "configuration"
