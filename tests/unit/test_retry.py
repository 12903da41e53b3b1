"""The retry loop: backoff, deadline, exhaustion, and what it reports."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    OperationTimeoutError,
    RetriesExhaustedError,
    error_for,
)
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.events import (
    LOGGER_NAME,
    CollectingEventSink,
    RetriesExhausted,
    RetryScheduled,
    Throttled,
)
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.retry import CallContext, execute
from tests.unit.resilience_fakes import FakeClock

CONTEXT = CallContext("PutItem", "orders")
DEFAULT_POLICY = RetryPolicy()


def throttled() -> DynamoDBServiceError:
    return error_for(ErrorCode.THROTTLED, "slow down")


def scripted(
    outcomes: list[DynamoDBServiceError | str], clock: FakeClock | None = None, cost: float = 0.0
) -> tuple[Callable[[], str], list[int]]:
    """An attempt body failing or succeeding as scripted; each attempt costs ``cost`` s."""
    calls: list[int] = []
    remaining: Iterator[DynamoDBServiceError | str] = iter(outcomes)

    def attempt() -> str:
        calls.append(1)
        if clock is not None:
            clock.advance(cost)
        outcome = next(remaining)
        if isinstance(outcome, DynamoDBServiceError):
            raise outcome
        return outcome

    return attempt, calls


def run(
    attempt: Callable[[], str],
    clock: FakeClock,
    policy: RetryPolicy = DEFAULT_POLICY,
    timeout: float = 30.0,
    events: CollectingEventSink | None = None,
) -> str:
    return execute(
        attempt,
        policy=policy,
        deadline=Deadline.start(timeout, clock),
        sleep=clock.sleep,
        random=lambda: 0.5,  # jitter factor exactly 1
        context=CONTEXT,
        events=events,
    )


def test_first_success_returns_without_sleeping() -> None:
    clock = FakeClock()
    attempt, calls = scripted(["ok"])
    assert run(attempt, clock) == "ok"
    assert len(calls) == 1
    assert clock.sleeps == []


def test_retryable_failures_are_retried_with_exponential_backoff() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    attempt, calls = scripted([throttled(), throttled(), "ok"])
    assert run(attempt, clock, RetryPolicy(max_attempts=3), events=events) == "ok"
    assert len(calls) == 3
    assert clock.sleeps == pytest.approx([0.1, 0.2])
    scheduled = events.of_type(RetryScheduled)
    assert [(e.attempt, e.error_code, e.table) for e in scheduled] == [
        (1, "THROTTLED", "orders"),
        (2, "THROTTLED", "orders"),
    ]
    assert [e.attempt for e in events.of_type(Throttled)] == [1, 2]


@pytest.mark.parametrize(
    "code", [ErrorCode.CONDITION_FAILED, ErrorCode.ACCESS_DENIED, ErrorCode.INVALID_KEY]
)
def test_non_retryable_errors_propagate_at_once_with_the_attempt_count(code: ErrorCode) -> None:
    clock = FakeClock()
    error = error_for(code, "no")
    attempt, calls = scripted([throttled(), error])
    with pytest.raises(DynamoDBServiceError) as raised:
        run(attempt, clock, RetryPolicy(max_attempts=5))
    assert raised.value is error
    assert raised.value.details["attempts"] == 2
    assert len(calls) == 2


def test_retries_exhausted_wraps_the_last_failure() -> None:
    clock = FakeClock()
    events = CollectingEventSink()
    last = error_for(ErrorCode.INTERNAL_ERROR, "boom")
    attempt, calls = scripted([throttled(), throttled(), last])
    with pytest.raises(RetriesExhaustedError) as raised:
        run(attempt, clock, RetryPolicy(max_attempts=3), events=events)
    error = raised.value
    assert error.code is ErrorCode.RETRIES_EXHAUSTED
    assert error.attempts == 3
    assert error.details["attempts"] == 3
    assert error.details["last_code"] == "INTERNAL_ERROR"
    assert error.details["operation"] == "PutItem"
    assert error.last_error is last
    assert error.__cause__ is last
    assert error.retryable is False
    assert len(calls) == 3
    assert len(clock.sleeps) == 2
    assert events.of_type(RetriesExhausted) == [
        RetriesExhausted("PutItem", "orders", 3, "INTERNAL_ERROR")
    ]


def test_a_single_attempt_policy_raises_the_original_error() -> None:
    clock = FakeClock()
    error = throttled()
    attempt, _ = scripted([error])
    with pytest.raises(DynamoDBServiceError) as raised:
        run(attempt, clock, RetryPolicy.none())
    assert raised.value is error
    assert raised.value.details["attempts"] == 1
    assert clock.sleeps == []


def test_the_deadline_covers_every_attempt_and_sleep() -> None:
    clock = FakeClock()
    start = clock.now
    attempt, calls = scripted([throttled()] * 100, clock, cost=0.4)
    policy = RetryPolicy(max_attempts=100, base_delay=0.1, max_delay=0.5)
    with pytest.raises(OperationTimeoutError) as raised:
        run(attempt, clock, policy, timeout=2.0)
    assert raised.value.code is ErrorCode.TIMEOUT
    assert raised.value.details["last_code"] == "THROTTLED"
    assert raised.value.details["attempts"] == len(calls)
    assert 1 < len(calls) < 100
    assert clock.now - start <= 2.0 + 0.4  # at most one attempt may straddle the deadline


def test_backoff_that_would_reach_the_deadline_times_out_without_sleeping() -> None:
    clock = FakeClock()
    attempt, calls = scripted([throttled(), "ok"])
    with pytest.raises(OperationTimeoutError) as raised:
        run(attempt, clock, RetryPolicy(base_delay=5.0, max_delay=5.0), timeout=1.0)
    assert isinstance(raised.value.__cause__, DynamoDBServiceError)
    assert len(calls) == 1
    assert clock.sleeps == []


def test_an_expired_deadline_stops_before_calling() -> None:
    clock = FakeClock()
    deadline = Deadline.start(1.0, clock)
    clock.advance(1.0)
    attempt, calls = scripted(["ok"])
    with pytest.raises(OperationTimeoutError) as raised:
        execute(
            attempt,
            policy=RetryPolicy(),
            deadline=deadline,
            sleep=clock.sleep,
            random=lambda: 0.5,
            context=CONTEXT,
        )
    assert raised.value.details["attempts"] == 0
    assert calls == []


def test_foreign_exceptions_are_not_retried() -> None:
    clock = FakeClock()
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run(attempt, clock)
    assert len(calls) == 1


def test_retries_are_logged_with_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    attempt, _ = scripted([throttled(), throttled()])
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME), pytest.raises(RetriesExhaustedError):
        run(attempt, clock, RetryPolicy(max_attempts=2))
    scheduled = [r for r in caplog.records if r.levelno == logging.INFO]
    exhausted = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(scheduled) == 1
    assert scheduled[0].operation == "PutItem"  # type: ignore[attr-defined]
    assert scheduled[0].table == "orders"  # type: ignore[attr-defined]
    assert scheduled[0].attempt == 1  # type: ignore[attr-defined]
    assert scheduled[0].delay == pytest.approx(0.1)  # type: ignore[attr-defined]
    assert scheduled[0].error_code == "THROTTLED"  # type: ignore[attr-defined]
    assert len(exhausted) == 1
    assert exhausted[0].attempt == 2  # type: ignore[attr-defined]


def test_a_failing_event_sink_does_not_break_the_operation() -> None:
    class Broken:
        def emit(self, event: object) -> None:
            raise RuntimeError("metrics down")

    clock = FakeClock()
    attempt, _ = scripted([throttled(), "ok"])
    result = execute(
        attempt,
        policy=RetryPolicy(),
        deadline=Deadline.start(30.0, clock),
        sleep=clock.sleep,
        random=lambda: 0.5,
        context=CONTEXT,
        events=Broken(),
    )
    assert result == "ok"


# the policy itself


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.0)
    assert [policy.backoff(n, lambda: 0.3) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_spans_the_documented_factor_range() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0, jitter=0.25)
    assert policy.backoff(1, lambda: 0.0) == pytest.approx(0.75)
    assert policy.backoff(1, lambda: 1.0) == pytest.approx(1.25)
    assert policy.backoff(3, lambda: 0.5) == pytest.approx(4.0)


def test_jitter_never_pushes_past_the_cap() -> None:
    policy = RetryPolicy(base_delay=4.0, max_delay=5.0, jitter=1.0)
    assert policy.backoff(1, lambda: 0.999) == 5.0


def test_huge_retry_numbers_do_not_overflow() -> None:
    assert RetryPolicy().backoff(10_000, lambda: 0.5) == 5.0


def test_retry_numbers_start_at_one() -> None:
    with pytest.raises(InvalidInputError):
        RetryPolicy().backoff(0, lambda: 0.5)


def test_none_is_one_attempt() -> None:
    assert RetryPolicy.none().max_attempts == 1


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"base_delay": -0.1},
        {"max_delay": -1},
        {"jitter": 1.5},
        {"jitter": -0.1},
        {"base_delay": float("nan")},
    ],
    ids=repr,
)
def test_invalid_policies_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError) as raised:
        RetryPolicy(**options)  # type: ignore[arg-type]
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), True])
def test_invalid_timeouts_are_refused(timeout: float) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Deadline.start(timeout, FakeClock())
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION


def test_deadline_remaining_never_goes_negative() -> None:
    clock = FakeClock()
    deadline = Deadline.start(2.0, clock)
    clock.advance(0.5)
    assert deadline.remaining() == pytest.approx(1.5)
    assert not deadline.expired()
    clock.advance(5)
    assert deadline.remaining() == 0.0
    assert deadline.expired()
