"""Splitting work into requests that respect DynamoDB's count and byte limits.

Chunking is greedy and O(n): entries are taken from the front of a queue until the next
one would pass either limit. A chunk always takes at least one entry, so an entry larger
than ``max_bytes`` on its own still goes (alone); with DynamoDB's real limits that cannot
happen, since 25 items of 400 KB are 10 MB, under the 16 MB of a BatchWriteItem.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

__all__ = ["Sized", "split_into_chunks", "take_chunk"]


class Sized(Protocol):
    """Anything with a ``size`` in bytes."""

    @property
    def size(self) -> int: ...


S = TypeVar("S", bound=Sized)
T = TypeVar("T")


def take_chunk(pending: deque[S], max_count: int, max_bytes: int) -> list[S]:
    """Pop the longest prefix of ``pending`` within both limits (at least one entry)."""
    chunk = [pending.popleft()]
    total = chunk[0].size
    while pending and len(chunk) < max_count:
        size = pending[0].size
        if total + size > max_bytes:
            break
        total += size
        chunk.append(pending.popleft())
    return chunk


class _Measured(Generic[T]):
    __slots__ = ("size", "value")

    def __init__(self, value: T, size: int) -> None:
        self.value = value
        self.size = size


def split_into_chunks(
    values: Iterable[T], size_of: Callable[[T], int], max_count: int, max_bytes: int
) -> list[list[T]]:
    """Every value, in order, in consecutive chunks within ``max_count`` and ``max_bytes``."""
    pending = deque(_Measured(value, size_of(value)) for value in values)
    chunks: list[list[T]] = []
    while pending:
        chunk = take_chunk(pending, max_count, max_bytes)
        chunks.append([measured.value for measured in chunk])
    return chunks
