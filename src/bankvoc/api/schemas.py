from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorRead(BaseModel):
    code: str
    message: str
    field: str | None = None


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the errors a route declares."""
    return {status: {"model": ErrorRead} for status in statuses}
