"""What every worker process of a pool (bulk import, quality inspection) does on start-up."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import parent_process
from multiprocessing.connection import wait


def exit_with_parent() -> None:
    """End this worker process as soon as the process that started it dies.

    A pool's worker holds both ends of the pipe its results go back on: when its parent is
    killed (SIGKILL, OOM) half way through a batch, its write blocks for ever once the pipe is
    full, and the worker outlives the run. A daemon thread waits on the parent's sentinel and
    exits at once; nothing the worker was doing is worth finishing without the parent.
    """
    parent = parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def spawning_without_main() -> Iterator[None]:
    """Processes spawned inside this block do not run the parent's main module again.

    multiprocessing's spawn runs the parent's `__main__` in every child (as `__mp_main__`), so
    that functions defined there can be unpickled; for the `bankvoc` script that means
    importing the whole CLI, every feature, in each worker (~3 s) before it does any work. A
    pool whose functions live in the package needs none of that. (A worker the pool replaces
    later, after this block, imports it as usual: slower to start, no less correct.)
    """
    main = sys.modules["__main__"]
    saved = {name: main.__dict__[name] for name in ("__spec__", "__file__")
             if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)
