"""REST routes of the regulatory statistics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
