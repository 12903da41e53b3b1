"""The DynamoDB state store, sync and async, on the in-process backend.

Each body runs with :class:`~tctf_dynamo.resilience.stores.DynamoDBStateStore` and with
:class:`~tctf_dynamo.resilience.async_stores.AsyncDynamoDBStateStore` (over an async
provider running the embedded backend in a worker thread), and the two share one table
layout: what one writes, the other reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo.effects.program import run_async
from tctf_dynamo.errors import CircuitOpenError, ErrorCode, error_for
from tctf_dynamo.providers.embedded import EmbeddedProvider
from tctf_dynamo.providers.mock import MockProvider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.events import BreakerTransition, CollectingEventSink
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.store_calls import perform_own_async
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tests.breaker_drivers import DRIVERS, Driver
from tests.unit.resilience_fakes import FakeClock

THROTTLE = error_for(ErrorCode.THROTTLED, "slow down")
OPENED = BreakerState(CircuitState.OPEN, (), 9.0, None, 2)


@pytest.fixture(params=DRIVERS, ids=lambda driver: driver.name)
def driver(request: pytest.FixtureRequest) -> Driver:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def provider() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as embedded:
        yield embedded


def load(driver: Driver, store: Any, name: str) -> BreakerState | None:
    return driver.await_store(lambda: store.load(name))  # type: ignore[no-any-return]


def cas(driver: Driver, store: Any, name: str, expected: int | None, new: BreakerState) -> bool:
    return driver.await_store(  # type: ignore[no-any-return]
        lambda: store.compare_and_set(name, expected, new)
    )


def test_both_stores_keep_one_versioned_item_in_one_layout(
    driver: Driver, provider: EmbeddedProvider, table_name: str
) -> None:
    store = driver.create_table(provider, table_name)
    assert cas(driver, store, "db", None, BreakerState(failures=(1.5,), version=1))
    key = {"PK": {"S": "__tctf_breaker__#db"}}
    item = provider.call("GetItem", {"TableName": table_name, "Key": key})["Item"]
    assert (item["version"], item["breaker_state"]) == ({"N": "1"}, {"S": "closed"})
    other = DynamoDBStateStore(provider, table_name, sort_key=None)
    assert other.compare_and_set("db", 1, OPENED)  # a sync process moves it on
    store.invalidate("db")
    assert load(driver, store, "db") == OPENED
    assert load(driver, store, "other") is None


def test_compare_and_set_refuses_a_stale_version_and_forgets_the_cached_read(
    driver: Driver, provider: EmbeddedProvider, table_name: str
) -> None:
    first = driver.create_table(provider, table_name)
    second = driver.dynamodb_store(provider, table_name, sort_key=None)
    assert cas(driver, first, "db", None, BreakerState(version=1))
    assert not cas(driver, second, "db", None, BreakerState(version=1))
    assert load(driver, second, "db") == BreakerState(version=1)
    assert cas(driver, first, "db", 1, OPENED)
    assert not cas(driver, second, "db", 1, BreakerState(version=2))
    assert load(driver, second, "db") == OPENED


def test_create_table_is_idempotent(
    driver: Driver, provider: EmbeddedProvider, table_name: str
) -> None:
    driver.create_table(provider, table_name)
    again = driver.create_table(provider, table_name)
    description = provider.call("DescribeTable", {"TableName": table_name})["Table"]
    assert description["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"}]
    assert load(driver, again, "db") is None


def test_key_attributes_are_read_once_within_the_calls_timeout(
    driver: Driver, provider: EmbeddedProvider, table_name: str
) -> None:
    DynamoDBStateStore.create_table(provider, table_name, partition_key="id")
    operations: list[str] = []

    def handler(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        operations.append(operation)
        return provider.call(operation, request)

    recording = MockProvider(handler)
    store = driver.dynamodb_store(recording, table_name, partition_key=None, cache_ttl=0)
    driver.await_store(lambda: store.load("db", timeout=0.25))
    assert cas(driver, store, "db", None, BreakerState(version=1))
    assert operations == ["DescribeTable", "GetItem", "PutItem"]
    assert recording.timeouts == [0.25, 0.25, None]
    assert load(driver, store, "db") == BreakerState(version=1)


def test_breakers_of_both_apis_share_one_circuit(
    driver: Driver, provider: EmbeddedProvider, table_name: str
) -> None:
    wall = FakeClock()
    store = driver.create_table(provider, table_name, cache_ttl=0)
    ours = CircuitBreaker(store, "orders-db", failure_threshold=3, clock=wall)
    sync = CircuitBreaker(
        DynamoDBStateStore(provider, table_name, sort_key=None, cache_ttl=0),
        "orders-db",
        failure_threshold=3,
        clock=wall,
    )
    for _ in range(3):
        driver.record(ours, driver.before_call(ours), THROTTLE)
    with pytest.raises(CircuitOpenError):
        sync.before_call()
    wall.advance(30.0)
    assert sync.before_call().probe  # exactly one caller anywhere wins the probe
    with pytest.raises(CircuitOpenError):
        driver.before_call(ours)


def test_concurrent_async_callers_open_once_and_let_one_probe_through(
    provider: EmbeddedProvider, table_name: str
) -> None:
    """Tasks interleave at every store call; compare-and-set keeps each transition single."""
    wall, events = FakeClock(), CollectingEventSink()
    store = DRIVERS[1].create_table(provider, table_name, cache_ttl=0)
    shared = CircuitBreaker(store, "db", failure_threshold=5, clock=wall, events=events)

    async def fail_once() -> None:
        try:
            permit = await run_async(shared.admit(), perform_own_async)
        except CircuitOpenError:
            return
        await run_async(shared.record(permit, THROTTLE), perform_own_async)

    async def admit() -> bool:
        try:
            return (await run_async(shared.admit(), perform_own_async)).probe
        except CircuitOpenError:
            return False

    async def scenario() -> list[bool]:
        await asyncio.gather(*(fail_once() for _ in range(20)))
        wall.advance(30.0)
        return await asyncio.gather(*(admit() for _ in range(10)))

    probes = asyncio.run(scenario())
    assert probes.count(True) == 1
    moves = [(e.from_state, e.to_state) for e in events.of_type(BreakerTransition)]
    assert moves == [("closed", "open"), ("open", "half_open")]
