"""Fixtures of the case tests (the workflow tests have their own `bank`, with more staff)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankvoc.core.settings import reset_settings
from tests.cases.closing import add_staff
from tests.conftest import World


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence files under the test's own directory."""
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    reset_settings()
    return tmp_path


@pytest.fixture
def bank(world: World) -> World:
    """The test world plus a Beijing team lead and second handler, and head-office 消保."""
    return add_staff(world)
