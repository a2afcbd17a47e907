"""Worker processes: spawned children leave the parent's main module alone when asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bankvoc.core.workers import spawning_without_main

# A program whose pool's children say which main module they run: "__mp_main__" is the
# parent's, run again; "__main__" is a module of their own.
PROGRAM = '''
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from bankvoc.core.workers import spawning_without_main

PROBE = "__import__('sys').modules['__main__'].__name__"


def childs_main(hide: bool) -> str:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        if not hide:
            return pool.submit(eval, PROBE).result()
        with spawning_without_main():
            future = pool.submit(eval, PROBE)
        return future.result()


if __name__ == "__main__":
    print(childs_main(hide=False), childs_main(hide=True))
'''


class TestSpawningWithoutMain:
    def test_a_child_spawned_inside_does_not_run_the_parents_main_module(
        self, tmp_path: Path
    ) -> None:
        program = tmp_path / "program.py"
        program.write_text(PROGRAM, encoding="utf-8")
        source = str(Path(__file__).resolve().parents[2] / "src")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [source, os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                              env=env, timeout=120, check=True)
        assert done.stdout.split() == ["__mp_main__", "__main__"]

    def test_the_main_module_is_as_it_was_afterwards(self) -> None:
        main = sys.modules["__main__"]
        before = (main.__spec__, getattr(main, "__file__", None))
        with spawning_without_main():
            assert main.__spec__ is None
            assert not hasattr(main, "__file__")
        assert (main.__spec__, getattr(main, "__file__", None)) == before
