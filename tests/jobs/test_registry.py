"""The job registry: plain functions registered by name, found by discovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bankvoc.core.errors import ConfigurationError
from bankvoc.jobs.registry import JobRegistry, UnknownJob, discover

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


class TestJob:
    def test_registers_a_plain_function_unchanged(self) -> None:
        registry = JobRegistry()

        @registry.job("demo.echo", every=timedelta(minutes=5))
        def echo(now: datetime) -> dict[str, Any]:
            """Say when it ran.

            More words that the listing leaves out.
            """
            return {"at": now.isoformat()}

        assert echo(NOW) == {"at": NOW.isoformat()}
        job = registry.get("demo.echo")
        assert (job.name, job.every, job.description) == ("demo.echo", timedelta(minutes=5),
                                                          "Say when it ran.")
        assert job(NOW) == {"at": NOW.isoformat()}

    def test_two_functions_cannot_share_a_name(self) -> None:
        registry = JobRegistry()

        @registry.job("demo.twice")
        def first(now: datetime) -> dict[str, Any]:
            return {}

        with pytest.raises(ConfigurationError, match="registered twice"):
            @registry.job("demo.twice")
            def second(now: datetime) -> dict[str, Any]:
                return {}

    def test_a_period_must_be_positive(self) -> None:
        with pytest.raises(ConfigurationError, match="must be positive"):
            JobRegistry().job("demo.never", every=timedelta(0))


class TestGet:
    def test_an_unknown_job_names_the_known_ones(self) -> None:
        registry = JobRegistry()
        registry.job("demo.a")(lambda now: {})
        with pytest.raises(UnknownJob, match=r"unknown job 'demo\.b'; known: demo\.a"):
            registry.get("demo.b")


class TestDiscover:
    def test_finds_the_features_jobs(self) -> None:
        job = discover().get("notify.dispatch")
        assert job.every == timedelta(seconds=30)
        assert job.description.startswith("Send the due notifications")
