"""Each attempt is sent with a socket timeout that fits the operation's deadline.

A fake clock stands in for time: the backend "hangs" by moving the clock forward by the
timeout its attempt was given (or by an hour when it was given none, as a socket with no
per-request bound would wait), then fails with TIMEOUT as a real read timeout does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tctf_dynamo import Entity, Repository, Table, UnitOfWork
from tctf_dynamo.errors import (
    ErrorCode,
    InvalidInputError,
    ReadBackFailedError,
    TransientError,
    error_for,
)
from tctf_dynamo.providers.mock import MockProvider, RecordingProvider
from tctf_dynamo.resilience.deadline import attempt_timeout
from tctf_dynamo.resilience.pipeline import ResiliencePipeline
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.sync.service import DynamoDBService
from tests.unit.resilience_fakes import FakeClock

UNBOUNDED_WAIT = 3600.0
TABLE = Table("attempt-timeouts")


class Order(Entity, table=TABLE, pk="ORDER#{order_id}", sk="META"):
    order_id: str
    total: int = 0


ITEM = Order(order_id="o1", total=3).to_item()


class HangingBackend:
    """A backend whose first ``hangs`` attempts never answer; later ones succeed."""

    def __init__(self, clock: FakeClock, hangs: int) -> None:
        self.clock = clock
        self.hangs = hangs
        self.provider = MockProvider(self._answer)
        self.started: list[float] = []

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.started.append(self.clock.now)
        if len(self.started) <= self.hangs:
            given = self.provider.timeouts[-1]
            self.clock.advance(given if given is not None else UNBOUNDED_WAIT)
            raise error_for(ErrorCode.TIMEOUT, "read timed out", {"operation": operation})
        return {"Item": ITEM} if operation == "GetItem" else {}


def service_of(backend: HangingBackend, **options: Any) -> DynamoDBService:
    clock = backend.clock
    service = DynamoDBService(
        backend.provider, sleep=clock.sleep, clock=clock, random=lambda: 0.5, **options
    )
    service.key_schema(TABLE)  # known from the definition: nothing to describe
    return service


def repository_get(service: DynamoDBService, timeout: float) -> object:
    return Repository(Order, service, timeout=timeout).get(order_id="o1")


def unit_of_work(service: DynamoDBService, timeout: float) -> object:
    with UnitOfWork(service, timeout=timeout) as uow:
        uow.put(Order(order_id="o1"))
    return uow.committed


def execute_get(service: DynamoDBService, timeout: float) -> object:
    request = {"TableName": TABLE.name, "Key": {"PK": ITEM["PK"], "SK": ITEM["SK"]}}
    return service.execute("GetItem", request, timeout=timeout)


def derived_get(service: DynamoDBService, timeout: float) -> object:
    return service.with_options(timeout=timeout).get_item(TABLE, {"PK": "ORDER#o1", "SK": "META"})


ENTRY_POINTS: dict[str, Callable[[DynamoDBService, float], object]] = {
    "repository": repository_get,
    "unit_of_work": unit_of_work,
    "execute": execute_get,
    "with_options": derived_get,
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("timeout", [0.5, 2.0, 5.0])
def test_an_override_bounds_every_attempt_and_a_hung_first_attempt_is_retried(
    entry: str, timeout: float
) -> None:
    backend = HangingBackend(FakeClock(), hangs=1)
    service = service_of(backend, timeout=30.0)  # the service's own timeout is far longer
    start = backend.clock.now
    assert ENTRY_POINTS[entry](service, timeout)
    assert len(backend.started) == 2  # the hung attempt was abandoned and retried
    assert backend.provider.timeouts[0] == pytest.approx(timeout / 3)
    assert backend.clock.now - start <= timeout


@pytest.mark.parametrize("timeout", [0.5, 2.0, 5.0])
def test_the_constructor_timeout_bounds_every_attempt(timeout: float) -> None:
    backend = HangingBackend(FakeClock(), hangs=1)
    service = service_of(backend, timeout=timeout)
    start = backend.clock.now
    assert service.get_item(TABLE, {"PK": "ORDER#o1", "SK": "META"}) is not None
    assert backend.provider.timeouts[0] == pytest.approx(timeout / 3)
    assert backend.clock.now - start <= timeout


def test_a_backend_that_never_answers_ends_the_operation_on_its_deadline() -> None:
    clock = FakeClock()
    backend = HangingBackend(clock, hangs=99)
    start = clock.now
    with pytest.raises(TransientError) as raised:
        service_of(backend, timeout=2.0).get_item(TABLE, {"PK": "ORDER#o1", "SK": "META"})
    assert raised.value.code in {ErrorCode.TIMEOUT, ErrorCode.RETRIES_EXHAUSTED}
    assert clock.now - start == pytest.approx(2.0)
    assert len(backend.started) == 3
    # the last attempt gets only what is left, never its full share
    assert backend.provider.timeouts[-1] < backend.provider.timeouts[0]


def test_the_attempt_timeout_is_a_setting_of_the_retry_policy() -> None:
    backend = HangingBackend(FakeClock(), hangs=2)
    policy = RetryPolicy(max_attempts=4, attempt_timeout=0.25)
    service = service_of(backend, timeout=10.0, retry=policy)
    service.get_item(TABLE, {"PK": "ORDER#o1", "SK": "META"})
    assert backend.provider.timeouts == [0.25, 0.25, 0.25]


def test_an_invalid_attempt_timeout_is_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        RetryPolicy(attempt_timeout=0)
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION
    assert raised.value.details["field"] == "attempt_timeout"


def test_a_custom_attempt_body_reads_its_attempt_timeout() -> None:
    clock = FakeClock()
    seen: list[float | None] = []
    pipeline = ResiliencePipeline(
        MockProvider(lambda operation, request: {}), timeout=3.0, clock=clock, sleep=clock.sleep
    )
    pipeline.run("Custom", lambda: seen.append(attempt_timeout()))
    assert seen == [pytest.approx(1.0)]
    assert attempt_timeout() is None  # only inside an attempt


def test_the_recording_provider_keeps_each_attempt_timeout() -> None:
    clock = FakeClock()
    recording = RecordingProvider(MockProvider(lambda operation, request: {}))
    pipeline = ResiliencePipeline(recording, timeout=1.5, clock=clock, sleep=clock.sleep)
    pipeline.call("PutItem", {"TableName": "t", "Item": {}})
    assert [call.timeout for call in recording.calls] == [pytest.approx(0.5)]


def test_a_provider_without_the_timeout_keyword_still_works() -> None:
    class OldProvider:
        def __init__(self) -> None:
            self.calls = 0

        def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            self.calls += 1
            return {}

        def close(self) -> None:
            pass

        def __enter__(self) -> OldProvider:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    old = OldProvider()
    ResiliencePipeline(old, timeout=1.0).call("PutItem", {"TableName": "t", "Item": {}})
    assert old.calls == 1


def test_a_single_attempt_gets_the_whole_deadline() -> None:
    clock = FakeClock()
    backend = HangingBackend(clock, hangs=99)
    service = service_of(backend, timeout=1.0, retry=RetryPolicy.none())
    with pytest.raises(TransientError) as raised:
        service.get_item(TABLE, {"PK": "ORDER#o1", "SK": "META"})
    assert raised.value.code is ErrorCode.TIMEOUT
    assert backend.provider.timeouts == [pytest.approx(1.0)]


# calls made on behalf of an operation end by its deadline


DESCRIPTION = {
    "Table": {
        "TableName": TABLE.name,
        "TableStatus": "ACTIVE",
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    }
}


class SlowThenHung:
    """``slow`` operations answer after 1.5 s; every other one never answers."""

    def __init__(self, clock: FakeClock, slow: str, answer: dict[str, Any]) -> None:
        self.clock, self.slow, self.answer = clock, slow, answer
        self.provider = MockProvider(self._answer)
        self.operations: list[str] = []

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        if operation == self.slow:
            self.clock.advance(1.5)
            return self.answer
        given = self.provider.timeouts[-1]
        self.clock.advance(given if given is not None else UNBOUNDED_WAIT)
        raise error_for(ErrorCode.TIMEOUT, "read timed out")


def test_describing_a_table_named_by_a_string_is_inside_the_calls_deadline() -> None:
    clock = FakeClock()
    backend = SlowThenHung(clock, "DescribeTable", DESCRIPTION)
    service = DynamoDBService(
        backend.provider, timeout=2.0, sleep=clock.sleep, clock=clock, random=lambda: 0.5
    )
    start = clock.now
    with pytest.raises(TransientError):
        service.get_item(TABLE.name, {"PK": "ORDER#o1", "SK": "META"})
    assert clock.now - start <= 2.0


def test_the_read_back_of_a_counter_update_is_inside_the_updates_deadline() -> None:
    clock = FakeClock()
    backend = SlowThenHung(clock, "TransactWriteItems", {})
    service = DynamoDBService(
        backend.provider, timeout=30.0, sleep=clock.sleep, clock=clock, random=lambda: 0.5
    )
    orders = Repository(Order, service, timeout=2.0)
    start = clock.now
    with pytest.raises(ReadBackFailedError) as raised:  # committed: never a retryable error
        orders.update({"order_id": "o1"}, add={"total": 1})
    assert raised.value.applied is True
    assert clock.now - start <= 2.0
    assert backend.operations[0] == "TransactWriteItems"
    assert "GetItem" in backend.operations  # the read-back was sent, and cut short
