"""Fewer young garbage collections while bulk jobs run.

A bulk job allocates several container objects per item (wire items, entries, the
entities a read returns) and keeps many of them to its end. CPython's collector starts
a young collection every 700 such allocations and, every hundred of those, may walk
everything allocated since its last full collection: on a job of ten thousand items
those collections find next to nothing to free and cost about a tenth of the job's CPU
(measured with ``python -m bench.batch``).

While at least one job runs, the young threshold is ten times larger, so the same
objects are walked in a tenth as many collections; reference counting, which frees
everything a job lets go of, is untouched. The thresholds are the process's, so the
change is scoped with care: it is made when the first of any number of concurrent jobs
starts and undone when the last ends, unless something else changed the thresholds in
between (then theirs stand); a collector that is disabled or has a zero threshold is
left alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections"]

YOUNG_FACTOR = 10
_lock = threading.Lock()
_running = 0
_restore: tuple[tuple[int, ...], tuple[int, ...]] | None = None
"""(the thresholds found, the thresholds set) while jobs run and the change is ours."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the body with a young-collection threshold ten times the current one."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _running, _restore  # noqa: PLW0603 - one process-wide setting, under the lock
    with _lock:
        _running += 1
        if _running > 1:
            return
        found = gc.get_threshold()
        if not gc.isenabled() or found[0] <= 0:
            return
        ours = (found[0] * YOUNG_FACTOR, *found[1:])
        gc.set_threshold(*ours)
        _restore = (found, ours)


def _leave() -> None:
    global _running, _restore  # noqa: PLW0603 - one process-wide setting, under the lock
    with _lock:
        _running -= 1
        if _running or _restore is None:
            return
        found, ours = _restore
        _restore = None
        if gc.get_threshold() == ours:
            gc.set_threshold(*found)
