"""What the service runs every operation through: breaker, retries, one deadline.

For each operation::

    deadline = Deadline.start(timeout)
    permit = breaker.before_call(deadline=deadline)   # CIRCUIT_OPEN here: nothing is sent
    result = retry(attempt(timeout=min(attempt_cap, deadline.remaining())))
    breaker.record_success / record_failure(..., deadline=deadline)

The deadline starts first, so the breaker's own store reads and writes are spent from
the operation's time, never added to it. Each attempt is sent with a socket timeout of
the policy's attempt cap or what is left of the deadline, whichever is smaller
(:meth:`~.policy.RetryPolicy.attempt_cap`), so a hung attempt is abandoned in time for
a retry, and the last one ends with the deadline.

The breaker sees the outcome of the whole operation, not of each attempt: an operation
that succeeded on its second attempt is a success, and one that exhausted its retries on
throttling is one counted failure.

Retrying re-sends the same request. That is safe for reads, puts, deletes and
conditional writes, but an unconditional ``ADD`` or ``SET x = x + 1`` whose first
attempt timed out *after* DynamoDB applied it will be applied twice. Idempotency of
such writes is the caller's job: the unit of work sends a ClientRequestToken, which
DynamoDB uses to apply a retried transaction only once.
"""

from __future__ import annotations

import random as _random
import time
from asyncio import CancelledError as _Cancelled
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tctf_dynamo.effects.program import Program, Send, Sleep, run
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.providers.attempts import Invocation
from tctf_dynamo.providers.base import Provider, Request, Response, send
from tctf_dynamo.resilience.breaker import CircuitBreaker, Permit
from tctf_dynamo.resilience.deadline import (
    DEFAULT_TIMEOUT_SECONDS,
    Deadline,
    attempt_scope,
    check_timeout,
    enclosing_deadline,
    operation_scope,
)
from tctf_dynamo.resilience.events import EventSink, OperationCompleted, publish
from tctf_dynamo.resilience.observers import OperationObserver
from tctf_dynamo.resilience.observers import current as current_observer
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.retry import CallContext, retrying

__all__ = ["ResiliencePipeline", "breaker_state"]

T = TypeVar("T")
_SHORTEST_ATTEMPT = 0.001
"""A socket timeout of zero would mean "do not block" rather than "no time left"."""


