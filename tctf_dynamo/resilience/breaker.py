"""Fail fast while DynamoDB is unhealthy: the circuit breaker.

States::

    CLOSED --(failure_threshold counted failures within window seconds)--> OPEN
    OPEN --(reset_timeout seconds later, the next caller becomes the probe)--> HALF_OPEN
    HALF_OPEN --(probe succeeds)--> CLOSED        HALF_OPEN --(probe fails)--> OPEN

While OPEN, and while a probe is in flight, :meth:`CircuitBreaker.before_call` raises
CircuitOpenError (CIRCUIT_OPEN) without the backend being called. Only failures that
:mod:`.classification` counts move the breaker; a condition failure or bad input
proves DynamoDB is answering, so a probe ending that way closes the circuit.

All state lives in a :class:`~.stores.StateStore` and every change is a compare-and-set
on its version, so breakers in many processes sharing a DynamoDB store agree on each
transition and exactly one caller wins the probe. A probe whose process died is taken
over once it is older than ``reset_timeout``.

The breaker never fails the service by itself: if its store's table is missing or
access to it is denied, it logs one warning and turns into a no-op (state DISABLED);
any other store error is logged and the call goes ahead (fail open).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from tctf_dynamo.errors import CircuitOpenError, DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.resilience.classification import classify
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, EventSink, publish
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import StateStore

__all__ = ["CircuitBreaker", "Permit"]

logger = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")

_CAS_ROUNDS = 5
"""Compare-and-set attempts per decision; each lost round reloads the fresh state."""
_COUNT_ROUNDS = 64
"""Compare-and-set attempts to count one failure: every lost round means another writer
made progress, so giving up early would drop failures exactly when they come in bursts."""
_STORE_UNUSABLE = frozenset(
    {ErrorCode.TABLE_NOT_FOUND, ErrorCode.ACCESS_DENIED, ErrorCode.SERVICE_VALIDATION_FAILED}
)
"""Store errors that mean it can never work as configured (missing table, no access,
a table whose key schema is not the store's): the breaker is disabled, once, loudly."""


@attrs.frozen
class Permit:
    """Leave to make one call, returned by :meth:`CircuitBreaker.before_call`.

    ``probe`` marks the single call let through to test a recovering backend;
    ``tracked`` is False when the breaker is disabled and recording is pointless.
    """

    probe: bool = False
    tracked: bool = True


_UNTRACKED = Permit(tracked=False)
_INITIAL = BreakerState()


class CircuitBreaker:
    """A circuit breaker whose state lives in ``store`` under ``name``.

    ``clock`` is wall-clock time (``time.time``) because timestamps are compared across
    processes sharing a store.
    """

    def __init__(
        self,
        store: StateStore,
        name: str = "dynamodb",
        *,
        failure_threshold: int = 5,
        window: float = 60.0,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        events: EventSink | None = None,
    ) -> None:
        _require(failure_threshold >= 1, "failure_threshold", ">= 1")
        _require(window > 0, "window", "> 0")
        _require(reset_timeout > 0, "reset_timeout", "> 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.window = window
        self.reset_timeout = reset_timeout
        self._store = store
        self._clock = clock
        self._events = events
        self._disabled = False
        self._lock = threading.Lock()

    @property
    def disabled(self) -> bool:
        return self._disabled

    def probe(self) -> bool:
        """Check the store now (instead of on first use); False if the breaker is disabled."""
        self._guarded(lambda: self._store.load(self.name), None)
        return not self._disabled

    def state(self) -> BreakerState:
        """The current state; DISABLED when running as a no-op, CLOSED if the store failed."""
        if self._disabled:
            return BreakerState(state=CircuitState.DISABLED)
        loaded = self._guarded(lambda: self._store.load(self.name), None)
        if self._disabled:
            return BreakerState(state=CircuitState.DISABLED)
        return loaded or _INITIAL

    def before_call(self) -> Permit:
        """A permit for one call, or CircuitOpenError if the call must not be made."""
        if self._disabled:
            return _UNTRACKED
        fallback: Permit | CircuitOpenError = Permit()
        decision = self._guarded(self._admit, fallback)
        if isinstance(decision, CircuitOpenError):
            raise decision
        return decision if not self._disabled else _UNTRACKED

    def record_success(self, permit: Permit) -> None:
        """The call made under ``permit`` succeeded."""
        if permit.tracked and permit.probe and not self._disabled:
            self._guarded(lambda: self._finish_probe(CircuitState.CLOSED), None)

    def record_failure(self, permit: Permit, error: BaseException) -> None:
        """The call made under ``permit`` failed with ``error``."""
        if not permit.tracked or self._disabled:
            return
        if not isinstance(error, DynamoDBServiceError):
            return  # says nothing about DynamoDB; a lost probe is taken over later
        if not classify(error).counts_for_breaker:
            if permit.probe:  # the backend answered: healthy enough
                self._guarded(lambda: self._finish_probe(CircuitState.CLOSED), None)
            return
        if permit.probe:
            self._guarded(lambda: self._finish_probe(CircuitState.OPEN), None)
        else:
            self._guarded(self._count_failure, None)

    # decisions: each loads, decides and compare-and-sets, reloading after a lost race

    def _admit(self) -> Permit | CircuitOpenError:
        for _ in range(_CAS_ROUNDS):
            stored = self._store.load(self.name)
            current = stored or _INITIAL
            if current.state is CircuitState.CLOSED:
                return Permit()
            now = self._clock()
            wait = self._probe_due(current) - now
            if wait > 0:
                return self._open_error(current, wait)
            probing = attrs.evolve(
                current,
                state=CircuitState.HALF_OPEN,
                probe_started_at=now,
                version=current.version + 1,
            )
            if self._store.compare_and_set(self.name, _version(stored), probing):
                if current.state is not CircuitState.HALF_OPEN:
                    self._announce(current.state, CircuitState.HALF_OPEN)
                return Permit(probe=True)
        return self._open_error(current, 0.0)

    def _count_failure(self) -> None:
        for _ in range(_COUNT_ROUNDS):
            stored = self._store.load(self.name)
            current = stored or _INITIAL
            if current.state is not CircuitState.CLOSED:
                return  # already open: nothing more to learn
            now = self._clock()
            recent = (*(t for t in current.failures if t > now - self.window), now)
            if len(recent) >= self.failure_threshold:
                new = BreakerState(CircuitState.OPEN, (), now, None, current.version + 1)
            else:
                new = attrs.evolve(current, failures=recent, version=current.version + 1)
            if self._store.compare_and_set(self.name, _version(stored), new):
                if new.state is CircuitState.OPEN:
                    self._announce(CircuitState.CLOSED, CircuitState.OPEN)
                return
        logger.warning(
            "circuit breaker could not record a failure: too many concurrent writers",
            extra={"breaker": self.name, "rounds": _COUNT_ROUNDS},
        )

    def _finish_probe(self, outcome: CircuitState) -> None:
        for attempt in range(_CAS_ROUNDS):
            stored = self._store.load(self.name)
            if stored is None or stored.state is not CircuitState.HALF_OPEN:
                invalidate = getattr(self._store, "invalidate", None)
                if attempt == 0 and invalidate is not None:
                    invalidate(self.name)  # a cached read may predate our own probe
                    continue
                return  # another caller already settled it
            opened_at = self._clock() if outcome is CircuitState.OPEN else None
            new = BreakerState(outcome, (), opened_at, None, stored.version + 1)
            if self._store.compare_and_set(self.name, stored.version, new):
                self._announce(CircuitState.HALF_OPEN, outcome)
                return

    def _probe_due(self, state: BreakerState) -> float:
        """When the next probe may start: reset_timeout after opening, or after the
        current probe started (a probe that old is presumed lost)."""
        since = state.opened_at if state.state is CircuitState.OPEN else state.probe_started_at
        return (since or 0.0) + self.reset_timeout

    def _open_error(self, state: BreakerState, wait: float) -> CircuitOpenError:
        return CircuitOpenError(
            ErrorCode.CIRCUIT_OPEN,
            f"circuit breaker {self.name!r} is {state.state.value}; call not sent",
            {"name": self.name, "state": state.state.value, "retry_after": max(0.0, wait)},
        )

    # store failures never reach the caller

    def _guarded(self, action: Callable[[], T], fallback: T) -> T:
        try:
            return action()
        except DynamoDBServiceError as error:
            if error.code in _STORE_UNUSABLE:
                self._disable(error)
            else:
                logger.warning(
                    "circuit breaker %r store failed (%s); proceeding without it",
                    self.name,
                    error.code.value,
                    extra={"breaker": self.name, "error_code": error.code.value},
                )
        except Exception:
            logger.exception("circuit breaker %r store failed; proceeding without it", self.name)
        return fallback

    def _disable(self, error: DynamoDBServiceError) -> None:
        with self._lock:
            if self._disabled:
                return
            self._disabled = True
        logger.warning(
            "circuit breaker %r disabled: its state store is unusable (%s); "
            "operations continue without a circuit breaker",
            self.name,
            error.code.value,
            extra={
                "breaker": self.name,
                "breaker_state": CircuitState.DISABLED.value,
                "error_code": error.code.value,
            },
        )
        transition = BreakerTransition(self.name, "unknown", CircuitState.DISABLED.value)
        publish(self._events, transition, log=False)

    def _announce(self, before: CircuitState, after: CircuitState) -> None:
        publish(self._events, BreakerTransition(self.name, before.value, after.value))


def _version(stored: BreakerState | None) -> int | None:
    return stored.version if stored is not None else None


def _require(condition: bool, field: str, rule: str) -> None:
    if not condition:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            f"CircuitBreaker.{field} must be {rule}",
            {"field": field, "rule": rule},
        )
