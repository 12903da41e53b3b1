"""Immutable, fluent queries over one entity (or one item collection) of a table.

``sessions.query(user_id="u1").between({"created_at": a}, {"created_at": b}).reverse()``
builds the key condition from the entity's templates; each method returns a new query,
and nothing is sent until the query is iterated, paged, counted or asked for its first
item. What a query decides (key conditions, requests, decoding, limits, cursors) lives
in :class:`~tctf_dynamo.core.query_core.QueryCore` as programs; :class:`Query` runs them
blocking and :class:`~tctf_dynamo.aio.AsyncQuery` awaits them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

import attrs

from tctf_dynamo.core.query_core import DEFAULT_PAGE_SIZE, HIGHEST, Page, QueryCore
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid
from tctf_dynamo.sync.scanning import parallel_pages

if TYPE_CHECKING:
    from tctf_dynamo.sync.service import DynamoDBService  # noqa: F401 - the base class names it

__all__ = ["DEFAULT_PAGE_SIZE", "HIGHEST", "Page", "Query"]

R = TypeVar("R")


@attrs.frozen(slots=True)
class Query(QueryCore[R, "DynamoDBService"]):
    """A query of ``entity`` items in one partition; see the module docstring.

    Iterating streams every matching item, one page in memory at a time.
    """

    def project(self, *fields: str) -> Query[dict[str, Any]]:
        """Read only ``fields``; items come back as plain dicts, not validated entities."""
        return cast("Query[dict[str, Any]]", self._projected(fields))

    @overload
    def on_invalid(self, policy: Literal["raw"]) -> Query[R | InvalidItem]: ...

    @overload
    def on_invalid(self, policy: Literal["raise", "skip"]) -> Query[R]: ...

    def on_invalid(self, policy: OnInvalid) -> Query[Any]:
        """What to do with an item its entity cannot read: ``"raise"`` INVALID_ITEM (the
        default), ``"skip"`` it (listed in ``Page.invalid`` and logged), or return it
        ``"raw"`` as an :class:`InvalidItem` in the entity's place."""
        return self._with_invalid(policy)

    def collection(self) -> Query[Entity]:
        """Every entity type in the partition, each decoded as its own class."""
        return cast("Query[Entity]", self._whole_collection())

    # ---------------------------------------------------------------- execution

    def __iter__(self) -> Iterator[R]:
        """Stream every matching item, one page in memory at a time."""
        walk = self.walk()
        if self.segments > 1:
            for page in parallel_pages(self._read_segment, self.segments, self.service.max_workers):
                yield from walk.take(page)
                if walk.done:
                    return
            return
        while (items := self.service.run_program(self.step_program(walk))) is not None:
            yield from items

    def first(self) -> R | None:
        """The first matching item, or None."""
        return next(iter(self.limit(1)), None)

    def all(self) -> list[R]:
        """Every matching item as a list (for small results; iterate for large ones)."""
        return list(self)

    def count(self) -> int:
        """How many items match, counted by DynamoDB without returning them."""
        return self.service.run_program(self.count_program())

    def page(self, cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE) -> Page[R]:
        """Up to ``size`` items and an encrypted cursor for the next page (None at the end).

        The cursor is bound to this query: using it with another query, index or table
        raises INVALID_PAGINATION_TOKEN. Page size may change between pages.
        """
        return self.service.run_program(self.page_program(cursor, size))

    def _read_segment(self, segment: int, start: Any) -> tuple[list[R], Any]:
        return self.service.run_program(self.segment_page_program(segment, start))