class ResiliencePipeline:
    """Sends operations to ``provider`` under a retry policy, a timeout and a breaker.

    ``timeout`` covers all attempts and sleeps of one operation. ``sleep``, ``clock``
    (monotonic) and ``random`` are injected so tests run without waiting.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        events: EventSink | None = None,
    ) -> None:
        self.provider = provider
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self.timeout = check_timeout(timeout)
        self.breaker = breaker
        self.events = events
        self._sleep = sleep
        self._clock = clock
        self._random = random

    # programs: every decision, no I/O --------------------------------------------------

    def program(
        self,
        operation: str,
        attempt: Callable[[float], Program[T] | Send],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        table: str | None = None,
    ) -> Program[T]:
        """Breaker, retries and deadline around ``attempt(socket_timeout)`` (a program, or
        a bare ``Send``), a program reported to the span observer and the event sink when
        either is set."""
        policy = retry if retry is not None else self.retry_policy
        observer = current_observer()
        if observer is None and self.events is None:
            return self._guarded(operation, attempt, policy, timeout, table=table)
        return self._observed(operation, attempt, policy, timeout, table=table, observer=observer)

    def call_program(
        self,
        operation: str,
        request: Request,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        table: str | None = None,
    ) -> Program[Response]:
        """One provider operation as a program; ``table`` defaults to the TableName."""
        if table is None and isinstance(request.get("TableName"), str):
            table = request["TableName"]
        return self.program(
            operation,
            lambda budget: Send(operation, request, budget),
            retry=retry,
            timeout=timeout,
            table=table,
        )

    # the blocking driver ------------------------------------------------------------------

    def perform(self, effect: Any) -> Any:
        """Perform one effect of a program, blocking: send, sleep, or the effect's own."""
        kind = type(effect)
        if kind is Send:
            return send(self.provider, effect.operation, effect.request, effect.timeout)
        if kind is Sleep:
            self._sleep(effect.seconds)
            return None
        return effect.perform()

    def call(
        self,
        operation: str,
        request: Request,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        table: str | None = None,
    ) -> Response:
        """Send one provider operation; ``table`` defaults to the request's TableName."""
        program = self.call_program(operation, request, retry=retry, timeout=timeout, table=table)
        return run(program, self.perform)

    def run(
        self,
        operation: str,
        attempt: Callable[[], T],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        table: str | None = None,
    ) -> T:
        """Run a custom attempt body (e.g. re-sending only unprocessed batch items) with
        the same breaker, retry and deadline semantics as :meth:`call`. A body that calls
        a provider passes it :func:`~.deadline.attempt_timeout` as ``timeout``."""

        def scoped(budget: float) -> Program[T]:
            with attempt_scope(budget):
                return attempt()
            yield  # pragma: no cover - makes this a generator

        program = self.program(operation, scoped, retry=retry, timeout=timeout, table=table)
        return run(program, self.perform)

    def _guarded(
        self,
        operation: str,
        attempt: Callable[[float], Program[T] | Send],
        policy: RetryPolicy,
        timeout: float | None,
        *,
        table: str | None,
        invocation: Invocation | None = None,
    ) -> Program[T]:
        if invocation is None:
            invocation = Invocation(policy.max_attempts)
        deadline = self.deadline(timeout)
        cap = policy.attempt_cap(deadline.timeout)
        breaker = self.breaker
        permit = None
        if breaker is not None:
            permit = yield from breaker.admit(deadline=deadline)
        invocation.permit = permit
        try:
            result = yield from retrying(
                lambda: attempt(max(deadline.bounded(cap), _SHORTEST_ATTEMPT)),
                policy=policy,
                deadline=deadline,
                random=self._random,
                context=CallContext(operation, table),
                events=self.events,
                invocation=invocation,
            )
        except Exception as error:
            if breaker is not None and permit is not None:
                yield from breaker.record(permit, error, deadline=deadline)
            raise
        except (KeyboardInterrupt, _Cancelled):
            if breaker is not None and permit is not None:
                yield from breaker.abandon(permit, deadline=deadline)
            raise
        if breaker is not None and permit is not None:
            yield from breaker.record(permit, None, deadline=deadline)
        return result

    def deadline(self, timeout: float | None = None) -> Deadline:
        """A deadline starting now (``timeout`` or this pipeline's), ending no later than
        the operation this call is made for (see :meth:`operation`)."""
        own = Deadline.start(timeout if timeout is not None else self.timeout, self._clock)
        return own.within(enclosing_deadline())

    @contextmanager
    def operation(self, *, timeout: float | None = None) -> Iterator[Deadline]:
        """One deadline for every call made inside: a write and its read-back, or a
        DescribeTable and the call that needed it, end together by ``timeout``."""
        with operation_scope(self.deadline(timeout)) as deadline:
            yield deadline

    def _observed(
        self,
        operation: str,
        attempt: Callable[[float], Program[T] | Send],
        policy: RetryPolicy,
        timeout: float | None,
        *,
        table: str | None,
        observer: OperationObserver | None,
    ) -> Program[T]:
        """:meth:`_guarded` reporting to the span observer and as OperationCompleted."""
        invocation = Invocation(0)
        handle = observer.begin(operation, table) if observer is not None else None
        started = self._clock()
        try:
            result = yield from self._guarded(
                operation, attempt, policy, timeout, table=table, invocation=invocation
            )
        except Exception as error:
            self._report(operation, table, invocation, started, error)
            if observer is not None:
                state = breaker_state(invocation.permit, error)
                observer.end(handle, attempts=invocation.attempt, breaker_state=state, error=error)
            raise
        self._report(operation, table, invocation, started, None)
        if observer is not None:
            state = breaker_state(invocation.permit, None)
            observer.end(handle, attempts=invocation.attempt, breaker_state=state, result=result)
        return result

    def _report(
        self,
        operation: str,
        table: str | None,
        invocation: Invocation,
        started: float,
        error: BaseException | None,
    ) -> None:
        if self.events is None:
            return
        code = error.code.value if isinstance(error, DynamoDBServiceError) else None
        if error is not None and code is None:
            code = type(error).__name__
        event = OperationCompleted(
            operation, table, invocation.attempt, self._clock() - started, code
        )
        publish(self.events, event, log=True)

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: float | None = None
    ) -> ResiliencePipeline:
        """A pipeline with another default policy or timeout, sharing provider, breaker,
        clock, sleep, random and events with this one."""
        return ResiliencePipeline(
            self.provider,
            retry=retry if retry is not None else self.retry_policy,
            timeout=timeout if timeout is not None else self.timeout,
            breaker=self.breaker,
            sleep=self._sleep,
            clock=self._clock,
            random=self._random,
            events=self.events,
        )


def breaker_state(permit: Permit | None, error: BaseException | None) -> str:
    """What the breaker let this operation do: ``closed``, ``half_open`` (the probe),
    ``open`` (refused), ``disabled`` or ``none`` (no breaker)."""
    if isinstance(error, DynamoDBServiceError) and error.code is ErrorCode.CIRCUIT_OPEN:
        return "open"
    if permit is None:
        return "none"
    if not permit.tracked:
        return "disabled"
    return "half_open" if permit.probe or permit.local_probe else "closed"
