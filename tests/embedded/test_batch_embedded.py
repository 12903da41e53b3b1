"""Bulk batches on the in-process backend, with and without injected faults; the fault
tests run on the sync API and the async one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Entity, Repository, RetryPolicy, Table, batch
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.aio import batch as async_batch
from tctf_dynamo.batch import bulk_write
from tctf_dynamo.errors import ErrorCode, UnprocessedItemsError
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.aio_support import Blocking, ThreadedAsyncProvider

TABLE = Table("batch-embedded")


class Reading(Entity, table=TABLE, pk="SENSOR#{sensor_id}", sk="AT#{at}"):
    sensor_id: str
    at: int
    value: int


def _item(index: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"SENSOR#{index % 97}"},
        "SK": {"S": f"AT#{index:06d}"},
        "value": {"N": str(index)},
    }


def _key(index: int) -> dict[str, Any]:
    return {"PK": {"S": f"SENSOR#{index % 97}"}, "SK": {"S": f"AT#{index:06d}"}}


def _scan_all(service: DynamoDBService) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": TABLE.name}
    while True:
        page = service.execute("Scan", request)
        items.extend(page["Items"])
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def inner() -> Iterator[EmbeddedProvider]:
    provider = EmbeddedProvider()
    DynamoDBService(provider).create_table(TABLE)
    yield provider


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> SimpleNamespace:
    """The batch functions of one API, and ``faulty(inner, rates, **options)``: a service
    of that API over a FaultInjectingProvider (kept as ``api.faults``)."""
    namespace = SimpleNamespace(functions=batch, faults=None)
    runner = asyncio.Runner()

    async def no_sleep(_: float) -> None:
        return None

    def faulty(inner: EmbeddedProvider, rates: FaultRates, **options: Any) -> Any:
        namespace.faults = FaultInjectingProvider(inner, seed=11, rates=rates)
        if request.param == "sync":
            return DynamoDBService(namespace.faults, sleep=lambda _: None, **options)
        provider = ThreadedAsyncProvider(namespace.faults)
        return Blocking(AsyncDynamoDBService(provider, sleep=no_sleep, **options), runner)

    namespace.faulty = faulty
    if request.param == "async":
        namespace.functions = Blocking(async_batch, runner)
    return namespace


def test_repository_batch_operations_round_trip(inner: EmbeddedProvider) -> None:
    repository = Repository(Reading, DynamoDBService(inner))
    readings = [Reading(sensor_id=f"s{i % 3}", at=i, value=i * 10) for i in range(260)]
    repository.batch_put(readings)
    keys = [{"sensor_id": f"s{i % 3}", "at": i} for i in range(265)]
    found = repository.batch_get(keys)
    assert found[:260] == readings
    assert found[260:] == [None] * 5
    repository.batch_delete(keys[:200])
    assert sum(item is not None for item in repository.batch_get(keys)) == 60


def test_ten_thousand_writes_land_exactly_once_through_faults(
    inner: EmbeddedProvider, api: Any
) -> None:
    rates = FaultRates(unprocessed=0.3, throttle=0.05, server_error=0.05, timeout_after=0.02)
    service = api.faulty(
        inner, rates, retry=RetryPolicy(max_attempts=25, base_delay=0.0), max_workers=8
    )
    api.functions.bulk_write(service, puts=[("batch-embedded", _item(i)) for i in range(10_000)])
    stored = _scan_all(DynamoDBService(inner))
    assert len(stored) == 10_000
    assert sorted(int(item["value"]["N"]) for item in stored) == list(range(10_000))
    injected = api.faults.injected
    assert injected["unprocessed"] > 0
    assert injected["throttle"] > 0
    assert injected["server_error"] > 0


def test_bulk_get_through_faults_returns_everything(inner: EmbeddedProvider, api: Any) -> None:
    bulk_write(DynamoDBService(inner), puts=[("batch-embedded", _item(i)) for i in range(1_000)])
    rates = FaultRates(unprocessed=0.4, throttle=0.1, server_error=0.05)
    service = api.faulty(inner, rates, retry=RetryPolicy(max_attempts=25, base_delay=0.0))
    keys = [_key(i) for i in range(1_100)]
    found = api.functions.bulk_get(service, "batch-embedded", keys)
    assert [int(item["value"]["N"]) if item else None for item in found] == [
        *range(1_000),
        *([None] * 100),
    ]


def test_exhaustion_names_exactly_the_items_not_written(inner: EmbeddedProvider, api: Any) -> None:
    service = api.faulty(inner, FaultRates(unprocessed=1.0), retry=RetryPolicy(max_attempts=2))
    with pytest.raises(UnprocessedItemsError) as caught:
        api.functions.bulk_write(service, puts=[("batch-embedded", _item(i)) for i in range(500)])
    assert caught.value.code is ErrorCode.UNPROCESSED_ITEMS
    unprocessed = {
        (table, request["PutRequest"]["Item"]["SK"]["S"])
        for table, request in caught.value.unprocessed
    }
    written = {item["SK"]["S"] for item in _scan_all(DynamoDBService(inner))}
    every = {f"AT#{i:06d}" for i in range(500)}
    assert unprocessed
    assert {sk for _, sk in unprocessed} == every - written
    assert len(caught.value.unprocessed) == len(unprocessed)


def test_single_requests_retry_unprocessed_work(inner: EmbeddedProvider, api: Any) -> None:
    service = api.faulty(
        inner, FaultRates(unprocessed=0.5), retry=RetryPolicy(max_attempts=20, base_delay=0.0)
    )
    api.functions.batch_write(service, puts=[("batch-embedded", _item(i)) for i in range(25)])
    found = api.functions.batch_get(service, "batch-embedded", [_key(i) for i in range(25)])
    assert [int(item["value"]["N"]) for item in found if item] == list(range(25))
