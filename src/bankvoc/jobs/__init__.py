"""Background work: one job decorator, an in-process runner and scheduler (APScheduler), and
Celery over Redis or RabbitMQ when `BANKVOC_BROKER_URL` is set.

A job is a plain function `fn(now: datetime, **args) -> dict` that opens its own unit of work,
takes ids rather than objects, and is idempotent and safe to run in two places at once.
Features declare theirs in `<feature>/tasks.py` with `@job(...)`; `registry.discover()` imports
them. Without a broker the in-process scheduler runs them (`bankvoc serve`, `bankvoc
scheduler`); with one, `bankvoc worker` processes run them from the broker (`engine.py`: one
generic Celery task calling the same `runner.run_job`) and `bankvoc scheduler` is Celery beat.
A service that leaves work for after its commit calls `enqueue.enqueue_job(session, name)`.
"""
