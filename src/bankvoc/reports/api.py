"""REST routes of the monthly VOC report."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
