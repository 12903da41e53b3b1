"""The breaker under contention: failures are not lost to busy stores, caches never go
back in time, and a batch stopped by a permanent error does not invite a retry."""

from __future__ import annotations

import threading

import attrs

from tctf_dynamo import DynamoDBService, EmbeddedProvider, Table
from tctf_dynamo.errors import ErrorCode, UnprocessedItemsError, error_for
from tctf_dynamo.providers import MockProvider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore, MemoryStateStore
from tests.unit.resilience_fakes import FakeClock


class BusyStore(MemoryStateStore):
    """Loses the first ``rivals`` compare-and-sets to a rival writer counting its own
    failure (so every lost round is real progress by someone else)."""

    def __init__(self, rivals: int, clock: FakeClock) -> None:
        super().__init__()
        self.rivals, self.clock = rivals, clock

    def compare_and_set(self, name, expected_version, new) -> bool:
        if self.rivals > 0:
            self.rivals -= 1
            current = self.load(name) or BreakerState()
            rival = attrs.evolve(
                current, failures=(*current.failures, self.clock()), version=current.version + 1
            )
            super().compare_and_set(name, expected_version, rival)
            return False
        return super().compare_and_set(name, expected_version, new)


def test_a_failure_is_counted_even_after_many_lost_rounds() -> None:
    clock = FakeClock()
    store = BusyStore(rivals=8, clock=clock)
    breaker = CircuitBreaker(store, failure_threshold=20, clock=clock)
    failure = error_for(ErrorCode.SERVICE_UNAVAILABLE, "down")
    breaker.record_failure(breaker.before_call(), failure)
    assert len(store.load("dynamodb").failures) == 9  # 8 rivals and ours


def test_a_slow_read_cannot_bring_an_older_state_back_into_the_cache() -> None:
    backend = EmbeddedProvider()
    DynamoDBStateStore.create_table(backend, "breaker-cache")
    arrived, release = threading.Event(), threading.Event()
    hold = [False]

    def handler(operation: str, request: dict) -> dict:
        response = backend.call(operation, request)
        if operation == "GetItem" and hold[0]:
            hold[0] = False
            arrived.set()
            release.wait(5)  # hold the old answer until the newer state is written
        return response

    store = DynamoDBStateStore(MockProvider(handler), "breaker-cache", sort_key=None)
    old = BreakerState(CircuitState.OPEN, (), 1.0, None, 1)
    assert store.compare_and_set("b", None, old)
    store.invalidate("b")
    hold[0] = True
    slow = threading.Thread(target=store.load, args=("b",))
    slow.start()
    assert arrived.wait(5)
    newer = BreakerState(CircuitState.HALF_OPEN, (), 1.0, 2.0, 2)
    assert store.compare_and_set("b", 1, newer)
    release.set()
    slow.join(5)
    assert store.load("b") == newer


def test_a_batch_stopped_by_a_permanent_error_is_not_retryable() -> None:
    def handler(operation: str, request: dict) -> dict:
        if operation == "BatchWriteItem":
            raise error_for(ErrorCode.ACCESS_DENIED, "no", {"operation": operation})
        return {}

    service = DynamoDBService(MockProvider(handler))
    service.key_schema(Table("denied"))
    from tctf_dynamo.batch import bulk_write

    item = {"PK": {"S": "a"}, "SK": {"S": "b"}}
    try:
        bulk_write(service, puts=[("denied", item)])
    except UnprocessedItemsError as error:
        assert error.retryable is False
        assert error.details["cause_code"] == "ACCESS_DENIED"
    else:
        raise AssertionError("the write cannot have succeeded")
