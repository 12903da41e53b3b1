"""Parallel scan pages stream through a bounded buffer and stop when the consumer does."""

from __future__ import annotations

import threading
import time

import pytest

from tctf_dynamo.scanning import parallel_pages


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


def test_every_item_of_every_segment_arrives_once() -> None:
    read_page, _ = _reader(pages_per_segment=5)
    items = [item for page in parallel_pages(read_page, segments=4, workers=2) for item in page]
    assert sorted(items) == sorted((s, n) for s in range(4) for n in range(15))


def test_a_consumer_that_stops_early_stops_the_readers() -> None:
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


def test_a_reader_failure_reaches_the_consumer() -> None:
    def read_page(segment: int, start: object) -> tuple[list[int], object]:
        if segment == 1:
            raise RuntimeError("segment 1 failed")
        return [segment], None

    with pytest.raises(RuntimeError, match="segment 1 failed"):
        list(parallel_pages(read_page, segments=3, workers=3))
