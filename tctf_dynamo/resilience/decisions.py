"""The circuit breaker's transitions, each a load, a decision and a compare-and-set.

Each transition is a program (:mod:`tctf_dynamo.effects.program`) whose store accesses are
effects (:mod:`.store_calls`), so the same rules run under the sync and the async driver,
and drive both the shared state (kept in DynamoDB by every process) and the local one a
process falls back to while the shared store cannot be reached. Store errors propagate:
what a failing store means is decided by :mod:`.breaker`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import attrs

from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import CircuitOpenError, ErrorCode
from tctf_dynamo.resilience.events import LOGGER_NAME
from tctf_dynamo.resilience.state import BreakerState, CircuitState

__all__ = ["Rules", "Store", "admit", "count_failure", "finish_probe", "release_probe"]

logger = logging.getLogger(LOGGER_NAME)

_CAS_ROUNDS = 5
"""Compare-and-set attempts per decision; each lost round reloads the fresh state."""
_COUNT_ROUNDS = 64
"""Compare-and-set attempts to count one failure: every lost round means another writer
made progress, so giving up early would drop failures exactly when they come in bursts."""
INITIAL = BreakerState()


class Store(Protocol):
    """What the transitions need of a store, each access a program (a budget may already
    be bound to it): a :class:`~.store_calls.StoreView`."""

    def load(self, name: str) -> Program[BreakerState | None]: ...

    def compare_and_set(
        self, name: str, expected_version: int | None, new: BreakerState
    ) -> Program[bool]: ...

    def invalidate(self, name: str) -> None: ...


@attrs.frozen
class Rules:
    """One breaker's thresholds, its clock (wall time) and how it announces changes."""

    name: str
    failure_threshold: int
    window: float
    reset_timeout: float
    clock: Callable[[], float]
    announce: Callable[[CircuitState, CircuitState], None]


def admit(store: Store, rules: Rules) -> Program[bool | CircuitOpenError]:
    """True for the probe, False for an ordinary call, or the error refusing the call."""
    current = INITIAL
    for _ in range(_CAS_ROUNDS):
        stored = yield from store.load(rules.name)
        current = stored or INITIAL
        if current.state is CircuitState.CLOSED:
            return False
        now = rules.clock()
        wait = _probe_due(current, rules) - now
        if wait > 0:
            return open_error(rules.name, current, wait)
        probing = attrs.evolve(
            current,
            state=CircuitState.HALF_OPEN,
            probe_started_at=now,
            version=current.version + 1,
        )
        if (yield from store.compare_and_set(rules.name, _version(stored), probing)):
            if current.state is not CircuitState.HALF_OPEN:
                rules.announce(current.state, CircuitState.HALF_OPEN)
            return True
    return open_error(rules.name, current, 0.0)


def count_failure(store: Store, rules: Rules) -> Program[None]:
    """Add one failure at now; open the circuit when the window holds the threshold."""
    for _ in range(_COUNT_ROUNDS):
        stored = yield from store.load(rules.name)
        current = stored or INITIAL
        if current.state is not CircuitState.CLOSED:
            return  # already open: nothing more to learn
        now = rules.clock()
        recent = (*(t for t in current.failures if t > now - rules.window), now)
        if len(recent) >= rules.failure_threshold:
            new = BreakerState(CircuitState.OPEN, (), now, None, current.version + 1)
        else:
            new = attrs.evolve(current, failures=recent, version=current.version + 1)
        if (yield from store.compare_and_set(rules.name, _version(stored), new)):
            if new.state is CircuitState.OPEN:
                rules.announce(CircuitState.CLOSED, CircuitState.OPEN)
            return
    logger.warning(
        "circuit breaker could not record a failure: too many concurrent writers",
        extra={"breaker": rules.name, "rounds": _COUNT_ROUNDS},
    )


def finish_probe(store: Store, rules: Rules, outcome: CircuitState) -> Program[None]:
    """Close (or reopen) a half-open circuit after its probe; once only, by version."""
    for attempt in range(_CAS_ROUNDS):
        stored = yield from store.load(rules.name)
        if stored is None or stored.state is not CircuitState.HALF_OPEN:
            if attempt == 0:
                store.invalidate(rules.name)  # a cached read may predate our own probe
                continue
            return  # another caller already settled it
        opened_at = rules.clock() if outcome is CircuitState.OPEN else None
        new = BreakerState(outcome, (), opened_at, None, stored.version + 1)
        if (yield from store.compare_and_set(rules.name, stored.version, new)):
            rules.announce(CircuitState.HALF_OPEN, outcome)
            return


def release_probe(store: Store, rules: Rules) -> Program[None]:
    """Hand back the probe of a half-open circuit whose caller was interrupted before it
    learnt anything: the next caller may probe at once, instead of every caller being
    refused until the probe is presumed lost (``reset_timeout`` after it started)."""
    stored = yield from store.load(rules.name)
    if stored is None or stored.state is not CircuitState.HALF_OPEN:
        return  # another caller already settled it
    due_now = rules.clock() - rules.reset_timeout
    released = attrs.evolve(stored, probe_started_at=due_now, version=stored.version + 1)
    yield from store.compare_and_set(rules.name, stored.version, released)


def open_error(name: str, state: BreakerState, wait: float) -> CircuitOpenError:
    return CircuitOpenError(
        ErrorCode.CIRCUIT_OPEN,
        f"circuit breaker {name!r} is {state.state.value}; call not sent",
        {"name": name, "state": state.state.value, "retry_after": max(0.0, wait)},
    )


def _probe_due(state: BreakerState, rules: Rules) -> float:
    """When the next probe may start: reset_timeout after opening, or after the current
    probe started (a probe that old is presumed lost)."""
    since = state.opened_at if state.state is CircuitState.OPEN else state.probe_started_at
    return (since or 0.0) + rules.reset_timeout


def _version(stored: BreakerState | None) -> int | None:
    return stored.version if stored is not None else None
