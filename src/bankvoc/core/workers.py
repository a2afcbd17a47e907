"""What every worker process of a pool (bulk import, quality inspection) does on start-up."""

from __future__ import annotations

import os
import threading
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
