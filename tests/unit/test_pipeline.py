"""The pipeline every operation runs through: breaker, retries and one deadline."""

from __future__ import annotations

from typing import Any

import pytest

from tctf_dynamo.errors import (
    CircuitOpenError,
    ConditionFailedError,
    ErrorCode,
    OperationTimeoutError,
    RetriesExhaustedError,
    ThrottledError,
    error_for,
)
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.events import CollectingEventSink, RetryScheduled
from tctf_dynamo.resilience.pipeline import ResiliencePipeline
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.state import CircuitState
from tctf_dynamo.resilience.stores import MemoryStateStore
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.unit.resilience_fakes import DictTableProvider, FakeClock, HandlerProvider


def scripted_provider(*outcomes: Exception | dict[str, Any]) -> HandlerProvider:
    remaining = list(outcomes)

    def handler(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        outcome = remaining.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return HandlerProvider(handler)


def pipeline(
    provider: Any,
    clock: FakeClock,
    breaker: CircuitBreaker | None = None,
    events: CollectingEventSink | None = None,
    **options: Any,
) -> ResiliencePipeline:
    return ResiliencePipeline(
        provider,
        breaker=breaker,
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.5,
        events=events,
        **options,
    )


def breaker_for(clock: FakeClock, threshold: int = 2) -> CircuitBreaker:
    return CircuitBreaker(
        MemoryStateStore(), failure_threshold=threshold, reset_timeout=10.0, clock=clock
    )


def throttled() -> Exception:
    return error_for(ErrorCode.THROTTLED, "slow down")


REQUEST = {"TableName": "orders", "Key": {"PK": {"S": "a"}}}


def test_call_sends_the_request_and_returns_the_response() -> None:
    provider = scripted_provider({"Item": {"PK": {"S": "a"}}})
    result = pipeline(provider, FakeClock()).call("GetItem", REQUEST)
    assert result == {"Item": {"PK": {"S": "a"}}}
    assert provider.calls == [("GetItem", REQUEST)]


def test_throttles_are_retried_and_events_name_the_table() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    provider = scripted_provider(throttled(), throttled(), {})
    assert pipeline(provider, clock, events=events).call("PutItem", REQUEST) == {}
    assert len(provider.calls) == 3
    assert {e.table for e in events.of_type(RetryScheduled)} == {"orders"}


def test_exhausted_operations_count_once_for_the_breaker() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock, threshold=2)
    provider = scripted_provider(*[throttled()] * 3)
    with pytest.raises(RetriesExhaustedError):
        pipeline(provider, clock, breaker).call("PutItem", REQUEST)
    state = breaker.state()
    assert state.state is CircuitState.CLOSED
    assert len(state.failures) == 1


def test_an_open_circuit_fails_fast_without_calling_the_provider() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock, threshold=2)
    provider = scripted_provider(*[throttled()] * 6)
    resilient = pipeline(provider, clock, breaker)
    for _ in range(2):
        with pytest.raises(RetriesExhaustedError):
            resilient.call("PutItem", REQUEST)
    sent = len(provider.calls)
    with pytest.raises(CircuitOpenError):
        resilient.call("PutItem", REQUEST)
    assert len(provider.calls) == sent


def test_the_probe_success_closes_the_circuit() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock, threshold=1)
    provider = scripted_provider(throttled(), {"ok": 1})
    resilient = pipeline(provider, clock, breaker, retry=RetryPolicy.none())
    with pytest.raises(ThrottledError):
        resilient.call("PutItem", REQUEST)
    assert breaker.state().state is CircuitState.OPEN
    clock.advance(10.0)
    assert resilient.call("PutItem", REQUEST) == {"ok": 1}
    assert breaker.state().state is CircuitState.CLOSED


