"""How many times to try and how long to wait in between: :class:`RetryPolicy`.

The delay before retry ``n`` (the first retry is ``n = 1``) is, exactly::

    exponential = min(max_delay, base_delay * 2 ** (n - 1))
    factor      = 1 - jitter + 2 * jitter * random()      # uniform in [1 - jitter, 1 + jitter]
    delay       = min(max_delay, exponential * factor)

so it doubles per retry, never exceeds ``max_delay``, and differs between clients by up
to ``jitter`` either way, which keeps clients throttled together from retrying in
lockstep. ``random`` is injected so tests can pin the factor.

``attempt_timeout`` bounds one attempt on the network (its socket timeout). Unset, it is
the operation's timeout divided by ``max_attempts``, so that every attempt the policy
allows can hang and be abandoned and the operation still ends on its deadline; a hung
first attempt always leaves room for a retry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from tctf_dynamo.errors import ErrorCode, InvalidInputError

__all__ = ["RetryPolicy"]


def _check(condition: bool, field: str, rule: str) -> None:
    if not condition:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            f"RetryPolicy.{field} must be {rule}",
            {"field": field, "rule": rule},
        )


@attrs.frozen
class RetryPolicy:
    """Attempts and backoff of one operation; the operation's timeout bounds them all."""

    max_attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 5.0
    jitter: float = 0.1
    attempt_timeout: float | None = None

    def __attrs_post_init__(self) -> None:
        _check(
            self.attempt_timeout is None
            or (_is_number(self.attempt_timeout) and self.attempt_timeout > 0),
            "attempt_timeout",
            "None or > 0",
        )
        _check(_is_int(self.max_attempts) and self.max_attempts >= 1, "max_attempts", ">= 1")
        _check(_is_number(self.base_delay) and self.base_delay >= 0, "base_delay", ">= 0")
        _check(_is_number(self.max_delay) and self.max_delay >= 0, "max_delay", ">= 0")
        _check(_is_number(self.jitter) and 0 <= self.jitter <= 1, "jitter", "in [0, 1]")

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

    def attempt_cap(self, operation_timeout: float) -> float:
        """The longest one attempt may wait for DynamoDB under an operation timeout."""
        if self.attempt_timeout is not None:
            return float(self.attempt_timeout)
        return operation_timeout / self.max_attempts

    def backoff(self, retry_number: int, random: Callable[[], float]) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        _check(retry_number >= 1, "backoff(retry_number)", ">= 1 (the first retry is 1)")
        exponent = min(retry_number - 1, 1023)  # 2.0 ** 1024 overflows a float
        exponential = min(self.max_delay, self.base_delay * 2.0**exponent)
        factor = 1.0 - self.jitter + 2.0 * self.jitter * random()
        return min(self.max_delay, exponential * factor)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
