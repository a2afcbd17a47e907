from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bankvoc.core.gctune import (
    BULK_THRESHOLDS,
    SERVING_THRESHOLDS,
    bulk_collection,
    settle_for_serving,
)


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone afterwards."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector")
class TestSettleForServing:
    def test_what_exists_is_no_longer_scanned(self) -> None:
        held = [{"n": i} for i in range(1000)]
        settle_for_serving()
        assert gc.get_freeze_count() >= len(held)
        assert not any(obj is held for obj in gc.get_objects())
        assert gc.get_threshold() == SERVING_THRESHOLDS

    def test_what_requests_allocate_later_still_is(self) -> None:
        settle_for_serving()
        later = [{"n": 1}]
        assert any(obj is later for obj in gc.get_objects())


@pytest.mark.usefixtures("collector")
class TestBulkCollection:
    def test_restores_the_collector_afterwards(self) -> None:
        before = gc.get_threshold()
        with bulk_collection():
            assert gc.get_threshold() == BULK_THRESHOLDS
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

    def test_a_batch_of_drafts_held_at_once_is_not_rescanned_while_it_is_built(self) -> None:
        young: list[int] = []

        def count(phase: str, info: dict[str, int]) -> None:
            if phase == "start" and info["generation"] == 0:
                young.append(1)

        gc.collect()
        gc.callbacks.append(count)
        try:
            with bulk_collection():
                batch = [{"row": i, "annotations": {"pii": [i]}} for i in range(200_000)]
                during = len(young)
        finally:
            gc.callbacks.remove(count)
        assert len(batch) == 200_000
        assert during == 0  # at the thresholds of before: a young collection per 50,000


class TestServeApp:
    def test_is_the_app_with_the_collector_settled(
            self, collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
        from bankvoc.api import app as app_module
        from bankvoc.core.settings import reset_settings

        monkeypatch.setenv("BANKVOC_DEMO", "1")
        reset_settings()
        served = app_module.serve_app()
        assert TestClient(served).get("/healthz").status_code == 200
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
