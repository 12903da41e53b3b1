"""One timeout for the whole operation: every attempt and every backoff sleep.

A :class:`Deadline` starts when the operation starts. Before each attempt the retry loop
asks whether it has expired (then the operation fails with TIMEOUT, which the circuit
breaker counts), and no backoff sleep is allowed to run past it.

The deadline cannot interrupt an HTTP call already in flight, so each attempt is sent
with its own socket timeout: the smaller of the attempt timeout (see
:meth:`~.policy.RetryPolicy.attempt_cap`) and what is left of the deadline. A hung
attempt is then abandoned early enough for a retry to fit inside the deadline, and the
last one ends with it.

Attempt bodies given to ``run`` that call a provider themselves read their attempt's
timeout with :func:`attempt_timeout` and pass it on as ``provider.call(..., timeout=)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

from tctf_dynamo.errors import ErrorCode, InvalidInputError

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "Deadline",
    "attempt_scope",
    "attempt_timeout",
    "check_timeout",
    "enclosing_deadline",
    "operation_scope",
]

DEFAULT_TIMEOUT_SECONDS = 30.0


@attrs.frozen
class Deadline:
    """A point in time on an injected monotonic clock."""

    timeout: float
    expires_at: float
    clock: Callable[[], float] = attrs.field(repr=False)

    @classmethod
    def start(cls, timeout: float, clock: Callable[[], float]) -> Deadline:
        """A deadline ``timeout`` seconds from now on ``clock``."""
        timeout = check_timeout(timeout)
        return cls(timeout=timeout, expires_at=clock() + timeout, clock=clock)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        return self.clock() >= self.expires_at

    def bounded(self, cap: float) -> float:
        """``cap`` seconds, or less if the deadline comes sooner (never negative)."""
        return min(cap, self.remaining())

    def within(self, outer: Deadline | None) -> Deadline:
        """This deadline, or ``outer`` when that one comes first: a call made on behalf
        of an operation (a read-back, a describe) ends when the operation must."""
        if outer is None or outer.clock is not self.clock or outer.expires_at >= self.expires_at:
            return self
        return outer


_OPERATION: ContextVar[Deadline | None] = ContextVar("tctf_dynamo_operation", default=None)


def enclosing_deadline() -> Deadline | None:
    """The deadline of the operation this thread is running calls for, if any."""
    return _OPERATION.get()


@contextmanager
def operation_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Every call made inside ends by ``deadline`` (or by its own, if sooner)."""
    token = _OPERATION.set(deadline)
    try:
        yield deadline
    finally:
        _OPERATION.reset(token)


_ATTEMPT_TIMEOUT: ContextVar[float | None] = ContextVar("tctf_dynamo_attempt", default=None)


def attempt_timeout() -> float | None:
    """The socket timeout of the attempt running now, on this thread (None outside one).

    For attempt bodies passed to ``DynamoDBService.run`` that call the provider
    directly: ``service.provider.call(operation, request, timeout=attempt_timeout())``.
    """
    return _ATTEMPT_TIMEOUT.get()


@contextmanager
def attempt_scope(timeout: float) -> Iterator[float]:
    """Make ``timeout`` what :func:`attempt_timeout` returns while the attempt runs."""
    token = _ATTEMPT_TIMEOUT.set(timeout)
    try:
        yield timeout
    finally:
        _ATTEMPT_TIMEOUT.reset(token)


def check_timeout(timeout: float) -> float:
    """``timeout`` as a float, or INVALID_CONFIGURATION unless it is a number > 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            "timeout must be a number of seconds > 0",
            {"field": "timeout"},
        )
    return float(timeout)
