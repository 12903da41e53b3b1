"""Repositories and queries send the same requests and give the same results through
the sync and the async API: a workload is run through each on identical backends and
what each sent and returned is compared."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import (
    CursorCodec,
    CursorKey,
    DynamoDBService,
    Entity,
    Repository,
    RetryPolicy,
    Table,
    attr,
)
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncQuery, AsyncRepository
from tctf_dynamo.errors import ErrorCode, NotFoundError
from tctf_dynamo.providers import EmbeddedProvider, RecordingProvider
from tests.aio_support import Blocking, ThreadedAsyncProvider

TABLE = Table("repository-apis")
CURSORS = CursorCodec([CursorKey.generate("apis")])
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)


class Counter(Entity, table=TABLE, pk="COUNTER#{owner}", sk="C#{name}"):
    owner: str
    name: str
    value: Decimal = Decimal(0)


Factory = Callable[[RecordingProvider], tuple[Any, Any]]


def _sync(recorded: RecordingProvider) -> tuple[Any, Any]:
    service = DynamoDBService(recorded, retry=FAST, cursors=CURSORS, max_workers=2)
    return service, Repository(Counter, service)


def _async(recorded: RecordingProvider) -> tuple[Any, Any]:
    service = AsyncDynamoDBService(
        ThreadedAsyncProvider(recorded), retry=FAST, cursors=CURSORS, max_workers=2
    )
    blocking = Blocking(service)
    return blocking, Blocking(AsyncRepository(Counter, service))


def _workload(factory: Factory) -> tuple[list[Any], list[tuple[str, str]]]:
    """What a run of repository calls and queries returned, and the requests it sent
    (client request tokens, drawn at random, left out)."""
    with RecordingProvider(EmbeddedProvider()) as recorded:
        service, counters = factory(recorded)
        service.create_table(TABLE)
        recorded.clear()
        seen: list[Any] = []
        for number in range(7):
            seen.append(counters.create(Counter(owner="o", name=f"n{number}")))
        seen.append(counters.put(Counter(owner="o", name="n0", value=Decimal(3))))
        seen.append(counters.update({"owner": "o", "name": "n1"}, add={"value": 2}))
        seen.append(counters.update({"owner": "o", "name": "n2"}, set={"value": 9}))
        seen.append(counters.get(owner="o", name="n1", consistent=True))
        seen.append(counters.get(owner="o", name="missing"))
        with pytest.raises(NotFoundError) as caught:
            counters.get_or_raise(owner="o", name="missing")
        seen.append(caught.value.code)
        seen.append(counters.delete({"owner": "o", "name": "n6"}))
        query = counters.query(owner="o")
        seen.append(list(query))
        seen.append(query.reverse().limit(2).all())
        seen.append(query.filter(attr("value") > 1).count())
        seen.append(query.first())
        seen.append(query.project("name").all())
        first = query.page(size=4)
        seen.append((first.items, query.page(first.cursor, size=4).items))
        seen.append(sorted(c.name for c in counters.scan().parallel(3)))
        many = [Counter(owner="b", name=f"m{number:02}") for number in range(30)]
        seen.append(counters.batch_put(many))
        keys = [{"owner": "b", "name": name} for name in ("m00", "m29", "missing", "m07")]
        seen.append(counters.batch_get(keys, consistent=True))
        counters.batch_delete({"owner": "b", "name": c.name} for c in many[:20])
        seen.append(counters.batch_get(keys, consistent=True))
        sent = [(c.operation, _without_token(c.request)) for c in recorded.calls]
        return seen, sent


def _without_token(request: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in request.items() if k != "ClientRequestToken"}, sort_keys=True
    )


def test_both_apis_return_the_same_and_send_the_same_requests() -> None:
    sync_seen, sync_sent = _workload(_sync)
    async_seen, async_sent = _workload(_async)
    assert async_seen == sync_seen
    # parallel segments and batches answer in any order: compare their requests as sets
    parallel = {"Scan", "BatchWriteItem"}
    assert [s for s in async_sent if s[0] not in parallel] == [
        s for s in sync_sent if s[0] not in parallel
    ]
    assert sorted(s for s in async_sent if s[0] in parallel) == sorted(
        s for s in sync_sent if s[0] in parallel
    )
    operations = {operation for operation, _ in sync_sent}
    assert operations == {"PutItem", "TransactWriteItems", "UpdateItem", "GetItem", "DeleteItem",
                          "Query", "Scan", "BatchWriteItem", "BatchGetItem"}  # fmt: skip
    assert [c and c.name for c in sync_seen[-2]] == ["m00", "m29", None, "m07"]
    assert [c and c.name for c in sync_seen[-1]] == [None, "m29", None, None]
    assert sync_seen[-4] == [f"n{number}" for number in range(6)]
    assert sync_seen[12] is ErrorCode.ITEM_NOT_FOUND


def test_the_async_repository_hands_out_async_queries() -> None:
    service = AsyncDynamoDBService(ThreadedAsyncProvider(EmbeddedProvider()))
    counters = AsyncRepository(Counter, service)
    query = counters.query(owner="o").reverse().limit(3).filter(attr("value") > 1)
    assert isinstance(query, AsyncQuery)
    assert isinstance(counters.scan().parallel(2).project("name"), AsyncQuery)
    assert not hasattr(query, "__iter__")
    assert repr(counters) == "AsyncRepository(Counter, table='repository-apis')"
