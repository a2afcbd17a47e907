"""Garbage-collector settings for bulk work and for server processes.

A bulk import allocates millions of short-lived objects that reference counting frees anyway;
the cyclic collector meanwhile keeps rescanning everything the process holds (modules, the ORM
registry, the batch itself). Freezing what exists and collecting young objects less often cut
about a tenth of an import's time here (bench/ingest.py), with no change in what is stored.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def bulk_collection() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


# A server process: young objects collected less often (each request allocates thousands).
SERVING_THRESHOLDS = (5_000, 20, 20)


def settle_for_serving() -> None:
    """For a long-running server, once started: what exists now (modules, the app, the
    taxonomy, compiled rules) lives as long as the process, so the cyclic collector stops
    rescanning it. Without this an API process's full collection walked ~370,000 objects,
    a 100-250 ms pause for whichever requests were running (bench/load.py's p99 at 40
    requests/s); afterwards it walks what requests allocate since."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
