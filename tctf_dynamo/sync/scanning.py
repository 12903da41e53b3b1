"""Parallel scan segments streamed through a bounded buffer.

A parallel scan reads ``segments`` slices of a table at once. Collecting each segment
whole before yielding would hold the entire table in memory; instead each worker hands
over one page at a time through a small queue, and blocks while the consumer is behind.
Memory stays bounded by a few pages whatever the table's size, and a consumer that stops
early (``break``) stops the workers after their current page.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["parallel_pages"]

T = TypeVar("T")
ReadPage = Callable[[int, Any], tuple[Sequence[T], Any]]
"""``read_page(segment, start) -> (items, next_start)``; a falsy next start ends the segment."""

_PUT_WAIT_SECONDS = 0.05


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Done:
    pass


class _Pages(Generic[T]):
    def __init__(self, read_page: ReadPage[T], segments: int, workers: int) -> None:
        self.read_page, self.segments, self.workers = read_page, segments, workers
        self.buffer: queue.Queue[Sequence[T] | _Failure | _Done] = queue.Queue(maxsize=2 * workers)
        self.stop = threading.Event()

    def _hand_over(self, value: Sequence[T] | _Failure | _Done) -> bool:
        while not self.stop.is_set():
            try:
                self.buffer.put(value, timeout=_PUT_WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _read_segment(self, segment: int) -> None:
        try:
            start: Any = None
            while not self.stop.is_set():
                items, start = self.read_page(segment, start)
                if not self._hand_over(items) or not start:
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._hand_over(_Failure(error))
        finally:
            self._hand_over(_Done())

    def __iter__(self) -> Iterator[Sequence[T]]:
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            for segment in range(self.segments):
                pool.submit(self._read_segment, segment)
            finished = 0
            while finished < self.segments:
                got = self.buffer.get()
                if isinstance(got, _Done):
                    finished += 1
                elif isinstance(got, _Failure):
                    raise got.error
                else:
                    yield got
        finally:
            self.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)


def parallel_pages(read_page: ReadPage[T], segments: int, workers: int) -> Iterator[Sequence[T]]:
    """Pages of every segment as they arrive, at most ``2 * workers`` pages buffered."""
    return iter(_Pages(read_page, segments, max(1, min(workers, segments))))
