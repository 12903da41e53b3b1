"""What a query decides, as programs: the half :class:`~tctf_dynamo.sync.query.Query` and
:class:`~tctf_dynamo.aio.AsyncQuery` share.

``sessions.query(user_id="u1").between({"created_at": a}, {"created_at": b}).reverse()``
builds the key condition from the entity's templates: the partition fields give the
partition key, sort-key bounds are given by template *fields*, never by raw key text.
Each builder method returns a new query of the same kind (sync or async). Nothing is
sent until the query is iterated (items stream lazily, one page in memory at a time),
paged with an encrypted cursor, counted, or asked for its first item; each of those
runs a program of this module, so both APIs read, cut, decode and page alike.

Only the entity's own items come back (a filter on the discriminator attribute guards
index queries and overlapping ranges) unless ``collection()`` asks for every entity
type in the partition, each decoded as its own class. An item its entity cannot read
raises INVALID_ITEM naming its table and key, unless ``on_invalid()`` chooses to skip it
or return it raw (see :mod:`tctf_dynamo.model.reading`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import attrs

from tctf_dynamo import limits
from tctf_dynamo.core import requests
from tctf_dynamo.core.writes import entity_attributes
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.expressions import (
    Condition,
    KeyCondition,
    Projection,
    attr,
    check_condition,
    check_projection,
    key,
)
from tctf_dynamo.expressions.key_conditions import KeyPredicate
from tctf_dynamo.model import GSI, Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid, check_on_invalid, read_page
from tctf_dynamo.pagination import query_fingerprint
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.validation import validate_count
from tctf_dynamo.wire.codec import decode_item

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore

__all__ = ["DEFAULT_PAGE_SIZE", "HIGHEST", "Page", "QueryCore", "Walk"]

HIGHEST = "\U0010ffff"
"""Sorts after every character DynamoDB compares: closes a range over a key prefix."""
DEFAULT_PAGE_SIZE = 100

R = TypeVar("R")
S = TypeVar("S", bound="ServiceCore")


@attrs.frozen(slots=True)
class Page(Generic[R]):
    """One page of results; pass ``cursor`` to ``Query.page`` for the next one.

    ``unknown`` holds the primary keys of items whose type no registered entity claims
    (only collections can meet them): reported, never silently dropped. ``invalid``
    holds the items left out by ``on_invalid("skip")``: their entity could not read them.
    """

    items: list[R]
    cursor: str | None
    unknown: list[dict[str, Any]] = attrs.field(factory=list)
    invalid: list[InvalidItem] = attrs.field(factory=list)


@attrs.define(slots=True)
class Walk(Generic[R]):
    """Where one iteration is: the next page's start, the items still wanted, whether
    it is over. Both APIs iterate by running :meth:`QueryCore.step_program` on one walk
    until it returns None, and cut parallel pages with :meth:`take`."""

    remaining: int | None
    start: dict[str, Any] | None = None
    done: bool = False

    def take(self, items: Sequence[R]) -> Sequence[R]:
        """The part of ``items`` still wanted (all without a limit); ends a full walk."""
        if self.remaining is None:
            return items
        items = items[: self.remaining]
        self.remaining -= len(items)
        if self.remaining <= 0:
            self.done = True
        return items


@attrs.frozen(slots=True)
class _Bounds:
    predicate_of: Callable[[str], KeyPredicate]


@attrs.frozen(slots=True)
class QueryCore(Generic[R, S]):
    """A query of ``entity`` items in one partition; see the module docstring.

    The shells add the I/O methods (iteration, ``page``, ``count``, ``first``, ``all``)
    and the builders whose item type changes (``project``, ``collection``,
    ``on_invalid``), each delegating to this class.
    """

    entity: type[Entity]
    service: S
    partition: Mapping[str, Any]
    index_name: str | None = None
    sort: _Bounds | None = None
    filter_condition: Condition | None = None
    projection: Projection | None = None
    forward: bool = True
    max_items: int | None = None
    consistent_read: bool = False
    whole_collection: bool = False
    scan_mode: bool = False
    segments: int = 1
    invalid_items: OnInvalid = "raise"

    # ---------------------------------------------------------------- sort key bounds

    def begins(self, **leading_fields: Any) -> Self:
        """Items whose sort key starts with the given leading template fields (all of
        them given: the one item whose sort key they make)."""
        bound, complete = self._sk_bound(leading_fields)
        if complete:
            return self._with_sort(lambda name: key(name) == bound)
        return self._with_sort(lambda name: key(name).begins_with(bound))

    def eq(self, **fields: Any) -> Self:
        """The item whose sort key is exactly the one the fields give (all of them)."""
        value, complete = self._sk_bound(fields)
        if not complete:
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                "eq() needs every sort-key field; use begins() for leading fields",
                {"given": sorted(fields)},
            )
        return self._with_sort(lambda name: key(name) == value)

    def between(self, low: Mapping[str, Any], high: Mapping[str, Any]) -> Self:
        """Items whose sort-key fields lie between ``low`` and ``high``, both inclusive."""
        start = self._sk_bound(low)[0]
        end = self._upper(high)
        return self._with_sort(lambda name: key(name).between(start, end))

    def gt(self, **fields: Any) -> Self:
        after = self._upper(fields)
        return self._with_sort(lambda name: key(name) > after)

    def gte(self, **fields: Any) -> Self:
        start = self._sk_bound(fields)[0]
        return self._with_sort(lambda name: key(name) >= start)

    def lt(self, **fields: Any) -> Self:
        before = self._sk_bound(fields)[0]
        return self._with_sort(lambda name: key(name) < before)

    def lte(self, **fields: Any) -> Self:
        end = self._upper(fields)
        return self._with_sort(lambda name: key(name) <= end)

    # ---------------------------------------------------------------- modifiers

    def filter(self, condition: Condition) -> Self:
        """Keep items matching ``condition`` (applied by DynamoDB after reading a page)."""
        check_condition(condition, self.entity, entity_attributes(self.entity))
        combined = condition if self.filter_condition is None else self.filter_condition & condition
        return attrs.evolve(self, filter_condition=combined)

    def reverse(self) -> Self:
        """Descending sort-key order."""
        return attrs.evolve(self, forward=not self.forward)

    def limit(self, count: int) -> Self:
        """Return at most ``count`` items in all (across pages)."""
        return attrs.evolve(self, max_items=validate_count(count, "limit"))

    def consistent(self) -> Self:
        """Strongly consistent reads (not available on global secondary indexes)."""
        if self.index_name is not None:
            table = self.entity.__entity_meta__.table  # type: ignore[union-attr]
            if isinstance(table.index(self.index_name), GSI):
                raise error_for(
                    ErrorCode.INVALID_EXPRESSION,
                    "global secondary indexes offer only eventually consistent reads",
                    {"index": self.index_name},
                )
        return attrs.evolve(self, consistent_read=True)

    def parallel(self, segments: int) -> Self:
        """Split a scan into ``segments`` read in parallel (scans only)."""
        if not self.scan_mode:
            raise error_for(ErrorCode.INVALID_EXPRESSION, "parallel segments apply to scans")
        limit = limits.MAX_PARALLEL_SCAN_SEGMENTS
        return attrs.evolve(self, segments=validate_count(segments, "segments", limit=limit))

    def _projected(self, fields: tuple[str, ...]) -> Self:
        projection = Projection(*fields)
        check_projection(projection, self.entity, entity_attributes(self.entity))
        return attrs.evolve(self, projection=projection)

    def _with_invalid(self, policy: OnInvalid) -> Self:
        return attrs.evolve(self, invalid_items=check_on_invalid(policy))

    def _whole_collection(self) -> Self:
        return attrs.evolve(self, whole_collection=True, sort=None)

    # ---------------------------------------------------------------- programs

    def walk(self) -> Walk[R]:
        """A new iteration of this query (see :meth:`step_program`)."""
        return Walk(self.max_items)

    def step_program(self, walk: Walk[R]) -> Program[Sequence[R] | None]:
        """The next page's items of ``walk`` (cut to the limit), or None once it is over."""
        if walk.done:
            return None
        size = self._read_size(walk.remaining)
        response = yield from self._send_program(self._request(limit=size, start=walk.start))
        items = walk.take(self._decode(response)[0])
        walk.start = response.get("LastEvaluatedKey")
        if not walk.start:
            walk.done = True
        return items

    def segment_page_program(
        self, segment: int, start: dict[str, Any] | None
    ) -> Program[tuple[list[R], dict[str, Any] | None]]:
        """One page of one segment of a parallel scan, and where the segment goes on."""
        request = self._request(start=start, segment=(segment, self.segments))
        response = yield from self._send_program(request)
        return self._decode(response)[0], response.get("LastEvaluatedKey")

    def count_program(self) -> Program[int]:
        """How many items match, counted by DynamoDB without returning them."""
        total, start = 0, None
        while True:
            response = yield from self._send_program(self._request(start=start, count_only=True))
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if self.max_items is not None and total >= self.max_items:
                return self.max_items
            if not start:
                return total

    def page_program(self, cursor: str | None, size: int) -> Program[Page[R]]:
        """Up to ``size`` items and an encrypted cursor for the next page (None at the end).

        The cursor is bound to this query: using it with another query, index or table
        raises INVALID_PAGINATION_TOKEN. Page size may change between pages.
        """
        size = validate_count(size, "page size")
        if self.max_items is not None:
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                "limit() bounds iteration; pages are bounded by page(size=...) instead",
            )
        codec = self.service.cursors
        identity = self._request()
        fingerprint = query_fingerprint(identity)
        index = self.index_name
        start = None
        if cursor is not None:
            start = codec.decode(cursor, table=identity["TableName"], index=index,
                                 fingerprint=fingerprint)  # fmt: skip
        items: list[R] = []
        unknown: list[dict[str, Any]] = []
        invalid: list[InvalidItem] = []
        while len(items) < size:
            request = self._request(limit=size - len(items), start=start)
            response = yield from self._send_program(request)
            decoded, strangers, skipped = self._decode(response)
            items.extend(decoded)
            unknown.extend(strangers)
            invalid.extend(skipped)
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        next_cursor = None
        if start:
            next_cursor = codec.encode(start, table=identity["TableName"], index=index,
                                       fingerprint=fingerprint)  # fmt: skip
        return Page(items, next_cursor, unknown, invalid)

    # ---------------------------------------------------------------- internals

    def _read_size(self, remaining: int | None) -> int:
        """Items to read per request while iterating.

        Without a filter of the caller's, each item read is (almost always) an item
        returned, so reading exactly what is still wanted costs nothing extra. With one,
        ``Limit`` counts items *read*, so asking for the few still wanted would cost a
        round trip per filtered-out item: read whole pages and cut locally instead.
        """
        if remaining is None or self.filter_condition is not None:
            return DEFAULT_PAGE_SIZE
        return min(remaining, DEFAULT_PAGE_SIZE)

    def _with_sort(self, predicate_of: Callable[[str], KeyPredicate]) -> Self:
        if self.scan_mode:
            raise error_for(ErrorCode.INVALID_EXPRESSION, "sort-key bounds apply to queries")
        return attrs.evolve(self, sort=_Bounds(predicate_of))

    def _sk_prefix(self, fields: Mapping[str, Any]) -> str:
        if self.index_name is None:
            return self.entity.sk_prefix(**fields)
        return self.entity.index_sk_prefix(self.index_name, **fields)

    def _sk_bound(self, fields: Mapping[str, Any]) -> tuple[str, bool]:
        """The sort-key text the fields give, and whether they are all its fields.

        With every field given the text is the exact key value. With leading fields
        only it is a prefix ending in the ``#`` after the last one (a ``#`` never occurs
        inside an escaped value), so every longer key with those fields sorts after it.
        """
        meta = self.entity.__entity_meta__
        templates = meta.primary if self.index_name is None else meta.indexes[self.index_name]  # type: ignore[union-attr]
        names = templates.sk.fields if templates.sk is not None else ()
        prefix = self._sk_prefix(fields)
        if not set(names) <= set(fields):
            return prefix, False
        # every field given, but a ``date`` for a datetime field still names a whole day:
        # the bound is exact only when it is the key those values make
        try:
            if self.index_name is None:
                exact = self.entity.sk_value(**fields)
            else:
                exact = self.entity.index_sk_value(self.index_name, **fields)
        except DynamoDBServiceError:  # the values name a range (a day), not one key
            return prefix, False
        return prefix, exact == prefix

    def _upper(self, fields: Mapping[str, Any]) -> str:
        """The highest sort key the fields allow: exact, or the prefix's whole range."""
        bound, complete = self._sk_bound(fields)
        return bound if complete else bound + HIGHEST

    def _key_attributes(self) -> tuple[str, str | None]:
        table = self.entity.__entity_meta__.table  # type: ignore[union-attr]
        if self.index_name is None:
            return table.pk, table.sk
        schema = table.index_key_schema(self.index_name)
        return schema[0].name, schema[1].name if len(schema) > 1 else None

    def _key_condition(self) -> KeyCondition:
        pk_name, sk_name = self._key_attributes()
        if self.index_name is None:
            pk_value = self.entity.pk_value(**self.partition)
        else:
            pk_value = self.entity.index_pk_value(self.index_name, **self.partition)
        partition = key(pk_name) == pk_value
        if sk_name is None or self.whole_collection:
            return KeyCondition(partition=partition)
        if self.sort is not None:
            return KeyCondition(partition=partition, sort=self.sort.predicate_of(sk_name))
        static = self._sk_prefix({})
        sort = key(sk_name).begins_with(static) if static else None
        return KeyCondition(partition=partition, sort=sort)

    def _filter(self) -> Condition | None:
        if self.whole_collection:
            return self.filter_condition
        table = self.entity.__entity_meta__.table  # type: ignore[union-attr]
        name = self.entity.__entity_meta__.name  # type: ignore[union-attr]
        own = attr(table.type_attribute) == name
        return own if self.filter_condition is None else own & self.filter_condition

    def _request(
        self,
        *,
        limit: int | None = None,
        start: Mapping[str, Any] | None = None,
        count_only: bool = False,
        segment: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        table = self.entity.__entity_meta__.table  # type: ignore[union-attr]
        return requests.read_request(
            table.name,
            key_condition=None if self.scan_mode else self._key_condition(),
            index=self.index_name,
            filter=self._filter(),
            projection=self.projection,
            limit=limit,
            exclusive_start_key=start,
            forward=self.forward,
            consistent=self.consistent_read,
            count_only=count_only,
            segment=segment,
            key_names=[name for name in self._key_attributes() if name is not None],
        )

    def _send_program(self, request: dict[str, Any]) -> Program[dict[str, Any]]:
        operation = "Scan" if self.scan_mode else "Query"
        with scope(f"{operation}.page", entity=self.entity.__name__):
            return (yield from self.service.execute_program(operation, request))

    def _decode(
        self, response: Mapping[str, Any]
    ) -> tuple[list[R], list[dict[str, Any]], list[InvalidItem]]:
        """The page's items, the keys of items of unknown types, the items skipped."""
        wire_items = response.get("Items", [])
        if self.projection is not None:
            return [decode_item(item) for item in wire_items], [], []  # type: ignore[misc]
        found = read_page(self.entity, wire_items, self.invalid_items, self.whole_collection)
        return found  # type: ignore[return-value]
