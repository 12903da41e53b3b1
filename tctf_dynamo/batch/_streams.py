"""Bulk jobs whose work is planned while it is sent: a repository's entity batches.

The caller hands over an *iterator* whose items are produced (encoded, keyed) as they are
pulled; the engine pulls only as far as the next request needs, or a bounded window ahead
while requests are in flight. So the first request leaves once its items exist, encoding
overlaps the round trips, and read results are decoded as each response arrives.

Rules are those of the list-based bulk functions (:mod:`tctf_dynamo.batch._api`), with
the differences a stream implies, documented in ``docs/batches.md``: an invalid item found
after sending began stops the job at that position (what came before it is still sent),
and duplicate writes are merged as the schedule describes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from tctf_dynamo.batch._effect import RunJob
from tctf_dynamo.batch._engine import Progress, check_workers
from tctf_dynamo.batch._entries import (
    Entry,
    Identity,
    IdentityOf,
    WireItem,
    identity_function,
    table_key,
)
from tctf_dynamo.batch._jobs import DecodeFailure, GetJob, WriteJob
from tctf_dynamo.limits import MAX_ITEM_SIZE_BYTES
from tctf_dynamo.providers.base import splices_parts
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.validation import KeyAttribute, key_validator, validate_item, validate_key

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = [
    "decoded_in_order",
    "get_stream",
    "stream_gets",
    "stream_writes",
    "table_key_of",
    "write_stream",
]

Kind = Literal["put", "delete"]


def stream_writes(
    service: DynamoDBService,
    table: str,
    items: Iterable[WireItem],
    *,
    kind: Kind = "put",
    max_workers: int | None = None,
    on_progress: Progress | None = None,
    retry: RetryPolicy | None = None,
    validate: bool = True,
) -> None:
    """Put (or delete, by key) every item of ``items`` on ``table``, planning as it sends.

    ``validate=False`` trusts items validated already (a repository's plans are).
    """
    workers = check_workers(max_workers, service.max_workers)
    key = table_key(service, table)
    job, entries = write_stream(
        service, table, key, items, kind=kind, retry=retry, validate=validate
    )
    effect = RunJob(
        service, job, entries, workers=workers, retry=retry, on_progress=on_progress, dedup=True
    )
    service.perform(effect)


def stream_gets(
    service: DynamoDBService,
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
    """``decode(item)`` of the item at every key, in key order; None where there is none.

    A key asked more than once is read once. Items are decoded as responses arrive; if
    ``decode`` refuses one, its error is raised (the first in key order) once the job ends.
    """
    workers = check_workers(max_workers, service.max_workers)
    key = table_key(service, table)
    job, entries, positions = get_stream(
        service, table, key, keys, decode, consistent=consistent, retry=retry, validate=validate
    )
    service.perform(
        RunJob(service, job, entries, workers=workers, retry=retry, on_progress=on_progress)
    )
    return decoded_in_order(job, positions)


# ---------------------------------------------------------------- plans (both APIs)

TableKey = tuple[list[KeyAttribute], IdentityOf]


def table_key_of(table: str, schema: list[KeyAttribute]) -> TableKey:
    """The key schema of ``table`` and the identity function of its items."""
    return schema, identity_function(table, schema)


def write_stream(
    service: ServiceCore,
    table: str,
    key: TableKey,
    items: Iterable[WireItem],
    *,
    kind: Kind,
    retry: RetryPolicy | None,
    validate: bool,
) -> tuple[WriteJob, Iterator[Entry]]:
    """The job and the lazily planned entries of a streamed write.

    When the service's provider writes requests as JSON itself, each put is encoded as
    it is planned (an :class:`~tctf_dynamo.providers.base.EncodedPart`): planning
    overlaps other requests' round trips, and a worker only splices the text in.
    """
    schema, identity_of = key
    policy = service.unsafe_values
    provider = service.pipeline.provider
    encode_part = provider.encode_part if splices_parts(provider) else None  # type: ignore[attr-defined]

    def entries() -> Iterator[Entry]:
        for index, item in enumerate(items):
            if kind == "put":
                size = validate_item(item, schema, policy) if validate else MAX_ITEM_SIZE_BYTES
                body: Any = {"PutRequest": {"Item": item}}
                if encode_part is not None:
                    body = encode_part(body)
            else:
                if validate:
                    validate_key(item, schema)
                size, body = MAX_ITEM_SIZE_BYTES, {"DeleteRequest": {"Key": item}}
            yield Entry(index, table, identity_of(item), body, size)

    return WriteJob(service, {table: identity_of}, retry=retry), entries()


def get_stream(
    service: ServiceCore,
    table: str,
    key: TableKey,
    keys: Iterable[WireItem],
    decode: Callable[[WireItem], Any],
    *,
    consistent: bool,
    retry: RetryPolicy | None,
    validate: bool,
) -> tuple[GetJob, Iterator[Entry], list[Identity]]:
    """The job, lazily planned entries and (filled as they are planned) the identity of
    every position of a streamed read."""
    schema, identity_of = key
    positions: list[Identity] = []

    def entries() -> Iterator[Entry]:
        seen: set[Identity] = set()
        check = key_validator(schema) if validate else None
        position = positions.append
        for index, wire_key in enumerate(keys):
            if check is not None:
                check(wire_key)
            identity = identity_of(wire_key)
            position(identity)
            if identity not in seen:
                seen.add(identity)
                yield Entry(index, table, identity, wire_key, 0)

    settings = {"ConsistentRead": True} if consistent else {}
    job = GetJob(service, table, identity_of, settings, retry=retry, decode=decode)
    return job, entries(), positions


def decoded_in_order(job: GetJob, positions: list[Identity]) -> list[Any]:
    """The decoded item of every position; a refused item's error, the first in key
    order, is raised."""
    found = job.found
    results = [found.get(identity) for identity in positions]
    for result in results:
        if type(result) is DecodeFailure:
            raise result.error
    return results
