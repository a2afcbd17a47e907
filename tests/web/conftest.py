"""Fixtures of the web tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.live import chromium


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (browser test modules skip where it is missing)."""
    with chromium() as launched:
        yield launched
