"""Background work: one job decorator, an in-process runner and scheduler (APScheduler).

A job is a plain function `fn(now: datetime) -> dict` that opens its own unit of work, takes
ids rather than objects, and is idempotent and safe to run in two places at once. Features
declare theirs in `<feature>/tasks.py` with `@job(...)`; `registry.discover()` imports them.
The in-process scheduler runs them by default; a distributed engine (Celery, Dramatiq) would
wrap `runner.run_job(name, now)` as one task per job and call the same functions.
"""
