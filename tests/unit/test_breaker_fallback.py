"""The breaker when its shared store cannot be reached: a local breaker takes over.

A store that can be switched off stands in for a DynamoDB table that fails with the
database it lives in; fake clocks drive wall time, the store's retry interval and the
operation deadlines.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tctf_dynamo.errors import CircuitOpenError, ErrorCode, error_for
from tctf_dynamo.providers.mock import MockProvider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, CollectingEventSink
from tctf_dynamo.resilience.pipeline import ResiliencePipeline
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore, MemoryStateStore
from tests.unit.resilience_fakes import FakeClock

THROTTLE = error_for(ErrorCode.THROTTLED, "slow down")
UNAVAILABLE = error_for(ErrorCode.SERVICE_UNAVAILABLE, "503")


class SwitchableStore:
    """A memory store that fails every call with 503 while ``down``."""

    def __init__(self) -> None:
        self.inner = MemoryStateStore()
        self.down = False
        self.calls = 0

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        self._touch()
        return self.inner.load(name)

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        self._touch()
        return self.inner.compare_and_set(name, expected_version, new)

    def _touch(self) -> None:
        self.calls += 1
        if self.down:
            raise UNAVAILABLE


def make(store: Any, clock: FakeClock, events: CollectingEventSink | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        store,
        "db",
        failure_threshold=3,
        window=60.0,
        reset_timeout=10.0,
        store_retry_interval=5.0,
        clock=clock,
        monotonic=clock,
        events=events,
    )


def fail_once(breaker: CircuitBreaker) -> None:
    breaker.record_failure(breaker.before_call(), THROTTLE)


def test_with_the_store_down_the_data_path_failures_open_the_circuit() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    breaker = make(store, clock)
    fail_once(breaker)  # the store failing counts, and so does the data failure
    fail_once(breaker)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    assert not breaker.store_reachable
    assert breaker.state().state is CircuitState.OPEN


def test_the_local_breaker_half_opens_and_closes_on_its_own() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    breaker = make(store, clock)
    for _ in range(2):
        fail_once(breaker)
    clock.advance(10.0)
    permit = breaker.before_call()
    assert permit.local_probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # one probe at a time
    breaker.record_success(permit)
    assert breaker.state().state is CircuitState.CLOSED
    assert breaker.before_call().local_probe is False


def test_a_failed_local_probe_reopens_the_circuit() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    breaker = make(store, clock)
    for _ in range(2):
        fail_once(breaker)
    clock.advance(10.0)
    breaker.record_failure(breaker.before_call(), THROTTLE)
    with pytest.raises(CircuitOpenError) as raised:
        breaker.before_call()
    assert raised.value.details["retry_after"] == pytest.approx(10.0)


def test_an_unreachable_store_is_tried_again_only_after_the_retry_interval() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    breaker = make(store, clock)
    breaker.record_success(breaker.before_call())
    for _ in range(10):
        breaker.record_success(breaker.before_call())
    assert store.calls == 1
    clock.advance(5.0)
    breaker.before_call()
    assert store.calls == 2


def test_the_shared_state_is_used_again_once_the_store_answers() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    breaker = make(store, clock)
    for _ in range(2):
        fail_once(breaker)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # locally open
    store.down = False
    clock.advance(5.0)
    assert breaker.before_call().tracked  # the shared state is closed: calls go ahead
    assert breaker.store_reachable
    other = make(store, clock)  # another process opens the shared circuit
    for _ in range(3):
        fail_once(other)
    with pytest.raises(CircuitOpenError) as raised:
        breaker.before_call()
    assert raised.value.details["state"] == "open"
    assert breaker.state() == store.inner.load("db")


def test_one_warning_per_store_state_change_and_none_per_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    store = SwitchableStore()
    store.down = True
    events = CollectingEventSink()
    breaker = make(store, clock, events)
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        for _ in range(20):
            try:
                fail_once(breaker)
            except CircuitOpenError:
                clock.advance(1.0)
        store.down = False
        clock.advance(30.0)
        for _ in range(5):
            breaker.record_success(breaker.before_call())
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    store_news = [getattr(r, "store", None) for r in warnings if hasattr(r, "store")]
    assert store_news == ["unreachable", "reachable"]
    assert [r.breaker for r in warnings] == ["db"] * len(warnings)  # type: ignore[attr-defined]
    opened = [e for e in events.of_type(BreakerTransition) if e.to_state == "open"]
    assert opened and {e.scope for e in opened} == {"local"}
    assert len(warnings) == 2 + len(
        [e for e in events.of_type(BreakerTransition) if e.to_state != "half_open"]
    )


def test_the_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("tctf_dynamo").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)


# the store's calls spend the operation's time, never add to it


class HungStoreBackend:
    """Answers data calls at once; never answers the breaker table (moves the clock by
    the timeout it was given, or by an hour when given none)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.provider = MockProvider(self._answer)

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("TableName") == "breaker":
            given = self.provider.timeouts[-1]
            self.clock.advance(given if given is not None else 3600.0)
            raise error_for(ErrorCode.TIMEOUT, "read timed out")
        return {}


@pytest.mark.parametrize("timeout", [0.5, 2.0, 5.0])
def test_a_hung_store_costs_an_operation_at_most_the_store_budget(timeout: float) -> None:
    clock = FakeClock()
    backend = HungStoreBackend(clock)
    store = DynamoDBStateStore(backend.provider, "breaker", clock=clock)
    breaker = make(store, clock)
    pipeline = ResiliencePipeline(
        backend.provider, timeout=timeout, breaker=breaker, clock=clock, sleep=clock.sleep
    )
    start = clock.now
    pipeline.call("PutItem", {"TableName": "data", "Item": {}})
    assert clock.now - start <= min(breaker.store_timeout, timeout / 2)
    assert not breaker.store_reachable
    start = clock.now
    for _ in range(5):  # while it is down, the store is left alone
        pipeline.call("PutItem", {"TableName": "data", "Item": {}})
    assert clock.now == start


def test_store_calls_get_what_is_left_of_the_deadline() -> None:
    clock = FakeClock()
    store = SwitchableStore()
    seen: list[float | None] = []
    original = store.load

    def load(name: str, *, timeout: float | None = None) -> BreakerState | None:
        seen.append(timeout)
        return original(name, timeout=timeout)

    store.load = load  # type: ignore[method-assign]
    breaker = make(store, clock)
    deadline = Deadline.start(0.4, clock)
    breaker.before_call(deadline=deadline)
    assert seen == [pytest.approx(0.2)]  # half of what is left, under store_timeout