def test_condition_failures_are_neither_retried_nor_counted() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock, threshold=1)
    provider = scripted_provider(error_for(ErrorCode.CONDITION_FAILED, "no"))
    with pytest.raises(ConditionFailedError) as raised:
        pipeline(provider, clock, breaker).call("PutItem", REQUEST)
    assert raised.value.details["attempts"] == 1
    assert len(provider.calls) == 1
    assert breaker.state().failures == ()


def test_per_call_options_override_the_defaults() -> None:
    clock = FakeClock()
    provider = scripted_provider(*[throttled()] * 10)
    resilient = pipeline(provider, clock, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(RetriesExhaustedError) as raised:
        resilient.call("PutItem", REQUEST, retry=RetryPolicy(max_attempts=4))
    assert raised.value.attempts == 4
    slow = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=1.0)
    with pytest.raises(OperationTimeoutError) as timed_out:
        resilient.call("PutItem", REQUEST, retry=slow, timeout=2.5)
    assert timed_out.value.details["timeout"] == 2.5
    assert timed_out.value.details["attempts"] == 3


def test_with_options_shares_provider_and_breaker() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock)
    base = pipeline(scripted_provider(), clock, breaker, timeout=30.0)
    derived = base.with_options(retry=RetryPolicy.none(), timeout=5.0)
    assert derived.provider is base.provider
    assert derived.breaker is base.breaker
    assert derived.retry_policy == RetryPolicy.none()
    assert derived.timeout == 5.0
    assert base.retry_policy == RetryPolicy()
    assert base.with_options().timeout == 30.0


def test_run_gives_a_custom_body_the_same_semantics() -> None:
    clock = FakeClock()
    breaker = breaker_for(clock)
    pending = ["a", "b", "c"]

    def send_pending() -> list[str]:
        """Stands in for a batch that applies one item per attempt."""
        pending.pop(0)
        if pending:
            raise error_for(ErrorCode.THROTTLED, "partial")
        return ["done"]

    result = pipeline(scripted_provider(), clock, breaker).run(
        "BatchWriteItem", send_pending, retry=RetryPolicy(max_attempts=5), table="orders"
    )
    assert result == ["done"]
    assert len(clock.sleeps) == 2


def test_a_faulty_backend_still_lands_every_put() -> None:
    """30% faults (timeout_after included: PutItem is idempotent); every item lands."""
    clock = FakeClock()
    table = DictTableProvider()
    rates = FaultRates(
        throttle=0.1,
        server_error=0.05,
        connection_error=0.05,
        timeout_before=0.05,
        timeout_after=0.05,
    )
    faulty = FaultInjectingProvider(table, seed=2024, rates=rates)
    resilient = pipeline(faulty, clock, retry=RetryPolicy(max_attempts=12))
    for i in range(300):
        resilient.call("PutItem", {"TableName": "t", "Item": {"PK": {"S": f"item{i}"}}})
    assert len(table.tables["t"]) == 300
    injected = faulty.injected
    assert sum(injected.values()) > 50
    assert set(injected) == {
        "throttle",
        "server_error",
        "connection_error",
        "timeout_before",
        "timeout_after",
    }


def test_retrying_an_ambiguous_add_applies_it_twice() -> None:
    """Why idempotency of non-idempotent writes is the caller's job: a timeout after the
    write was applied looks like any other timeout, so the retry applies it again."""
    clock = FakeClock()
    table = DictTableProvider()
    faulty = FaultInjectingProvider(
        table, seed=1, rates={"UpdateItem": FaultRates(timeout_after=1.0)}
    )
    add = {
        "TableName": "t",
        "Key": {"PK": {"S": "counter"}},
        "UpdateExpression": "ADD #n :one",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    with pytest.raises(RetriesExhaustedError) as raised:
        pipeline(faulty, clock, retry=RetryPolicy(max_attempts=2)).call("UpdateItem", add)
    assert raised.value.details["last_code"] == "TIMEOUT"
    assert table.tables["t"][("counter", "")]["n"] == {"N": "2"}
