"""Streamed bulk jobs, awaited: what an async repository's batches run on.

The twins of :func:`tctf_dynamo.batch._streams.stream_writes` and
:func:`~tctf_dynamo.batch._streams.stream_gets`: the same lazily planned entries and jobs
(:func:`~tctf_dynamo.batch._streams.write_stream`,
:func:`~tctf_dynamo.batch._streams.get_stream`), run by the async engine, so the first
request leaves once its items are encoded and encoding overlaps the round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._effect import RunJob
from tctf_dynamo.batch._engine import Progress, check_workers
from tctf_dynamo.batch._entries import WireItem
from tctf_dynamo.batch._streams import (
    Kind,
    decoded_in_order,
    get_stream,
    table_key_of,
    write_stream,
)
from tctf_dynamo.resilience import RetryPolicy

if TYPE_CHECKING:
    from tctf_dynamo.aio.service import AsyncDynamoDBService

__all__ = ["stream_gets", "stream_writes"]


async def stream_writes(
    service: AsyncDynamoDBService,
    table: str,
    items: Iterable[WireItem],
    *,
    kind: Kind = "put",
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> None:
    """Put (or delete, by key) every item of ``items`` on ``table``, planning as it sends."""
    workers = check_workers(max_workers, service.max_workers)
    key = table_key_of(table, await service.key_schema(table))
    job, entries = write_stream(
        service, table, key, items, kind=kind, retry=retry, validate=validate
    )
    effect = RunJob(
        service, job, entries, workers=workers, retry=retry, on_progress=on_progress, dedup=True
    )
    await service.perform(effect)


async def stream_gets(
    service: AsyncDynamoDBService,
    table: str,
    keys: Iterable[WireItem],
    decode: Callable[[WireItem], Any],
    *,
    consistent: bool = False,
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> list[Any]:
    """``decode(item)`` of the item at every key, in key order; None where there is none."""
    workers = check_workers(max_workers, service.max_workers)
    key = table_key_of(table, await service.key_schema(table))
    job, entries, positions = get_stream(
        service, table, key, keys, decode, consistent=consistent, retry=retry, validate=validate
    )
    await service.perform(
        RunJob(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
    )
    return decoded_in_order(job, positions)
