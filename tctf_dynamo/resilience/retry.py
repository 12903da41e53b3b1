"""The retry loop: the decision core, with no I/O of its own.

:func:`retrying` runs an attempt body under a :class:`~.policy.RetryPolicy` and a
:class:`~.deadline.Deadline`. It is a program (see :mod:`tctf_dynamo.effects.program`): it
yields its backoffs as ``Sleep`` effects, so the sync and the async API share it, and
tests drive it with a fake clock advanced by a fake sleep. :func:`execute` is its
blocking form for a plain callable.

Outcomes, in the order they are checked after an attempt fails:

* not retryable (see :mod:`.classification`): the error propagates at once, with
  ``details["attempts"]`` set;
* retryable, attempts left, and the backoff ends before the deadline: sleep, try again;
* retryable but the backoff would reach the deadline: OperationTimeoutError (TIMEOUT)
  at once, chained from the failure; sleeping only to give up would waste the caller's
  time;
* retryable and it was the last attempt: RetriesExhaustedError (RETRIES_EXHAUSTED, not
  retryable) chained from the last failure, whose code is in ``details["last_code"]``;
  with a one-attempt policy the original error is raised instead, with
  ``details["attempts"] == 1``, since nothing was retried.

Before every attempt an expired deadline raises TIMEOUT without calling the backend.

A *patient* failure (TRANSACTION_IN_PROGRESS: an earlier request with the same token is
still running) is asked again until the deadline whatever ``max_attempts`` says, and
does not use up the attempt budget: stopping early would report as failed a write that
may still commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs

from tctf_dynamo.effects.program import Program, Send, Sleep, run
from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    OperationTimeoutError,
    RetriesExhaustedError,
)
from tctf_dynamo.providers.attempts import CURRENT_ATTEMPT, Invocation
from tctf_dynamo.resilience.classification import classify
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.events import (
    EventSink,
    RetriesExhausted,
    RetryScheduled,
    Throttled,
    publish,
)
from tctf_dynamo.resilience.policy import RetryPolicy

__all__ = ["CallContext", "execute", "retrying"]

T = TypeVar("T")


@attrs.frozen
class CallContext:
    """What an operation is, for messages, logs and events."""

    operation: str
    table: str | None = None


def execute(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    sleep: Callable[[float], object],
    random: Callable[[], float],
    context: CallContext,
    events: EventSink | None = None,
    invocation: Invocation | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails for good, runs out of attempts or time.

    The blocking form of :func:`retrying` for an attempt body that is a plain callable.
    """
    program = retrying(
        lambda: _called(attempt),
        policy=policy,
        deadline=deadline,
        random=random,
        context=context,
        events=events,
        invocation=invocation,
    )
    return run(program, lambda effect: sleep(effect.seconds))


def _called(attempt: Callable[[], T]) -> Program[T]:
    """``attempt()`` as a program with no effects of its own."""
    return attempt()
    yield  # pragma: no cover - makes this a generator


def retrying(
    attempt: Callable[[], Program[T] | Send],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    random: Callable[[], float],
    context: CallContext,
    events: EventSink | None = None,
    invocation: Invocation | None = None,
) -> Program[T]:
    """The retry loop as a program: run ``attempt()`` (a program, or a bare
    :class:`~tctf_dynamo.effects.program.Send`) until it succeeds, fails for good,
    runs out of attempts or time, yielding :class:`~tctf_dynamo.effects.program.Sleep` for
    each backoff.

    While an attempt runs, :data:`~tctf_dynamo.providers.attempts.CURRENT_ATTEMPT` says
    which one it is (``invocation``, made here if not given), for the SDK retry headers
    and the library's spans; afterwards ``invocation.attempt`` is the attempts made.
    """
    if invocation is None:
        invocation = Invocation(policy.max_attempts)
    else:
        invocation.max_attempts = policy.max_attempts
    token = CURRENT_ATTEMPT.set(invocation)
    try:
        attempts = 0
        patient_attempts = 0
        last: DynamoDBServiceError | None = None
        while True:
            if deadline.expired():
                raise _timeout(context, deadline, attempts, last) from last
            attempts += 1
            invocation.attempt = attempts
            try:
                step = attempt()
                if isinstance(step, Send):  # a bare send needs no generator of its own
                    response: T = yield step
                    return response
                return (yield from step)
            except DynamoDBServiceError as error:
                last = error
                if classify(error).patient:
                    patient_attempts += 1
                delay = _after_failure(
                    error,
                    attempts=attempts - patient_attempts,
                    total=attempts,
                    policy=policy,
                    deadline=deadline,
                    random=random,
                    context=context,
                    events=events,
                )
            yield Sleep(delay)
    finally:
        CURRENT_ATTEMPT.reset(token)


def _after_failure(
    error: DynamoDBServiceError,
    *,
    attempts: int,
    total: int,
    policy: RetryPolicy,
    deadline: Deadline,
    random: Callable[[], float],
    context: CallContext,
    events: EventSink | None,
) -> float:
    """The backoff before the next attempt, or raise the error that ends the operation."""
    if error.code is ErrorCode.THROTTLED:
        publish(events, Throttled(context.operation, context.table, attempts))
    classification = classify(error)
    if classification.patient:
        return _wait(
            error,
            total,
            policy=policy,
            deadline=deadline,
            random=random,
            context=context,
            events=events,
        )
    if not classification.retryable or policy.max_attempts == 1:
        error.details["attempts"] = attempts
        raise error
    if attempts >= policy.max_attempts:
        publish(
            events, RetriesExhausted(context.operation, context.table, attempts, error.code.value)
        )
        raise RetriesExhaustedError(
            f"{context.operation} failed after {attempts} attempts",
            last_error=error,
            attempts=attempts,
            details=_where(context),
        ) from error
    return _wait(
        error,
        attempts,
        policy=policy,
        deadline=deadline,
        random=random,
        context=context,
        events=events,
    )


def _wait(
    error: DynamoDBServiceError,
    attempts: int,
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    random: Callable[[], float],
    context: CallContext,
    events: EventSink | None,
) -> float:
    """The backoff before the next attempt; TIMEOUT at once if it would pass the deadline."""
    delay = policy.backoff(attempts, random)
    if delay >= deadline.remaining():
        raise _timeout(context, deadline, attempts, error) from error
    publish(
        events,
        RetryScheduled(context.operation, context.table, attempts, delay, error.code.value),
    )
    return delay


def _timeout(
    context: CallContext,
    deadline: Deadline,
    attempts: int,
    last: DynamoDBServiceError | None,
) -> OperationTimeoutError:
    details: dict[str, object] = {"timeout": deadline.timeout, "attempts": attempts}
    details.update(_where(context))
    if last is not None:
        details["last_code"] = last.code.value
    return OperationTimeoutError(
        ErrorCode.TIMEOUT,
        f"{context.operation} did not complete within {deadline.timeout}s ({attempts} attempts)",
        details,
    )


def _where(context: CallContext) -> dict[str, object]:
    where: dict[str, object] = {"operation": context.operation}
    if context.table is not None:
        where["table"] = context.table
    return where
