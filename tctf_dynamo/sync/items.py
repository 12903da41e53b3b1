"""The plain-item half of DynamoDBService, blocking: ordinary Python values in and out.

What each method checks, builds, sends and returns is its program on
:class:`~tctf_dynamo.core.items.PlainItemCore` (shared with the async service); the
methods here run those programs with the service's blocking driver. Nothing here talks
to a provider directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from tctf_dynamo.core.items import PlainItemCore, ReadResult, update_idempotency
from tctf_dynamo.core.service_core import TableRef, table_name_of
from tctf_dynamo.effects.program import Program
from tctf_dynamo.expressions import Condition, KeyCondition, Projection, Update
from tctf_dynamo.wire.codec import decode_item, encode_item

__all__ = [
    "PlainItemOperations",
    "ReadResult",
    "TableRef",
    "table_name_of",
    "update_idempotency",
]

T = TypeVar("T")


class PlainItemOperations(PlainItemCore):
    """get/put/update/delete/query/scan/transact_get on plain dicts; mixed into the service."""

    def run_program(self, program: Program[T]) -> T:
        """Run a program to its end with the shell's blocking driver."""
        raise NotImplementedError

    def get_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> dict[str, Any] | None:
        """The item with ``key`` (plain values), or None when there is none."""
        return self.run_program(
            self.get_item_program(table, key, consistent=consistent, projection=projection)
        )

    def put_item(
        self,
        table: TableRef,
        item: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Write ``item`` whole; with ``return_old`` the item it replaced, if any."""
        return self.run_program(
            self.put_item_program(table, item, condition=condition, return_old=return_old)
        )

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
        program = self.update_item_program(
            table,
            key,
            update,
            set=set,
            add=add,
            remove=remove,
            delete=delete,
            condition=condition,
            return_values=return_values,
        )
        return self.run_program(program)

    def delete_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Delete the item with ``key``; with ``return_old`` the item deleted, if any."""
        return self.run_program(
            self.delete_item_program(table, key, condition=condition, return_old=return_old)
        )

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
        program = self.query_program(
            table,
            key_condition,
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            forward=forward,
            consistent=consistent,
        )
        return self.run_program(program)

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
        program = self.scan_program(
            table,
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            consistent=consistent,
            segment=segment,
        )
        return self.run_program(program)

    def transact_get(
        self,
        gets: Sequence[tuple[TableRef, Mapping[str, Any]]],
        *,
        projection: Projection | None = None,
    ) -> list[dict[str, Any] | None]:
        """Read up to 100 items consistently in one TransactGetItems, in the order given."""
        return self.run_program(self.transact_get_program(gets, projection=projection))

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
