"""One timeout for the whole operation: every attempt and every backoff sleep.

A :class:`Deadline` starts when the operation starts. Before each attempt the retry loop
asks whether it has expired (then the operation fails with TIMEOUT, which the circuit
breaker counts), and no backoff sleep is allowed to run past it.

The deadline cannot interrupt an HTTP call already in flight; that call is bounded by
botocore's ``connect_timeout`` and ``read_timeout``, which the service configures from
the same timeout value, so a hung connection also ends within the operation's budget.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from tctf_dynamo.errors import ErrorCode, InvalidInputError

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "Deadline", "check_timeout"]

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


def check_timeout(timeout: float) -> float:
    """``timeout`` as a float, or INVALID_CONFIGURATION unless it is a number > 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            "timeout must be a number of seconds > 0",
            {"field": "timeout"},
        )
    return float(timeout)
