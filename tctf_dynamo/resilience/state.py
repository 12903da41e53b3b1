"""The circuit breaker's state as a value, so any store can keep and compare it."""

from __future__ import annotations

from enum import StrEnum

import attrs

__all__ = ["BreakerState", "CircuitState"]


class CircuitState(StrEnum):
    """Where a circuit breaker is.

    ``DISABLED`` is never stored: it is what a breaker reports when its store turned out
    to be unusable (table missing, access denied) and it runs as a no-op.
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    DISABLED = "disabled"


@attrs.frozen
class BreakerState:
    """One breaker's shared state.

    ``failures`` are the wall-clock times of the counted failures still inside the
    window (closed state only); ``opened_at`` is when the circuit last opened;
    ``probe_started_at`` when the current half-open probe was let through. ``version``
    grows by one on every write and is what compare-and-set compares, so two processes
    never both win the same transition.
    """

    state: CircuitState = CircuitState.CLOSED
    failures: tuple[float, ...] = ()
    opened_at: float | None = None
    probe_started_at: float | None = None
    version: int = 0
