"""Circuit breaker state kept in DynamoDB, on the in-process backend."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tctf_dynamo.errors import CircuitOpenError, ErrorCode, ThrottledError, error_for
from tctf_dynamo.providers.embedded import EmbeddedProvider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.events import LOGGER_NAME
from tctf_dynamo.resilience.pipeline import ResiliencePipeline
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.unit.resilience_fakes import FakeClock

THROTTLE = error_for(ErrorCode.THROTTLED, "slow down")


@pytest.fixture
def provider() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as embedded:
        yield embedded


def create_single_table(provider: EmbeddedProvider, name: str) -> None:
    provider.call(
        "CreateTable",
        {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def breaker(store: DynamoDBStateStore, clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(store, "orders-db", failure_threshold=3, reset_timeout=5.0, clock=clock)


def test_state_is_one_versioned_item_under_the_reserved_prefix(
    provider: EmbeddedProvider, table_name: str
) -> None:
    create_single_table(provider, table_name)
    store = DynamoDBStateStore(provider, table_name)
    assert store.compare_and_set("db", None, BreakerState(failures=(1.5,), version=1))
    item = provider.call(
        "GetItem",
        {
            "TableName": table_name,
            "Key": {"PK": {"S": "__tctf_breaker__#db"}, "SK": {"S": "STATE"}},
        },
    )["Item"]
    assert item["version"] == {"N": "1"}
    assert item["breaker_state"] == {"S": "closed"}
    fresh = DynamoDBStateStore(provider, table_name)
    assert fresh.load("db") == BreakerState(failures=(1.5,), version=1)
    assert fresh.load("other") is None


def test_compare_and_set_refuses_a_stale_version(
    provider: EmbeddedProvider, table_name: str
) -> None:
    create_single_table(provider, table_name)
    first = DynamoDBStateStore(provider, table_name)
    second = DynamoDBStateStore(provider, table_name)
    assert first.compare_and_set("db", None, BreakerState(version=1))
    assert not second.compare_and_set("db", None, BreakerState(version=1))
    assert second.load("db") == BreakerState(version=1)
    assert first.compare_and_set("db", 1, BreakerState(CircuitState.OPEN, (), 9.0, None, 2))
    assert not second.compare_and_set("db", 1, BreakerState(version=2))
    # the lost race dropped the cached entry, so the winner's state is read back
    assert second.load("db") == BreakerState(CircuitState.OPEN, (), 9.0, None, 2)


def test_failures_in_one_breaker_open_the_circuit_for_another_once_its_cache_expires(
    provider: EmbeddedProvider, table_name: str
) -> None:
    create_single_table(provider, table_name)
    wall, monotonic = FakeClock(), FakeClock()
    a = breaker(DynamoDBStateStore(provider, table_name, cache_ttl=1.0, clock=monotonic), wall)
    b = breaker(DynamoDBStateStore(provider, table_name, cache_ttl=1.0, clock=monotonic), wall)
    assert b.before_call().tracked  # b caches "closed"
    for _ in range(3):
        a.record_failure(a.before_call(), THROTTLE)
    assert a.state().state is CircuitState.OPEN
    b.before_call()  # within cache_ttl: still the cached view
    monotonic.advance(1.0)
    with pytest.raises(CircuitOpenError) as raised:
        b.before_call()
    assert raised.value.details["name"] == "orders-db"


def test_only_one_of_two_breakers_gets_the_probe(
    provider: EmbeddedProvider, table_name: str
) -> None:
    create_single_table(provider, table_name)
    wall = FakeClock()
    a = breaker(DynamoDBStateStore(provider, table_name, cache_ttl=0), wall)
    b = breaker(DynamoDBStateStore(provider, table_name, cache_ttl=0), wall)
    for _ in range(3):
        a.record_failure(a.before_call(), THROTTLE)
    wall.advance(5.0)
    assert a.before_call().probe
    with pytest.raises(CircuitOpenError):
        b.before_call()


def test_create_table_makes_a_dedicated_table_and_is_idempotent(
    provider: EmbeddedProvider, table_name: str
) -> None:
    store = DynamoDBStateStore.create_table(provider, table_name)
    again = DynamoDBStateStore.create_table(provider, table_name)
    description = provider.call("DescribeTable", {"TableName": table_name})["Table"]
    assert description["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"}]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert store.compare_and_set("db", None, BreakerState(version=1))
    assert again.load("db") == BreakerState(version=1)


def test_a_missing_table_disables_the_breaker_and_calls_proceed(
    provider: EmbeddedProvider, table_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    create_single_table(provider, table_name)
    store = DynamoDBStateStore(provider, "no-such-breaker-table")
    disabled = CircuitBreaker(store, "db")
    pipeline = ResiliencePipeline(provider, breaker=disabled)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        for i in range(3):
            item = {"PK": {"S": f"k{i}"}, "SK": {"S": "A"}}
            pipeline.call("PutItem", {"TableName": table_name, "Item": item})
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "TABLE_NOT_FOUND" in warnings[0].getMessage()
    assert disabled.state().state is CircuitState.DISABLED
    scanned = provider.call("Scan", {"TableName": table_name})
    assert scanned["Count"] == 3


def test_the_breaker_store_bypasses_a_faulty_data_path(
    provider: EmbeddedProvider, table_name: str
) -> None:
    """Data calls fail on every attempt; the breaker's own writes still land and open it."""
    create_single_table(provider, table_name)
    faulty = FaultInjectingProvider(provider, seed=1, rates=FaultRates(throttle=1.0))
    wall = FakeClock()
    shared = breaker(DynamoDBStateStore(provider, table_name), wall)
    pipeline = ResiliencePipeline(
        faulty, breaker=shared, retry=RetryPolicy.none(), clock=wall, sleep=wall.sleep
    )
    item = {"TableName": table_name, "Item": {"PK": {"S": "x"}, "SK": {"S": "y"}}}
    for _ in range(3):
        with pytest.raises(ThrottledError):
            pipeline.call("PutItem", item)
    with pytest.raises(CircuitOpenError):
        pipeline.call("PutItem", item)
    assert faulty.injected["throttle"] == 3
    assert DynamoDBStateStore(provider, table_name).load("orders-db") is not None
