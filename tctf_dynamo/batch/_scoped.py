"""One rule for process-wide settings a bulk job changes while it runs.

Some tunings only pay while a job runs (the garbage collector's thresholds, the
interpreter's thread switch interval) but belong to the whole process, and several jobs
may run at once on different threads. A :class:`ScopedSetting` makes its change when the
first of any number of concurrent scopes opens and undoes it when the last one closes,
also when a scope ends with an exception; if something else changed the setting in
between, that change stands and nothing is undone. A setting the change does not apply
to (``change`` answers None, e.g. a disabled collector) is left alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["ScopedSetting"]

T = TypeVar("T")


class ScopedSetting(Generic[T]):
    """A process-wide value read by ``read`` and set by ``write``; while scopes are open
    it is ``change(found)`` (None: leave it as found)."""

    def __init__(
        self,
        read: Callable[[], T],
        write: Callable[[T], None],
        change: Callable[[T], T | None],
    ) -> None:
        self._read = read
        self._write = write
        self._change = change
        self._lock = threading.Lock()
        self._open = 0
        self._restore: tuple[T, T] | None = None
        """(the value found, the value set) while scopes are open and the change is ours."""

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Run the body with the setting changed (by the first scope open)."""
        self._enter()
        try:
            yield
        finally:
            self._leave()

    def _enter(self) -> None:
        with self._lock:
            self._open += 1
            if self._open > 1:
                return
            found = self._read()
            ours = self._change(found)
            if ours is None:
                return
            self._write(ours)
            self._restore = (found, ours)

    def _leave(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open or self._restore is None:
                return
            found, ours = self._restore
            self._restore = None
            if self._read() == ours:
                self._write(found)
