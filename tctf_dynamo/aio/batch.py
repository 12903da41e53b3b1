"""Batches and bulk jobs, awaited: the functions of :mod:`tctf_dynamo.batch` for an
:class:`~tctf_dynamo.aio.service.AsyncDynamoDBService`.

Same arguments, results, errors and per-entry outcomes as the blocking functions: both
plan with the same pure code (:func:`~tctf_dynamo.batch._api.write_plan`,
:func:`~tctf_dynamo.batch._api.get_plan`, table schemas looked up through
``checked_program``), and both send each request through the same chunk program. Here
up to ``max_workers`` requests are in flight as tasks of the caller's event loop instead
of threads. Cancelling a bulk job cancels its requests in flight; see
:mod:`tctf_dynamo.batch._tasks` for what it reports. See ``docs/batches.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._api import (
    TableWire,
    found_in_order,
    get_plan,
    write_plan,
)
from tctf_dynamo.batch._effect import RunJob
from tctf_dynamo.batch._engine import Progress, check_workers
from tctf_dynamo.batch._entries import Duplicates, Entry, WireItem
from tctf_dynamo.batch._jobs import GetJob, WriteJob
from tctf_dynamo.core.service_core import TableRef, table_name_of
from tctf_dynamo.expressions import Projection
from tctf_dynamo.limits import MAX_BATCH_GET_KEYS, MAX_BATCH_WRITE_ITEMS
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.validation import validate_batch_size
from tctf_dynamo.wire.codec import decode_item, encode_item

if TYPE_CHECKING:
    from tctf_dynamo.aio.service import AsyncDynamoDBService

__all__ = [
    "AsyncBatchOperations",
    "batch_get",
    "batch_write",
    "bulk_get",
    "bulk_get_items",
    "bulk_write",
    "bulk_write_items",
]


async def batch_get(
    service: AsyncDynamoDBService,
    table: str,
    keys: Sequence[WireItem],
    *,
    consistent: bool = False,
    projection: Projection | None = None,
    retry: RetryPolicy | None = None,
) -> list[WireItem | None]:
    """One BatchGetItem of up to 100 distinct keys (:func:`tctf_dynamo.batch.batch_get`)."""
    validate_batch_size(len(keys), MAX_BATCH_GET_KEYS, "BatchGetItem")
    return await _get(
        service,
        table,
        keys,
        duplicates="error",
        consistent=consistent,
        projection=projection,
        retry=retry,
        workers=1,
        on_progress=None,
    )


async def batch_write(
    service: AsyncDynamoDBService,
    *,
    puts: Sequence[TableWire] = (),
    deletes: Sequence[TableWire] = (),
    retry: RetryPolicy | None = None,
) -> None:
    """One BatchWriteItem of up to 25 puts and deletes (:func:`tctf_dynamo.batch.batch_write`)."""
    validate_batch_size(len(puts) + len(deletes), MAX_BATCH_WRITE_ITEMS, "BatchWriteItem")
    await _write(
        service,
        puts,
        deletes,
        duplicates="error",
        retry=retry,
        workers=1,
        on_progress=None,
        validate=True,
    )


async def bulk_get(
    service: AsyncDynamoDBService,
    table: str,
    keys: Iterable[WireItem],
    *,
    consistent: bool = False,
    projection: Projection | None = None,
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> list[WireItem | None]:
    """Any number of keys, up to ``max_workers`` requests in flight
    (:func:`tctf_dynamo.batch.bulk_get`)."""
    workers = check_workers(max_workers, service.max_workers)
    return await _get(
        service,
        table,
        keys,
        duplicates="merge",
        consistent=consistent,
        projection=projection,
        retry=retry,
        workers=workers,
        on_progress=on_progress,
        validate=validate,
    )


async def bulk_write(
    service: AsyncDynamoDBService,
    *,
    puts: Iterable[TableWire] = (),
    deletes: Iterable[TableWire] = (),
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> None:
    """Any number of puts and deletes, up to ``max_workers`` requests in flight
    (:func:`tctf_dynamo.batch.bulk_write`)."""
    workers = check_workers(max_workers, service.max_workers)
    await _write(
        service,
        puts,
        deletes,
        duplicates="merge",
        retry=retry,
        workers=workers,
        on_progress=on_progress,
        validate=validate,
    )


async def bulk_get_items(
    service: AsyncDynamoDBService,
    table: str,
    keys: Iterable[Mapping[str, Any]],
    *,
    consistent: bool = False,
    projection: Projection | None = None,
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
) -> list[dict[str, Any] | None]:
    """:func:`bulk_get` with keys and items as plain Python values."""
    found = await bulk_get(
        service,
        table,
        [encode_item(key) for key in keys],
        consistent=consistent,
        projection=projection,
        max_workers=max_workers,
        on_progress=on_progress,
        retry=retry,
    )
    return [decode_item(item) if item is not None else None for item in found]


async def bulk_write_items(
    service: AsyncDynamoDBService,
    table: str,
    *,
    puts: Iterable[Mapping[str, Any]] = (),
    deletes: Iterable[Mapping[str, Any]] = (),
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
) -> None:
    """:func:`bulk_write` to one table with items and keys as plain Python values."""
    await bulk_write(
        service,
        puts=[(table, encode_item(item)) for item in puts],
        deletes=[(table, encode_item(key)) for key in deletes],
        max_workers=max_workers,
        on_progress=on_progress,
        retry=retry,
    )


class AsyncBatchOperations:
    """The batch methods of :class:`~tctf_dynamo.aio.service.AsyncDynamoDBService`,
    twins of those of :class:`~tctf_dynamo.sync.items.PlainItemOperations`."""

    async def batch_get(
        self,
        table: TableRef,
        keys: Sequence[Mapping[str, Any]],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> list[dict[str, Any] | None]:
        """One BatchGetItem of at most 100 keys (plain values), in key order."""
        found = await batch_get(
            self,  # type: ignore[arg-type]
            table_name_of(table),
            [encode_item(key) for key in keys],
            consistent=consistent,
            projection=projection,
        )
        return [decode_item(item) if item is not None else None for item in found]

    async def batch_write(
        self,
        table: TableRef,
        *,
        puts: Sequence[Mapping[str, Any]] = (),
        deletes: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """One BatchWriteItem of at most 25 puts and deletes (plain values)."""
        name = table_name_of(table)
        await batch_write(
            self,  # type: ignore[arg-type]
            puts=[(name, encode_item(item)) for item in puts],
            deletes=[(name, encode_item(key)) for key in deletes],
        )

    async def bulk_get_items(
        self, table: TableRef, keys: Iterable[Mapping[str, Any]], **options: Any
    ) -> list[dict[str, Any] | None]:
        """Any number of items by key (plain values), in key order, None where missing."""
        return await bulk_get_items(self, table_name_of(table), keys, **options)  # type: ignore[arg-type]

    async def bulk_write_items(
        self,
        table: TableRef,
        *,
        puts: Iterable[Mapping[str, Any]] = (),
        deletes: Iterable[Mapping[str, Any]] = (),
        **options: Any,
    ) -> None:
        """Any number of puts and deletes (plain values) in parallel, retried batches."""
        await bulk_write_items(self, table_name_of(table), puts=puts, deletes=deletes, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------- shared


async def _write(
    service: AsyncDynamoDBService,
    puts: Iterable[TableWire],
    deletes: Iterable[TableWire],
    *,
    duplicates: Duplicates,
    retry: RetryPolicy | None,
    workers: int,
    on_progress: Progress | None,
    validate: bool,
) -> None:
    # a pure check may run again once a table is described: it needs lists, not iterators
    put_list, delete_list = list(puts), list(deletes)
    job, entries = await service.run_program(
        service.checked_program(
            lambda key_schema, index_schemas: write_plan(
                service,
                put_list,
                delete_list,
                duplicates=duplicates,
                retry=retry,
                validate=validate,
                lookups=(key_schema, index_schemas),
            )
        )
    )
    await _run(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)


async def _get(
    service: AsyncDynamoDBService,
    table: str,
    keys: Iterable[WireItem],
    *,
    duplicates: Duplicates,
    consistent: bool,
    projection: Projection | None,
    retry: RetryPolicy | None,
    workers: int,
    on_progress: Progress | None,
    validate: bool = True,
) -> list[WireItem | None]:
    key_list = list(keys)
    job, entries, positions = await service.run_program(
        service.checked_program(
            lambda key_schema, index_schemas: get_plan(
                service,
                table,
                key_list,
                duplicates=duplicates,
                consistent=consistent,
                projection=projection,
                retry=retry,
                validate=validate,
                lookups=(key_schema, index_schemas),
            )
        )
    )
    await _run(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
    return found_in_order(job, positions)


async def _run(
    service: AsyncDynamoDBService,
    job: WriteJob | GetJob,
    entries: list[Entry],
    *,
    workers: int,
    retry: RetryPolicy | None,
    on_progress: Progress | None,
) -> None:
    with scope(f"bulk.{job.operation}", entries=len(entries)):
        await service.perform(
            RunJob(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
        )
