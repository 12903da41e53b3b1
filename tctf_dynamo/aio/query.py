"""AsyncQuery: the query, awaited.

The async twin of :class:`~tctf_dynamo.sync.query.Query`: the same builder methods (shared,
synchronous, each returning a new AsyncQuery), and the I/O methods awaited:
``async for item in query``, ``await query.page(...)``, ``await query.count()``,
``await query.first()``, ``await query.all()``. Each runs the program of
:class:`~tctf_dynamo.core.query_core.QueryCore` the sync query runs; parallel scan
segments are read by asyncio tasks, at most ``service.max_workers`` at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

import attrs

from tctf_dynamo.aio.scanning import parallel_pages
from tctf_dynamo.core.query_core import DEFAULT_PAGE_SIZE, Page, QueryCore
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid

if TYPE_CHECKING:
    from tctf_dynamo.aio.service import AsyncDynamoDBService  # noqa: F401 - the base class names it

__all__ = ["AsyncQuery"]

R = TypeVar("R")


@attrs.frozen(slots=True)
class AsyncQuery(QueryCore[R, "AsyncDynamoDBService"]):
    """A query of ``entity`` items in one partition, read by awaiting; see
    :class:`~tctf_dynamo.sync.query.Query`."""

    def project(self, *fields: str) -> AsyncQuery[dict[str, Any]]:
        """Read only ``fields``; items come back as plain dicts, not validated entities."""
        return cast("AsyncQuery[dict[str, Any]]", self._projected(fields))

    @overload
    def on_invalid(self, policy: Literal["raw"]) -> AsyncQuery[R | InvalidItem]: ...

    @overload
    def on_invalid(self, policy: Literal["raise", "skip"]) -> AsyncQuery[R]: ...

    def on_invalid(self, policy: OnInvalid) -> AsyncQuery[Any]:
        """What to do with an item its entity cannot read; see
        :meth:`tctf_dynamo.sync.query.Query.on_invalid`."""
        return self._with_invalid(policy)

    def collection(self) -> AsyncQuery[Entity]:
        """Every entity type in the partition, each decoded as its own class."""
        return cast("AsyncQuery[Entity]", self._whole_collection())

    # ---------------------------------------------------------------- execution

    async def __aiter__(self) -> AsyncGenerator[R, None]:
        """Stream every matching item, one page in memory at a time."""
        walk = self.walk()
        if self.segments > 1:
            pages = parallel_pages(self._read_segment, self.segments, self.service.max_workers)
            async with aclosing(pages):
                async for page in pages:
                    for item in walk.take(page):
                        yield item
                    if walk.done:
                        return
            return
        while (items := await self.service.run_program(self.step_program(walk))) is not None:
            for item in items:
                yield item

    async def first(self) -> R | None:
        """The first matching item, or None."""
        async with aclosing(self.limit(1).__aiter__()) as items:
            async for item in items:
                return item
        return None

    async def all(self) -> list[R]:
        """Every matching item as a list (for small results; iterate for large ones)."""
        return [item async for item in self]

    async def count(self) -> int:
        """How many items match, counted by DynamoDB without returning them."""
        return await self.service.run_program(self.count_program())

    async def page(self, cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE) -> Page[R]:
        """Up to ``size`` items and an encrypted cursor for the next page (None at the end);
        see :meth:`tctf_dynamo.sync.query.Query.page`."""
        return await self.service.run_program(self.page_program(cursor, size))

    async def _read_segment(self, segment: int, start: Any) -> tuple[list[R], Any]:
        return await self.service.run_program(self.segment_page_program(segment, start))
