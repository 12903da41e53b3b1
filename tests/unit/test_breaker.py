"""The circuit breaker's state machine, driven by a fake clock over a memory store."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.errors import CircuitOpenError, ErrorCode, InvalidInputError, error_for
from tctf_dynamo.resilience.breaker import CircuitBreaker, Permit
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, CollectingEventSink
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import MemoryStateStore
from tests.unit.resilience_fakes import FakeClock

THROTTLE = error_for(ErrorCode.THROTTLED, "slow down")
CONDITION = error_for(ErrorCode.CONDITION_FAILED, "no")


def make(
    clock: FakeClock,
    store: MemoryStateStore | None = None,
    events: CollectingEventSink | None = None,
) -> CircuitBreaker:
    return CircuitBreaker(
        store or MemoryStateStore(),
        "db",
        failure_threshold=3,
        window=10.0,
        reset_timeout=5.0,
        clock=clock,
        events=events,
    )


def fail(breaker: CircuitBreaker, times: int, error: Exception = THROTTLE) -> None:
    for _ in range(times):
        breaker.record_failure(breaker.before_call(), error)


def transitions(events: CollectingEventSink) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in events.of_type(BreakerTransition)]


def test_starts_closed() -> None:
    breaker = make(FakeClock())
    assert breaker.state().state is CircuitState.CLOSED
    assert breaker.before_call() == Permit()


def test_opens_after_threshold_counted_failures() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    breaker = make(clock, events=events)
    fail(breaker, 2)
    assert breaker.state().state is CircuitState.CLOSED
    assert len(breaker.state().failures) == 2
    fail(breaker, 1)
    state = breaker.state()
    assert state.state is CircuitState.OPEN
    assert state.opened_at == clock.now
    assert transitions(events) == [("closed", "open")]


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 2)
    clock.advance(10.5)
    fail(breaker, 2)
    assert breaker.state().state is CircuitState.CLOSED
    assert len(breaker.state().failures) == 2


@pytest.mark.parametrize(
    "error",
    [CONDITION, error_for(ErrorCode.INVALID_KEY, "bad"), error_for(ErrorCode.ACCESS_DENIED, "no")],
    ids=repr,
)
def test_failures_that_are_not_counted_never_open_it(error: Exception) -> None:
    breaker = make(FakeClock())
    fail(breaker, 10, error)
    assert breaker.state() == BreakerState()


def test_open_circuit_fails_fast_with_retry_after() -> None:
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(2.0)
    with pytest.raises(CircuitOpenError) as raised:
        breaker.before_call()
    assert raised.value.code is ErrorCode.CIRCUIT_OPEN
    assert raised.value.details["name"] == "db"
    assert raised.value.details["retry_after"] == pytest.approx(3.0)


def test_one_probe_after_reset_timeout_and_success_closes() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    breaker = make(clock, events=events)
    fail(breaker, 3)
    clock.advance(5.0)
    probe = breaker.before_call()
    assert probe.probe
    assert breaker.state().state is CircuitState.HALF_OPEN
    with pytest.raises(CircuitOpenError) as raised:
        breaker.before_call()  # only one probe at a time
    assert raised.value.details["state"] == "half_open"
    breaker.record_success(probe)
    state = breaker.state()
    assert state.state is CircuitState.CLOSED
    assert state.failures == ()
    assert breaker.before_call() == Permit()
    assert transitions(events) == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_probe_failure_opens_again_for_another_reset_timeout() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    breaker = make(clock, events=events)
    fail(breaker, 3)
    clock.advance(5.0)
    probe = breaker.before_call()
    clock.advance(1.0)
    breaker.record_failure(probe, THROTTLE)
    state = breaker.state()
    assert state.state is CircuitState.OPEN
    assert state.opened_at == clock.now
    clock.advance(4.9)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.advance(0.1)
    assert breaker.before_call().probe
    assert transitions(events)[-2:] == [("half_open", "open"), ("open", "half_open")]


def test_a_probe_ending_in_a_condition_failure_closes_the_circuit() -> None:
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(5.0)
    breaker.record_failure(breaker.before_call(), CONDITION)
    assert breaker.state().state is CircuitState.CLOSED


def test_a_lost_probe_is_taken_over_after_reset_timeout() -> None:
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(5.0)
    assert breaker.before_call().probe  # this caller never reports back
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.advance(1.0)
    second = breaker.before_call()
    assert second.probe
    breaker.record_success(second)
    assert breaker.state().state is CircuitState.CLOSED


def test_a_foreign_exception_on_the_probe_leaves_it_half_open() -> None:
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(5.0)
    breaker.record_failure(breaker.before_call(), ValueError("bug in caller"))
    assert breaker.state().state is CircuitState.HALF_OPEN


class _Interrupted:
    """A provider whose call is interrupted (KeyboardInterrupt) until told otherwise."""

    interrupt = True

    def call(self, operation: str, request: Any, *, timeout: float | None = None) -> Any:
        if self.interrupt:
            raise KeyboardInterrupt
        return {}

    def close(self) -> None:
        pass


def test_an_interrupted_probe_is_handed_back_to_the_next_caller() -> None:
    """The sync twin of the async server test (a cancelled probe): the pipeline gives an
    interrupted call's probe back, so the next caller probes without waiting."""
    clock = FakeClock()
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(5.0)
    provider = _Interrupted()
    service = DynamoDBService(provider, breaker=breaker, retry=RetryPolicy.none())
    request = {"TableName": "t", "Key": {"PK": {"S": "a"}}}
    with pytest.raises(KeyboardInterrupt):
        service.execute("GetItem", request)
    assert breaker.state().state is CircuitState.HALF_OPEN
    provider.interrupt = False
    assert service.execute("GetItem", request) == {}  # let through as the probe
    assert breaker.state().state is CircuitState.CLOSED


