"""The plain-item half of DynamoDBService: ordinary Python values in and out.

Each method encodes with the codec, builds a validated request with
:mod:`tctf_dynamo.requests` and sends it through the service's pipeline
(:meth:`DynamoDBService.execute`); nothing here talks to a provider directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Concatenate, ParamSpec, TypeVar

import attrs

from tctf_dynamo import requests
from tctf_dynamo.codec import decode_item, encode_item
from tctf_dynamo.core.service_core import TableRef, table_name_of
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import Condition, KeyCondition, Projection, Update
from tctf_dynamo.outcomes import Idempotency
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.transactions import check_transaction_actions
from tctf_dynamo.update_rules import non_idempotent
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    UnsafeValuePolicy,
    check_unsafe_values,
)

__all__ = ["PlainItemOperations", "ReadResult", "TableRef", "table_name_of"]


@attrs.frozen(slots=True)
class ReadResult:
    """One page of a Query or Scan, items decoded to plain Python values."""

    items: list[dict[str, Any]]
    last_evaluated_key: dict[str, Any] | None
    count: int
    scanned_count: int


_S = TypeVar("_S", bound="PlainItemOperations")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_deadline(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Run ``method`` as one operation: describing a table given by name (once per
    service) and the call that needed it end by the same deadline."""

    @functools.wraps(method)
    def bounded(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.operation():
            return method(self, *args, **kwargs)

    return bounded


class PlainItemOperations:
    """get/put/update/delete/query/scan/transact_get on plain dicts; mixed into the service."""

    unsafe_values: UnsafeValuePolicy

    def execute(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        idempotency: Idempotency | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def key_schema(self, table: TableRef) -> list[KeyAttribute]:
        raise NotImplementedError

    def index_schemas(self, table: TableRef) -> IndexSchemas:
        raise NotImplementedError

    def operation(self, *, timeout: float | None = None) -> AbstractContextManager[object]:
        raise NotImplementedError

    @_one_deadline
    def get_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> dict[str, Any] | None:
        """The item with ``key`` (plain values), or None when there is none."""
        request = requests.get_request(
            table_name_of(table),
            encode_item(key),
            self.key_schema(table),
            consistent=consistent,
            projection=projection,
        )
        item = self.execute("GetItem", request).get("Item")
        return decode_item(item) if item is not None else None

    @_one_deadline
    def put_item(
        self,
        table: TableRef,
        item: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Write ``item`` whole; with ``return_old`` the item it replaced, if any."""
        request, _ = requests.put_request(
            table_name_of(table),
            encode_item(item),
            self.key_schema(table),
            condition=condition,
            policy=self.unsafe_values,
            return_old=return_old,
            indexes=self.index_schemas(table),
        )
        old = self.execute("PutItem", request).get("Attributes")
        return decode_item(old) if old else None

    @_one_deadline
    def update_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        update: Update | None = None,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        delete: Mapping[str, Any] | None = None,
        condition: Condition | None = None,
        return_values: str = "ALL_NEW",
    ) -> dict[str, Any] | None:
        """Apply an update to the item with ``key``; returns ``return_values`` of it.

        Give an :class:`Update`, or its parts as ``set``/``add``/``remove``/``delete``.
        """
        if set:
            check_unsafe_values(set, self.unsafe_values)
        parts = Update.from_parts(set=set, add=add, remove=remove, delete=delete)
        update = update.merge(parts) if update is not None else parts
        request = requests.update_request(
            table_name_of(table),
            encode_item(key),
            self.key_schema(table),
            update,
            condition=condition,
            return_values=return_values,
            indexes=self.index_schemas(table),
        )
        kind = update_idempotency(update, condition)
        attributes = self.execute("UpdateItem", request, idempotency=kind).get("Attributes")
        return decode_item(attributes) if attributes else None

    @_one_deadline
    def delete_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Delete the item with ``key``; with ``return_old`` the item deleted, if any."""
        request = requests.delete_request(
            table_name_of(table),
            encode_item(key),
            self.key_schema(table),
            condition=condition,
            return_old=return_old,
        )
        old = self.execute("DeleteItem", request).get("Attributes")
        return decode_item(old) if old else None

    @_one_deadline
    def query(
        self,
        table: TableRef,
        key_condition: KeyCondition,
        *,
        index: str | None = None,
        filter: Condition | None = None,
        projection: Projection | None = None,
        limit: int | None = None,
        exclusive_start_key: Mapping[str, Any] | None = None,
        forward: bool = True,
        consistent: bool = False,
    ) -> ReadResult:
        """One page of a Query; follow ``last_evaluated_key`` for the next."""
        keys = self.key_schema(table) if index is None else self._index_schema(table, index)
        request = requests.read_request(
            table_name_of(table),
            key_names=[attribute.name for attribute in keys],
            key_condition=key_condition,
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            forward=forward,
            consistent=consistent,
        )
        return _read_result(self.execute("Query", request))

    def _index_schema(self, table: TableRef, index: str) -> Sequence[KeyAttribute]:
        schema = self.index_schemas(table).get(index)
        if schema is None:
            raise error_for(
                ErrorCode.INVALID_INDEX_NAME,
                "the table has no index of that name",
                {"table": table_name_of(table), "index": index},
            )
        return schema

    @_one_deadline
    def scan(
        self,
        table: TableRef,
        *,
        index: str | None = None,
        filter: Condition | None = None,
        projection: Projection | None = None,
        limit: int | None = None,
        exclusive_start_key: Mapping[str, Any] | None = None,
        consistent: bool = False,
        segment: tuple[int, int] | None = None,
    ) -> ReadResult:
        """One page of a Scan (optionally one ``(segment, total_segments)`` of a parallel scan)."""
        request = requests.read_request(
            table_name_of(table),
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            consistent=consistent,
            segment=segment,
        )
        return _read_result(self.execute("Scan", request))

    @_one_deadline
    def transact_get(
        self,
        gets: Sequence[tuple[TableRef, Mapping[str, Any]]],
        *,
        projection: Projection | None = None,
    ) -> list[dict[str, Any] | None]:
        """Read up to 100 items consistently in one TransactGetItems, in the order given."""
        actions = []
        for table, key in gets:
            get = requests.get_request(
                table_name_of(table),
                encode_item(key),
                self.key_schema(table),
                projection=projection,
            )
            actions.append({"Get": get})
        check_transaction_actions(actions, self.key_schema)
        response = self.execute("TransactGetItems", {"TransactItems": actions})
        return [
            decode_item(entry["Item"]) if entry.get("Item") else None
            for entry in response.get("Responses", [{} for _ in actions])
        ]

    # batches --------------------------------------------------------------------------

    def batch_get(
        self,
        table: TableRef,
        keys: Sequence[Mapping[str, Any]],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> list[dict[str, Any] | None]:
        """One BatchGetItem of at most 100 keys (plain values), in key order.

        Unprocessed keys are retried with backoff; more than 100 keys is
        BATCH_SIZE_EXCEEDED (use :meth:`bulk_get_items` for any number).
        """
        from tctf_dynamo.batch import batch_get

        wire_keys = [encode_item(key) for key in keys]
        found = batch_get(
            self,  # type: ignore[arg-type]
            table_name_of(table),
            wire_keys,
            consistent=consistent,
            projection=projection,
        )
        return [decode_item(item) if item is not None else None for item in found]

    def batch_write(
        self,
        table: TableRef,
        *,
        puts: Sequence[Mapping[str, Any]] = (),
        deletes: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """One BatchWriteItem of at most 25 puts and deletes (plain values).

        Unprocessed items are retried with backoff; more than 25 is BATCH_SIZE_EXCEEDED
        (use :meth:`bulk_write_items` for any number).
        """
        from tctf_dynamo.batch import batch_write

        name = table_name_of(table)
        batch_write(
            self,  # type: ignore[arg-type]
            puts=[(name, encode_item(item)) for item in puts],
            deletes=[(name, encode_item(key)) for key in deletes],
        )

    def bulk_get_items(
        self, table: TableRef, keys: Iterable[Mapping[str, Any]], **options: Any
    ) -> list[dict[str, Any] | None]:
        """Any number of items by key (plain values), in key order, None where missing.

        Options as :func:`tctf_dynamo.batch.bulk_get_items` (``max_workers``,
        ``on_progress``, ``consistent``, ...); see docs/batches.md.
        """
        from tctf_dynamo.batch import bulk_get_items

        return bulk_get_items(self, table_name_of(table), keys, **options)  # type: ignore[arg-type]

    def bulk_write_items(
        self,
        table: TableRef,
        *,
        puts: Iterable[Mapping[str, Any]] = (),
        deletes: Iterable[Mapping[str, Any]] = (),
        **options: Any,
    ) -> None:
        """Any number of puts and deletes (plain values) in parallel, retried batches."""
        from tctf_dynamo.batch import bulk_write_items

        bulk_write_items(self, table_name_of(table), puts=puts, deletes=deletes, **options)  # type: ignore[arg-type]


def update_idempotency(update: Update, condition: Condition | None) -> Idempotency:
    """What keeps a plain update from applying twice when it is resent."""
    if non_idempotent(update):
        return Idempotency.NOT_IDEMPOTENT
    return Idempotency.BY_CONDITION if condition is not None else Idempotency.NATURAL


def _read_result(response: Mapping[str, Any]) -> ReadResult:
    items = [decode_item(item) for item in response.get("Items", [])]
    return ReadResult(
        items=items,
        last_evaluated_key=response.get("LastEvaluatedKey"),
        count=response.get("Count", len(items)),
        scanned_count=response.get("ScannedCount", len(items)),
    )
