"""What the service runs every operation through: breaker, retries, one deadline.

For each operation::

    permit = breaker.before_call()          # CIRCUIT_OPEN here: nothing is sent
    result = retry(deadline(attempt))       # see retry.execute
    breaker.record_success / record_failure # once per operation, with its final outcome

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
from collections.abc import Callable
from typing import TypeVar

from tctf_dynamo.providers.base import Provider, Request, Response
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.deadline import DEFAULT_TIMEOUT_SECONDS, Deadline, check_timeout
from tctf_dynamo.resilience.events import EventSink
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.retry import CallContext, execute

__all__ = ["ResiliencePipeline"]

T = TypeVar("T")


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
        if table is None and isinstance(request.get("TableName"), str):
            table = request["TableName"]
        return self.run(
            operation,
            lambda: self.provider.call(operation, request),
            retry=retry,
            timeout=timeout,
            table=table,
        )

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
        the same breaker, retry and deadline semantics as :meth:`call`."""
        policy = retry if retry is not None else self.retry_policy
        deadline = Deadline.start(timeout if timeout is not None else self.timeout, self._clock)
        permit = self.breaker.before_call() if self.breaker is not None else None
        try:
            result = execute(
                attempt,
                policy=policy,
                deadline=deadline,
                sleep=self._sleep,
                random=self._random,
                context=CallContext(operation, table),
                events=self.events,
            )
        except Exception as error:
            if self.breaker is not None and permit is not None:
                self.breaker.record_failure(permit, error)
            raise
        if self.breaker is not None and permit is not None:
            self.breaker.record_success(permit)
        return result

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
