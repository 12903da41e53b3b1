"""Parallel scan pages stream through a bounded buffer and stop when the consumer does,
read by threads (sync API) or by asyncio tasks (async API): one test body checks both."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from tctf_dynamo.aio import scanning as aio_scanning
from tctf_dynamo.sync.scanning import parallel_pages as sync_pages

Pages = Callable[..., Iterator[Sequence[Any]]]


def async_pages(read_page: Any, segments: int, workers: int) -> Iterator[Sequence[Any]]:
    """The async parallel pages, iterated blocking; closing this closes them (cancelling
    their readers) on the loop they ran on."""

    async def read(segment: int, start: Any) -> Any:
        return read_page(segment, start)

    pages = aio_scanning.parallel_pages(read, segments, workers)

    async def following() -> Sequence[Any]:
        return await anext(pages)

    with asyncio.Runner() as runner:
        try:
            while True:
                try:
                    yield runner.run(following())
                except StopAsyncIteration:
                    return
        finally:
            runner.run(pages.aclose())


@pytest.fixture(params=[sync_pages, async_pages], ids=["sync", "async"])
def parallel_pages(request: pytest.FixtureRequest) -> Pages:
    pages: Pages = request.param
    return pages


def _reader(pages_per_segment: int, page_size: int = 3):
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def read_page(segment: int, start: int | None) -> tuple[list[tuple[int, int]], int | None]:
        page = start or 0
        with lock:
            calls.append((segment, page))
        items = [(segment, page * page_size + n) for n in range(page_size)]
        following = page + 1 if page + 1 < pages_per_segment else None
        return items, following

    return read_page, calls


def test_every_item_of_every_segment_arrives_once(parallel_pages: Pages) -> None:
    read_page, _ = _reader(pages_per_segment=5)
    items = [item for page in parallel_pages(read_page, segments=4, workers=2) for item in page]
    assert sorted(items) == sorted((s, n) for s in range(4) for n in range(15))


def test_a_consumer_that_stops_early_stops_the_readers(parallel_pages: Pages) -> None:
    read_page, calls = _reader(pages_per_segment=1_000)
    pages = parallel_pages(read_page, segments=2, workers=2)
    for _ in range(3):
        next(pages)
    pages.close()  # type: ignore[attr-defined]
    time.sleep(0.2)
    settled = len(calls)
    time.sleep(0.2)
    assert len(calls) == settled  # nobody is still reading
    assert settled < 20  # bounded by the buffer, not by the 2,000 pages available


def test_a_reader_failure_reaches_the_consumer(parallel_pages: Pages) -> None:
    def read_page(segment: int, start: object) -> tuple[list[int], object]:
        if segment == 1:
            raise RuntimeError("segment 1 failed")
        return [segment], None

    with pytest.raises(RuntimeError, match="segment 1 failed"):
        list(parallel_pages(read_page, segments=3, workers=3))


def test_no_more_segments_are_read_at_once_than_workers(parallel_pages: Pages) -> None:
    reading = 0
    most = 0
    lock = threading.Lock()

    def read_page(segment: int, start: Any) -> tuple[list[int], Any]:
        nonlocal reading, most
        with lock:
            reading += 1
            most = max(most, reading)
        time.sleep(0.002)  # lets other readers start, if the bound allowed them to
        with lock:
            reading -= 1
        return [segment], None

    items = [item for page in parallel_pages(read_page, segments=12, workers=3) for item in page]
    assert sorted(items) == list(range(12))
    assert most <= 3
