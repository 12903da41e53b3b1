"""Parallel scan segments for the async API: asyncio tasks instead of threads.

The same contract as :func:`tctf_dynamo.sync.scanning.parallel_pages`: at most ``workers``
segments are read at once, pages are handed over through a small bounded buffer as
they arrive (so memory stays a few pages whatever the table's size), a reader's
failure is raised to the consumer, and a consumer that stops early (closing the
iterator) cancels the readers. ``read_page`` is awaited; for queries it runs the very
page program the sync threads run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["parallel_pages"]

T = TypeVar("T")
ReadPage = Callable[[int, Any], Awaitable[tuple[Sequence[T], Any]]]
"""``await read_page(segment, start) -> (items, next_start)``; a falsy next start ends
the segment."""


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_DONE = object()
"""A reader has no segment left."""


async def _read(
    read_page: ReadPage[T], segments: Iterator[int], buffer: asyncio.Queue[Any]
) -> None:
    """Read whole segments, one after the other, until none is left; hand pages over."""
    try:
        for segment in segments:
            start: Any = None
            while True:
                items, start = await read_page(segment, start)
                await buffer.put(items)
                if not start:
                    break
    except Exception as error:  # handed to the consumer, raised there
        await buffer.put(_Failure(error))
        return
    await buffer.put(_DONE)


async def parallel_pages(
    read_page: ReadPage[T], segments: int, workers: int
) -> AsyncGenerator[Sequence[T], None]:
    """Pages of every segment as they arrive, at most ``2 * workers`` pages buffered."""
    workers = max(1, min(workers, segments))
    buffer: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * workers)
    todo = iter(range(segments))  # shared: each reader takes the next segment left
    readers = [asyncio.create_task(_read(read_page, todo, buffer)) for _ in range(workers)]
    try:
        finished = 0
        while finished < workers:
            got = await buffer.get()
            if got is _DONE:
                finished += 1
            elif isinstance(got, _Failure):
                raise got.error
            else:
                yield got
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