def test_breakers_sharing_a_store_share_the_circuit() -> None:
    clock = FakeClock()
    store = MemoryStateStore()
    first, second = make(clock, store), make(clock, store)
    fail(first, 3)
    with pytest.raises(CircuitOpenError):
        second.before_call()


def test_concurrent_failures_open_the_circuit_exactly_once() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    breaker = CircuitBreaker(
        MemoryStateStore(), failure_threshold=20, window=60.0, clock=clock, events=events
    )
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            with contextlib.suppress(CircuitOpenError):
                breaker.record_failure(breaker.before_call(), THROTTLE)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.state().state is CircuitState.OPEN
    assert transitions(events) == [("closed", "open")]


# the store failing


class BrokenStore:
    def __init__(self, code: ErrorCode) -> None:
        self.code = code
        self.calls = 0

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        self.calls += 1
        raise error_for(self.code, "store down")

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        self.calls += 1
        raise error_for(self.code, "store down")


@pytest.mark.parametrize("code", [ErrorCode.TABLE_NOT_FOUND, ErrorCode.ACCESS_DENIED])
def test_an_unusable_store_disables_the_breaker_with_one_warning(
    code: ErrorCode, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenStore(code)
    events = CollectingEventSink()
    breaker = CircuitBreaker(store, "db", clock=FakeClock(), events=events)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        for _ in range(5):
            permit = breaker.before_call()
            breaker.record_failure(permit, THROTTLE)
    assert store.calls == 1
    assert breaker.disabled
    assert breaker.state().state is CircuitState.DISABLED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert code.value in warnings[0].getMessage()
    assert transitions(events) == [("unknown", "disabled")]


def test_probe_reports_an_unusable_store() -> None:
    breaker = CircuitBreaker(BrokenStore(ErrorCode.TABLE_NOT_FOUND), clock=FakeClock())
    assert breaker.probe() is False
    assert breaker.disabled
    assert CircuitBreaker(MemoryStateStore(), clock=FakeClock()).probe() is True


@pytest.mark.parametrize("code", [ErrorCode.INTERNAL_ERROR, ErrorCode.PROVIDER_ERROR])
def test_other_store_errors_let_calls_through_and_keep_the_breaker(
    code: ErrorCode, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenStore(code)
    breaker = CircuitBreaker(store, clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        permit = breaker.before_call()
        breaker.record_failure(permit, THROTTLE)
        breaker.record_success(permit)
    assert permit.tracked and not permit.shared  # decided by the local breaker
    assert not breaker.disabled
    assert not breaker.store_reachable
    assert store.calls == 1  # not tried again before the retry interval
    assert len(caplog.records) == 1
    assert len(breaker.state().failures) == 2  # the store's failure and the call's


@pytest.mark.parametrize(
    "options", [{"failure_threshold": 0}, {"window": 0.0}, {"reset_timeout": -1.0}], ids=repr
)
def test_invalid_configuration_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError) as raised:
        CircuitBreaker(MemoryStateStore(), **options)  # type: ignore[arg-type]
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION
