"""The circuit breaker's behaviour, once for the sync API and once for the async one.

Every test body runs under both drivers (:mod:`tests.breaker_drivers`): the sync one
calls the breaker's blocking methods over sync stores, the async one awaits the same
programs over async stores. Fake clocks drive wall time, the store's retry interval and
the operations' deadlines.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from tctf_dynamo.effects.program import run, run_async
from tctf_dynamo.errors import CircuitOpenError, ErrorCode, InvalidInputError, error_for
from tctf_dynamo.providers.embedded import EmbeddedProvider
from tctf_dynamo.providers.mock import MockProvider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, CollectingEventSink
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.store_calls import perform_own, perform_own_async
from tctf_dynamo.resilience.stores import MemoryStateStore
from tests.breaker_drivers import DRIVERS, AsyncStoreOf, Driver
from tests.unit.resilience_fakes import FakeClock

THROTTLE = error_for(ErrorCode.THROTTLED, "slow down")
UNAVAILABLE = error_for(ErrorCode.SERVICE_UNAVAILABLE, "503")


@pytest.fixture(params=DRIVERS, ids=lambda driver: driver.name)
def driver(request: pytest.FixtureRequest) -> Driver:
    return request.param  # type: ignore[no-any-return]


class SwitchableStore:
    """A memory store that fails every call with 503 while ``down``; records timeouts."""

    def __init__(self) -> None:
        self.inner = MemoryStateStore()
        self.down = False
        self.timeouts: list[float | None] = []

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        self._touch(timeout)
        return self.inner.load(name)

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        self._touch(timeout)
        return self.inner.compare_and_set(name, expected_version, new)

    def _touch(self, timeout: float | None) -> None:
        self.timeouts.append(timeout)
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


def fail(driver: Driver, breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        driver.record(breaker, driver.before_call(breaker), THROTTLE)


def transitions(events: CollectingEventSink) -> list[tuple[str, str, str]]:
    return [(e.from_state, e.to_state, e.scope) for e in events.of_type(BreakerTransition)]


def test_counted_failures_open_the_circuit(driver: Driver) -> None:
    clock, events = FakeClock(), CollectingEventSink()
    breaker = make(driver.store(MemoryStateStore()), clock, events)
    fail(driver, breaker, 2)
    assert driver.state(breaker).state is CircuitState.CLOSED
    fail(driver, breaker)
    assert driver.state(breaker).state is CircuitState.OPEN
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as raised:
        driver.before_call(breaker)
    assert raised.value.details["retry_after"] == pytest.approx(6.0)
    assert transitions(events) == [("closed", "open", "shared")]


def test_one_probe_after_the_reset_timeout_and_its_success_closes(driver: Driver) -> None:
    clock, events = FakeClock(), CollectingEventSink()
    breaker = make(driver.store(MemoryStateStore()), clock, events)
    fail(driver, breaker, 3)
    clock.advance(10.0)
    probe = driver.before_call(breaker)
    assert probe.probe
    assert driver.state(breaker).state is CircuitState.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        driver.before_call(breaker)  # one probe at a time
    driver.record(breaker, probe)
    state = driver.state(breaker)
    assert (state.state, state.failures) == (CircuitState.CLOSED, ())
    assert not driver.before_call(breaker).probe
    assert [t[:2] for t in transitions(events)] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_a_failed_probe_opens_the_circuit_again(driver: Driver) -> None:
    clock = FakeClock()
    breaker = make(driver.store(MemoryStateStore()), clock)
    fail(driver, breaker, 3)
    clock.advance(10.0)
    driver.record(breaker, driver.before_call(breaker), THROTTLE)
    state = driver.state(breaker)
    assert state.state is CircuitState.OPEN
    assert state.opened_at == clock.now


def test_with_the_store_unreachable_a_local_breaker_decides(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    clock, events = FakeClock(), CollectingEventSink()
    switchable = SwitchableStore()
    switchable.down = True
    breaker = make(driver.store(switchable), clock, events)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        fail(driver, breaker, 2)  # the store failing counts once, and each data failure
        with pytest.raises(CircuitOpenError):
            driver.before_call(breaker)
    assert not breaker.store_reachable
    assert len(switchable.timeouts) == 1  # left alone until the retry interval passed
    assert [getattr(r, "store", None) for r in caplog.records][:1] == ["unreachable"]
    assert transitions(events) == [("closed", "open", "local")]
    clock.advance(10.0)
    probe = driver.before_call(breaker)  # the store is tried again, still down
    assert probe.local_probe and not probe.shared
    driver.record(breaker, probe)
    assert driver.state(breaker).state is CircuitState.CLOSED


def test_the_shared_state_decides_again_once_the_store_answers(driver: Driver) -> None:
    clock = FakeClock()
    switchable = SwitchableStore()
    switchable.down = True
    breaker = make(driver.store(switchable), clock)
    fail(driver, breaker, 2)
    with pytest.raises(CircuitOpenError):
        driver.before_call(breaker)  # locally open
    switchable.down = False
    clock.advance(5.0)
    assert driver.before_call(breaker).shared  # the shared state is closed: calls go on
    assert breaker.store_reachable
    other = make(switchable, clock)  # another process opens the shared circuit
    for _ in range(3):
        other.record_failure(other.before_call(), THROTTLE)
    with pytest.raises(CircuitOpenError) as raised:
        driver.before_call(breaker)
    assert raised.value.details["state"] == "open"
    assert driver.state(breaker) == switchable.inner.load("db")


def test_a_missing_table_disables_the_breaker_and_probe_says_so(driver: Driver) -> None:
    events = CollectingEventSink()
    with EmbeddedProvider() as provider:
        store = driver.dynamodb_store(provider, "no-such-breaker-table")
        breaker = CircuitBreaker(store, "db", events=events)
        assert driver.probe(breaker) is False
        assert breaker.disabled
        assert driver.state(breaker).state is CircuitState.DISABLED
        assert not driver.before_call(breaker).tracked
    assert [(e.from_state, e.to_state) for e in events.of_type(BreakerTransition)] == [
        ("unknown", "disabled")
    ]


def test_a_usable_store_passes_the_probe(driver: Driver) -> None:
    with EmbeddedProvider() as provider:
        store = driver.create_table(provider, "breaker")
        breaker = CircuitBreaker(store, "db")
        assert driver.probe(breaker) is True
        assert driver.state(breaker).state is CircuitState.CLOSED


def test_the_store_gets_half_of_what_is_left_of_the_deadline_before_the_call(
    driver: Driver,
) -> None:
    clock = FakeClock()
    switchable = SwitchableStore()
    breaker = make(driver.store(switchable), clock)
    permit = driver.before_call(breaker, Deadline.start(0.4, clock))
    assert switchable.timeouts == [pytest.approx(0.2)]
    driver.record(breaker, permit, THROTTLE, Deadline.start(10.0, clock))
    assert switchable.timeouts[1:] == [pytest.approx(0.5)] * 2  # store_timeout caps it


class HungStore:
    """The breaker table of a backend that never answers: each call takes the whole
    timeout it was given (moving the fake clock), then fails with TIMEOUT."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.provider = MockProvider(self._answer)

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        given = self.provider.timeouts[-1]
        self.clock.advance(given if given is not None else 3600.0)
        raise error_for(ErrorCode.TIMEOUT, "read timed out")


@pytest.mark.parametrize("timeout", [0.5, 2.0, 5.0])
def test_a_hung_store_costs_an_operation_at_most_the_store_budget(
    driver: Driver, timeout: float
) -> None:
    clock = FakeClock()
    hung = HungStore(clock)
    breaker = make(driver.dynamodb_store(hung.provider, "breaker", clock=clock), clock)
    start = clock.now
    deadline = Deadline.start(timeout, clock)
    permit = driver.before_call(breaker, deadline)
    assert clock.now - start <= min(breaker.store_timeout, timeout / 2)
    assert not breaker.store_reachable and not permit.shared
    before = clock.now
    driver.record(breaker, permit, THROTTLE, deadline)
    driver.record(breaker, driver.before_call(breaker, deadline), None, deadline)
    assert clock.now == before  # while it is down, the store is left alone


def test_failures_with_no_time_left_are_counted_locally(driver: Driver) -> None:
    clock = FakeClock()
    switchable = SwitchableStore()
    breaker = make(driver.store(switchable), clock)
    for _ in range(3):
        deadline = Deadline.start(1.0, clock)
        permit = driver.before_call(breaker, deadline)
        clock.advance(1.0)  # the operation used its whole deadline
        driver.record(breaker, permit, THROTTLE, deadline)
    assert len(switchable.timeouts) == 3  # only the admissions: no write was attempted
    assert breaker.store_reachable  # the store was not blamed
    assert switchable.inner.load("db") is None  # the shared state never heard of them
    with pytest.raises(CircuitOpenError):
        driver.before_call(breaker, Deadline.start(1.0, clock))  # locally open


# how the drivers reach the stores


def test_an_async_breaker_runs_a_blocking_store_in_a_thread_and_a_memory_store_inline() -> None:
    threads: dict[str, int] = {}

    class Recording(MemoryStateStore):
        def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
            threads["blocking" if self.blocking else "memory"] = threading.get_ident()
            return super().load(name)

    class Blocking(Recording):
        blocking = True

    async def admit(breaker: CircuitBreaker) -> None:
        threads["loop"] = threading.get_ident()
        await run_async(breaker.admit(), perform_own_async)

    asyncio.run(admit(CircuitBreaker(Blocking(), clock=FakeClock())))
    asyncio.run(admit(CircuitBreaker(Recording(), clock=FakeClock())))
    assert threads["blocking"] != threads["loop"]  # never holds up the event loop
    assert threads["memory"] == threads["loop"]  # never waits, so no thread is needed


def test_a_sync_caller_of_a_breaker_with_an_async_store_is_told() -> None:
    breaker = CircuitBreaker(AsyncStoreOf(MemoryStateStore()), clock=FakeClock())
    with pytest.raises(InvalidInputError) as raised:
        breaker.before_call()
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION
    assert breaker.store_reachable  # misuse is not an outage
    with pytest.raises(InvalidInputError):
        run(breaker.admit(), perform_own)


def test_a_cancelled_store_call_is_neither_an_outage_nor_a_failure() -> None:
    entered = asyncio.Event()
    hang = [True]

    class Hanging:
        async def load(self, name: str, *, timeout: float | None = None) -> None:
            if hang[0]:
                entered.set()
                await asyncio.Event().wait()

        async def compare_and_set(self, *args: Any, **kwargs: Any) -> bool:
            raise AssertionError("not reached")

    breaker = CircuitBreaker(Hanging(), failure_threshold=1, clock=FakeClock())

    async def cancel_admission() -> None:
        task = asyncio.create_task(run_async(breaker.admit(), perform_own_async))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_admission())
    assert breaker.store_reachable
    hang[0] = False
    state = asyncio.run(breaker.state_async())
    assert (state.state, state.failures) == (CircuitState.CLOSED, ())  # nothing counted


def test_an_async_store_that_ignores_its_timeout_still_gets_only_its_budget() -> None:
    class Deaf:
        async def load(self, name: str, *, timeout: float | None = None) -> None:
            await asyncio.Event().wait()  # never answers, whatever it was given

        async def compare_and_set(self, *args: Any, **kwargs: Any) -> bool:
            raise AssertionError("not reached")

    breaker = CircuitBreaker(Deaf(), store_timeout=0.01)

    async def admit() -> None:
        permit = await asyncio.wait_for(run_async(breaker.admit(), perform_own_async), 30.0)
        assert permit.tracked and not permit.shared  # decided locally

    asyncio.run(admit())
    assert not breaker.store_reachable
