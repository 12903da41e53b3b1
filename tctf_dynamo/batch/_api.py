"""The batch functions: single requests within DynamoDB's limits, and bulk jobs of any size.

Wire functions take and return low-level items (``{"PK": {"S": "x"}}``), as repositories
and units of work hold them; the ``*_items`` variants take and return plain Python values.
See ``docs/batches.md`` for the rules (duplicates, retries, failures, progress).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._effect import RunJob
from tctf_dynamo.batch._engine import Progress, check_workers
from tctf_dynamo.batch._entries import (
    Duplicates,
    Entry,
    Identity,
    Lookups,
    WireItem,
    prepare_gets,
    prepare_writes,
)
from tctf_dynamo.batch._jobs import GetJob, WriteJob
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import Projection, build_request_parts
from tctf_dynamo.limits import MAX_BATCH_GET_KEYS, MAX_BATCH_WRITE_BYTES, MAX_BATCH_WRITE_ITEMS
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.validation import KeyAttribute, validate_batch_size
from tctf_dynamo.wire.codec import decode_item, encode_item

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = [
    "batch_get",
    "batch_write",
    "bulk_get",
    "bulk_get_items",
    "bulk_write",
    "bulk_write_items",
    "found_in_order",
    "get_plan",
    "write_arguments",
    "write_plan",
]

TableWire = tuple[str, WireItem]


# ---------------------------------------------------------------- single requests


def batch_get(
    service: DynamoDBService,
    table: str,
    keys: Sequence[WireItem],
    *,
    consistent: bool = False,
    projection: Projection | None = None,
    retry: RetryPolicy | None = None,
) -> list[WireItem | None]:
    """One BatchGetItem of up to 100 distinct keys; items in key order, None if missing.

    More than 100 keys is BATCH_SIZE_EXCEEDED and a key given twice is
    DUPLICATE_ITEM_IN_REQUEST, both before anything is sent. UnprocessedKeys are resent
    with backoff until done or the retry budget is spent (UNPROCESSED_ITEMS).
    """
    validate_batch_size(len(keys), MAX_BATCH_GET_KEYS, "BatchGetItem")
    return _get(
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


def batch_write(
    service: DynamoDBService,
    *,
    puts: Sequence[TableWire] = (),
    deletes: Sequence[TableWire] = (),
    retry: RetryPolicy | None = None,
) -> None:
    """One BatchWriteItem of up to 25 puts and deletes (16 MB in all), any tables.

    Over either limit is BATCH_SIZE_EXCEEDED and two writes to one key are
    DUPLICATE_ITEM_IN_REQUEST, both before anything is sent. UnprocessedItems are resent
    with backoff until done or the retry budget is spent (UNPROCESSED_ITEMS).
    """
    validate_batch_size(len(puts) + len(deletes), MAX_BATCH_WRITE_ITEMS, "BatchWriteItem")
    job, entries = write_plan(service, puts, deletes, duplicates="error", retry=retry)
    _run(service, job, entries, workers=1, retry=retry, on_progress=None)


# ---------------------------------------------------------------- bulk jobs


def bulk_get(
    service: DynamoDBService,
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
    """Any number of keys: the items in key order, None where there is none.

    Every key is validated before anything is sent; a key given more than once is read
    once and returned at each of its positions. Requests of up to 100 keys run on up to
    ``max_workers`` threads (default ``service.max_workers``). With ``projection`` the key
    attributes are always read too, to match items to keys. ``validate=False`` skips the
    per-key check for keys the caller has validated already.
    """
    workers = check_workers(max_workers, service.max_workers)
    return _get(
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


def bulk_write(
    service: DynamoDBService,
    *,
    puts: Iterable[TableWire] = (),
    deletes: Iterable[TableWire] = (),
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> None:
    """Any number of puts and deletes, in requests of up to 25 on ``max_workers`` threads.

    Every item and key is validated before anything is sent (``validate=False`` skips the
    per-item check for items the caller has validated already). Duplicates are removed:
    of several puts of one key the last wins; a key both put and deleted is
    DUPLICATE_ITEM_IN_REQUEST. Puts and deletes carry no order between them, and
    BatchWriteItem applies no order within a request.
    """
    workers = check_workers(max_workers, service.max_workers)
    job, entries = write_plan(
        service, puts, deletes, duplicates="merge", retry=retry, validate=validate
    )
    _run(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)


# ---------------------------------------------------------------- plain values


def bulk_get_items(
    service: DynamoDBService,
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
    found = bulk_get(
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


def bulk_write_items(
    service: DynamoDBService,
    table: str,
    *,
    puts: Iterable[Mapping[str, Any]] = (),
    deletes: Iterable[Mapping[str, Any]] = (),
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
) -> None:
    """:func:`bulk_write` to one table with items and keys as plain Python values."""
    bulk_write(
        service,
        puts=[(table, encode_item(item)) for item in puts],
        deletes=[(table, encode_item(key)) for key in deletes],
        max_workers=max_workers,
        on_progress=on_progress,
        retry=retry,
    )


def write_arguments(unprocessed: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """``puts``/``deletes`` for :func:`bulk_write` from an UnprocessedItemsError of a write.

    ``bulk_write(service, **write_arguments(error.unprocessed))`` sends what was not done;
    pass ``[*error.unprocessed, *error.unknown]`` to send the writes in doubt too (batch
    puts and deletes are unconditional, so sending one again is safe).
    """
    puts: list[TableWire] = []
    deletes: list[TableWire] = []
    for table, request in unprocessed:
        if "PutRequest" in request:
            puts.append((table, request["PutRequest"]["Item"]))
        else:
            deletes.append((table, request["DeleteRequest"]["Key"]))
    return {"puts": puts, "deletes": deletes}


# ---------------------------------------------------------------- shared


def _get(
    service: DynamoDBService,
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
    job, entries, positions = get_plan(
        service,
        table,
        keys,
        duplicates=duplicates,
        consistent=consistent,
        projection=projection,
        retry=retry,
        validate=validate,
    )
    _run(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
    return found_in_order(job, positions)


# ---------------------------------------------------------------- plans (both APIs)


def write_plan(
    service: ServiceCore,
    puts: Iterable[TableWire],
    deletes: Iterable[TableWire],
    *,
    duplicates: Duplicates,
    retry: RetryPolicy | None,
    validate: bool = True,
    lookups: Lookups | None = None,
) -> tuple[WriteJob, list[Entry]]:
    """The job and entries of a write; a single request (``duplicates="error"``) is also
    held to its 16 MB. Pure given ``lookups`` (the async API's come from
    ``checked_program``); the blocking service's own by default."""
    entries, identities = prepare_writes(
        service, puts, deletes, duplicates=duplicates, validate=validate, lookups=lookups
    )
    if duplicates == "error":
        total = sum(entry.size for entry in entries)
        if total > MAX_BATCH_WRITE_BYTES:
            raise error_for(
                ErrorCode.BATCH_SIZE_EXCEEDED,
                f"BatchWriteItem carries at most {MAX_BATCH_WRITE_BYTES} bytes; got {total}",
                {"size": total, "limit": MAX_BATCH_WRITE_BYTES, "operation": "BatchWriteItem"},
            )
    return WriteJob(service, identities, retry=retry), entries


def get_plan(
    service: ServiceCore,
    table: str,
    keys: Iterable[WireItem],
    *,
    duplicates: Duplicates,
    consistent: bool,
    projection: Projection | None,
    retry: RetryPolicy | None,
    validate: bool = True,
    lookups: Lookups | None = None,
) -> tuple[GetJob, list[Entry], list[Identity]]:
    """The job, entries and per-position identities of a read (see :func:`write_plan`)."""
    entries, positions, identity_of, schema = prepare_gets(
        service, table, keys, duplicates=duplicates, validate=validate, lookups=lookups
    )
    settings = _get_settings(consistent, projection, schema)
    return GetJob(service, table, identity_of, settings, retry=retry), entries, positions


def found_in_order(job: GetJob, positions: list[Identity]) -> list[WireItem | None]:
    """The items found by a read, one per position asked (None where there is none)."""
    found = job.found
    return [found.get(identity) for identity in positions]


def _get_settings(
    consistent: bool, projection: Projection | None, schema: Sequence[KeyAttribute]
) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if consistent:
        settings["ConsistentRead"] = True
    if projection is not None:
        with_keys = Projection(*projection.paths, *((attribute.name,) for attribute in schema))
        settings.update(build_request_parts(projection=with_keys))
    return settings


def _run(
    service: DynamoDBService,
    job: WriteJob | GetJob,
    entries: list[Entry],
    *,
    workers: int,
    retry: RetryPolicy | None,
    on_progress: Progress | None,
) -> None:
    with scope(f"bulk.{job.operation}", entries=len(entries)):
        service.perform(
            RunJob(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
        )
