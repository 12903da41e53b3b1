"""Backoff stays inside its documented bounds, and no retry loop outlives its deadline."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.retry import CallContext, execute
from tests.unit.resilience_fakes import FakeClock

delays = st.floats(min_value=0.0, max_value=120.0, allow_nan=False)
policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=1, max_value=20),
    base_delay=delays,
    max_delay=delays,
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
unit_draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@settings(max_examples=300, deadline=None)
@given(policies, st.integers(min_value=1, max_value=2_000), unit_draws)
def test_every_delay_is_within_the_jittered_exponential_and_the_cap(
    policy: RetryPolicy, retry_number: int, draw: float
) -> None:
    delay = policy.backoff(retry_number, lambda: draw)
    exponential = min(policy.max_delay, policy.base_delay * 2.0 ** min(retry_number - 1, 1023))
    low = min(policy.max_delay, exponential * (1 - policy.jitter))
    high = min(policy.max_delay, exponential * (1 + policy.jitter))
    assert math.isfinite(delay)
    assert 0.0 <= delay <= policy.max_delay
    assert low - 1e-9 <= delay <= high + 1e-9


@settings(max_examples=200, deadline=None)
@given(policies, unit_draws)
def test_with_a_fixed_draw_delays_never_shrink(policy: RetryPolicy, draw: float) -> None:
    sequence = [policy.backoff(n, lambda: draw) for n in range(1, 30)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(sequence))


@settings(max_examples=200, deadline=None)
@given(
    policies,
    st.floats(min_value=0.01, max_value=60.0),
    st.floats(min_value=0.0, max_value=5.0),
    st.lists(unit_draws, min_size=1, max_size=5),
)
def test_the_retry_loop_never_sleeps_past_its_deadline(
    policy: RetryPolicy, timeout: float, attempt_cost: float, draws: list[float]
) -> None:
    clock = FakeClock()
    start = clock.now
    attempts: list[float] = []
    cycle = iter(draws * 100)

    def attempt() -> None:
        attempts.append(clock.now)
        clock.advance(attempt_cost)
        raise error_for(ErrorCode.THROTTLED, "slow down")

    try:
        execute(
            attempt,
            policy=policy,
            deadline=Deadline.start(timeout, clock),
            sleep=clock.sleep,
            random=lambda: next(cycle),
            context=CallContext("PutItem"),
        )
    except DynamoDBServiceError as error:
        assert error.code in {ErrorCode.THROTTLED, ErrorCode.TIMEOUT, ErrorCode.RETRIES_EXHAUSTED}
    assert 1 <= len(attempts) <= policy.max_attempts
    assert all(moment < start + timeout for moment in attempts)
    assert sum(clock.sleeps) <= timeout + 1e-9  # float rounding of the fake clock
