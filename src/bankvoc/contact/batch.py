"""Inspect a JSON Lines file of interactions: one output line per input line, in input order.

Each non-blank input line gives exactly one output line: the result of `inspect` as
`{"id", "score", "hits": [...]}`, or, for a line that is not an interaction, an error object in
its place, `{"id", "line", "error": {"field", "reason"}}` (`id` is null when it could not be
read), so that the n-th object always answers the n-th interaction. Blank lines are skipped.
Input may be gzipped (told by its first bytes, not its name).

Large inputs are cut into chunks inspected by a pool of worker processes; the chunks are
written back in the order they were read, a bounded number ahead, so memory stays flat however
long the file. An input that fits in the first chunk is inspected here, with no pool to start.
"""

from __future__ import annotations

import gzip
import io
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context
from typing import IO, cast

import orjson

from bankvoc.contact.inspection import inspect
from bankvoc.contact.rules import RuleSet
from bankvoc.contact.schemas import LineError, parse_line
from bankvoc.core.workers import exit_with_parent

CHUNK = 1_000
GZIP_MAGIC = b"\x1f\x8b"

Numbered = tuple[int, bytes]


@dataclass(frozen=True)
class Outcome:
    """One output line (JSON, no newline) and, for a refused input line, why."""

    json: bytes
    error: LineError | None = None


def open_input(stream: IO[bytes]) -> IO[bytes]:
    """The stream, unzipped when it starts as gzip does (a stream that cannot peek, as a
    BytesIO, is read through a buffer that can)."""
    if not hasattr(stream, "peek"):
        stream = cast(IO[bytes], io.BufferedReader(cast(io.RawIOBase, stream)))
    if stream.peek(2)[:2] == GZIP_MAGIC:  # type: ignore[attr-defined]
        return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    return stream


def numbered_lines(stream: IO[bytes]) -> Iterator[Numbered]:
    """The non-blank lines with their 1-based line numbers."""
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def inspect_chunk(lines: list[Numbered], rules: RuleSet) -> list[Outcome]:
    """Inspect some numbered lines; the same number of outcomes, in the same order."""
    out = []
    for number, raw in lines:
        parsed = parse_line(raw, number)
        if isinstance(parsed, LineError):
            out.append(Outcome(orjson.dumps(parsed.to_dict()), parsed))
        else:
            out.append(Outcome(orjson.dumps(inspect(parsed, rules).to_dict())))
    return out


_worker_rules: RuleSet | None = None


def _init_worker(rules: RuleSet) -> None:
    global _worker_rules
    exit_with_parent()
    _worker_rules = rules


def _inspect_in_worker(lines: list[Numbered]) -> list[Outcome]:
    assert _worker_rules is not None
    return inspect_chunk(lines, _worker_rules)


def inspect_lines(lines: Iterable[Numbered], rules: RuleSet, *, workers: int = 2,
                  chunk: int = CHUNK, start_method: str = "spawn") -> Iterator[Outcome]:
    """One outcome per line, in order; with `workers` > 0 and more than one chunk of input,
    the chunks are inspected in that many processes.

    The workers are spawned by default: a caller may hold database connections or threads a
    forked child must not share. A command that holds neither (`qa inspect`) passes "fork",
    which starts them at once instead of importing the command's every module again in each
    (seconds on a busy machine)."""
    source = iter(lines)
    first = list(islice(source, chunk))
    second = list(islice(source, chunk)) if workers > 0 else []
    if not second:
        yield from inspect_chunk(first, rules)
        for piece in iter(lambda: list(islice(source, chunk)), []):
            yield from inspect_chunk(piece, rules)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(start_method),
                             initializer=_init_worker, initargs=(rules,)) as pool:
        ahead: deque[Future[list[Outcome]]] = deque()
        pending = iter([second])
        chunks = iter(lambda: list(islice(source, chunk)), [])

        def top_up() -> None:
            while len(ahead) < 3 * workers:
                piece = next(pending, None) or next(chunks, None)
                if piece is None:
                    return
                ahead.append(pool.submit(_inspect_in_worker, piece))

        top_up()
        # The pool's processes take a moment to start: the first chunk is done here meanwhile.
        yield from inspect_chunk(first, rules)
        while ahead:
            done = ahead.popleft().result()
            top_up()
            yield from done
