"""The job registry: `@job(name, every=...)` on a plain function `fn(now) -> dict`.

Rules for a job (so any engine can run it, the in-process scheduler or a distributed one):
- it takes the time it runs for (`now`, UTC), and keyword arguments only if it is enqueued with
  some (`enqueue_job(session, name, **args)`: ids and plain values, JSON-serialisable), and
  returns a JSON-serialisable dict;
- it opens its own unit of work (`bankvoc.core.db.unit_of_work`) and commits it itself;
- it is idempotent and safe to run twice at once (claims, dedupe keys, guarded updates).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bankvoc
from bankvoc.core.errors import ConfigurationError, NotFound
from bankvoc.core.settings import get_settings

JobFunction = Callable[..., dict[str, Any]]


class UnknownJob(NotFound):
    code = "unknown_job"


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFunction
    # How often the scheduler runs it; None: only on demand (`bankvoc jobs run NAME`).
    every: timedelta | None
    description: str

    def __call__(self, now: datetime, **args: Any) -> dict[str, Any]:
        return self.fn(now, **args)

    def interval(self) -> timedelta | None:
        """How often it runs: `every`, or the operator's `BANKVOC_JOB_INTERVALS` for it."""
        if self.every is None:
            return None
        seconds = get_settings().job_intervals.get(self.name)
        return self.every if seconds is None else timedelta(seconds=seconds)


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def job(self, name: str, *, every: timedelta | None = None
            ) -> Callable[[JobFunction], JobFunction]:
        """Register the decorated function as job `name`; the function itself is unchanged."""
        if every is not None and every <= timedelta(0):
            raise ConfigurationError(f"job {name!r}: `every` must be positive", field="every")

        def register(fn: JobFunction) -> JobFunction:
            known = self._jobs.get(name)
            if known is not None and (known.fn.__module__, known.fn.__qualname__) != (
                    fn.__module__, fn.__qualname__):
                raise ConfigurationError(
                    f"job {name!r} is registered twice ({known.fn.__module__}."
                    f"{known.fn.__qualname__} and {fn.__module__}.{fn.__qualname__})",
                    field="name")
            doc = (fn.__doc__ or "").strip()
            self._jobs[name] = Job(name=name, fn=fn, every=every,
                                   description=doc.splitlines()[0] if doc else "")
            return fn

        return register

    def get(self, name: str) -> Job:
        found = self._jobs.get(name)
        if found is None:
            raise UnknownJob(f"unknown job {name!r}; known: {', '.join(self.names()) or 'none'}",
                             field="name")
        return found

    def names(self) -> list[str]:
        return sorted(self._jobs)

    def all(self) -> list[Job]:
        return [self._jobs[name] for name in self.names()]

    def remove(self, name: str) -> None:
        self._jobs.pop(name, None)


registry = JobRegistry()
job = registry.job

_discovered = False


def discover() -> JobRegistry:
    """Import every feature's `tasks` module (bankvoc.<feature>.tasks), once, and the modules
    named in `BANKVOC_JOB_MODULES` (each time they are new)."""
    global _discovered
    if not _discovered:
        for module in pkgutil.iter_modules(bankvoc.__path__):
            name = f"bankvoc.{module.name}.tasks"
            if module.ispkg and importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        _discovered = True
    for name in filter(None, (part.strip() for part in get_settings().job_modules.split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(f"job module {name!r} (BANKVOC_JOB_MODULES) cannot be "
                                     f"imported: {exc}", field="job_modules") from None
    return registry
