"""Garbage-collector settings for bulk work and for server processes.

A bulk import allocates millions of short-lived objects that reference counting frees anyway;
the cyclic collector meanwhile keeps rescanning everything the process holds (modules, the ORM
registry, the batch itself). What exists is frozen, and young objects are collected once per
million allocations: each young collection scans what is alive at that moment, a whole batch
of drafts in an importing process, so collecting every 50,000 allocations cost that process
2.1 s of a 21-23 s import of 100,000 records and now 0.2 s (bench/ingest.py, timed with
gc.callbacks; 4,228-4,538 -> 4,669-4,836 records/s). A batch leaves ~1,650 objects in
reference cycles (a closed session's), so what waits for a collection stays small.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (1_000_000, 20, 100)


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
