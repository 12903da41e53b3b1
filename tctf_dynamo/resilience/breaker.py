"""Fail fast while DynamoDB is unhealthy: the circuit breaker.

States::

    CLOSED --(failure_threshold counted failures within window seconds)--> OPEN
    OPEN --(reset_timeout seconds later, the next caller becomes the probe)--> HALF_OPEN
    HALF_OPEN --(probe succeeds)--> CLOSED        HALF_OPEN --(probe fails)--> OPEN

While OPEN, and while a probe is in flight, :meth:`CircuitBreaker.before_call` raises
CircuitOpenError (CIRCUIT_OPEN) without the backend being called. Only failures that
:mod:`.classification` counts move the breaker; a condition failure or bad input
proves DynamoDB is answering, so a probe ending that way closes the circuit.

The shared state lives in a :class:`~.stores.StateStore` and every change is a
compare-and-set on its version (see :mod:`.decisions`), so breakers in many processes
sharing a DynamoDB store agree on each transition and exactly one caller wins the probe.

**When the store cannot be reached** (it fails, or does not answer within its budget),
a local breaker in this process takes over: the same rules on an in-memory state, fed
by the data path's failures. The store's unavailability is itself counted as one
failure, since a store kept in DynamoDB usually fails with it. The store is tried again
every ``store_retry_interval`` seconds, and once it answers the shared state is used
again (the local one starts afresh). A failure the store could not be told about (it
was down, or the operation had no time left) is counted locally too, and a locally
open circuit refuses this process's calls until its own probe succeeds.

**Time.** Every store call made for an operation is spent from that operation's
deadline: at most ``store_timeout`` seconds, and before the call at most half of what is
left, so a slow store never takes the data call's time. One warning is logged per change:
the circuit opening or closing, the store becoming unreachable, the store answering again.

If the store's table is missing or access to it is denied, the breaker logs one
warning and turns into a no-op (state DISABLED).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.providers.base import accepts_timeout
from tctf_dynamo.resilience.classification import classify
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.decisions import (
    INITIAL,
    Rules,
    Store,
    admit,
    count_failure,
    finish_probe,
)
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, EventSink, publish
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import MemoryStateStore, StateStore

__all__ = ["CircuitBreaker", "Permit"]

logger = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")

_STORE_UNUSABLE = frozenset(
    {ErrorCode.TABLE_NOT_FOUND, ErrorCode.ACCESS_DENIED, ErrorCode.SERVICE_VALIDATION_FAILED}
)
"""Store errors that mean it can never work as configured (missing table, no access,
a table whose key schema is not the store's): the breaker is disabled, once, loudly."""
_ADMISSION_SHARE = 0.5
"""Before the data call, the store may use at most this share of the time left."""


@attrs.frozen
class Permit:
    """Leave to make one call, returned by :meth:`CircuitBreaker.before_call`.

    ``probe`` marks the single call let through to test a recovering backend (in the
    shared state); ``local_probe`` the same in this process's local state; ``shared``
    is False when the shared store was not consulted (unreachable), so the outcome is
    recorded locally; ``tracked`` is False when the breaker is disabled.
    """

    probe: bool = False
    tracked: bool = True
    local_probe: bool = False
    shared: bool = True


_UNTRACKED = Permit(tracked=False)


class _NoTimeLeftError(Exception):
    """The operation has no time left for the store: the store is not to blame."""


class _Budgeted:
    """The shared store with every call bounded by what is left of one budget."""

    def __init__(self, store: StateStore, budget: Deadline | None) -> None:
        self._store = store
        self._budget = budget

    def load(self, name: str) -> BreakerState | None:
        return self._store.load(name, **self._timeout("load"))

    def compare_and_set(self, name: str, expected_version: int | None, new: BreakerState) -> bool:
        return self._store.compare_and_set(
            name, expected_version, new, **self._timeout("compare_and_set")
        )

    def invalidate(self, name: str) -> None:
        invalidate = getattr(self._store, "invalidate", None)
        if invalidate is not None:
            invalidate(name)

    def _timeout(self, method: str) -> dict[str, Any]:
        if self._budget is None:
            return {}
        left = self._budget.remaining()
        if left <= 0:
            raise _NoTimeLeftError
        return {"timeout": left} if accepts_timeout(self._store, method) else {}


class CircuitBreaker:
    """A circuit breaker whose shared state lives in ``store`` under ``name``.

    ``clock`` is wall-clock time (``time.time``) because timestamps are compared across
    processes sharing a store; ``monotonic`` times the store's budget and retries.
    ``store_timeout`` is the most one operation spends on the store;
    ``store_retry_interval`` how long the breaker runs locally before trying an
    unreachable store again.
    """

    def __init__(
        self,
        store: StateStore,
        name: str = "dynamodb",
        *,
        failure_threshold: int = 5,
        window: float = 60.0,
        reset_timeout: float = 30.0,
        store_timeout: float = 0.5,
        store_retry_interval: float = 5.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        events: EventSink | None = None,
    ) -> None:
        _require(failure_threshold >= 1, "failure_threshold", ">= 1")
        _require(window > 0, "window", "> 0")
        _require(reset_timeout > 0, "reset_timeout", "> 0")
        _require(store_timeout > 0, "store_timeout", "> 0")
        _require(store_retry_interval > 0, "store_retry_interval", "> 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.window = window
        self.reset_timeout = reset_timeout
        self.store_timeout = store_timeout
        self.store_retry_interval = store_retry_interval
        self._store = store
        self._clock = clock
        self._monotonic = monotonic
        self._events = events
        self._disabled = False
        self._lock = threading.Lock()
        self._down_until: float | None = None  # monotonic; None while the store answers
        self._local = MemoryStateStore()
        self._shared_rules = self._rules("shared")
        self._local_rules = self._rules("local")

    @property
    def disabled(self) -> bool:
        return self._disabled

    @property
    def store_reachable(self) -> bool:
        """False while the shared store is unreachable and the local breaker decides."""
        return self._down_until is None

    def probe(self) -> bool:
        """Check the store now (instead of on first use); False if the breaker is disabled."""
        self._shared(lambda store: store.load(self.name), None, None, force=True)
        return not self._disabled

    def state(self) -> BreakerState:
        """The current state: DISABLED when running as a no-op, the local state while
        the shared store is unreachable, else the shared one."""
        if self._disabled:
            return BreakerState(state=CircuitState.DISABLED)
        local = self._local.load(self.name) or INITIAL
        loaded = self._shared(lambda store: store.load(self.name) or INITIAL, None, None)
        if self._disabled:
            return BreakerState(state=CircuitState.DISABLED)
        if loaded is None or local.state is not CircuitState.CLOSED:
            return local
        return loaded

    def before_call(self, *, deadline: Deadline | None = None) -> Permit:
        """A permit for one call, or CircuitOpenError if the call must not be made.

        The shared store gets at most half of what is left of ``deadline``."""
        if self._disabled:
            return _UNTRACKED
        shared = self._shared(
            lambda store: admit(store, self._shared_rules), deadline, _ADMISSION_SHARE
        )
        if self._disabled:
            return _UNTRACKED
        if isinstance(shared, Exception):
            raise shared
        local = admit(self._local, self._local_rules)
        if isinstance(local, Exception):
            raise local
        return Permit(probe=bool(shared), local_probe=local, shared=shared is not None)

    def record_success(self, permit: Permit, *, deadline: Deadline | None = None) -> None:
        """The call made under ``permit`` succeeded."""
        self._settle(permit, CircuitState.CLOSED, deadline)

    def record_failure(
        self, permit: Permit, error: BaseException, *, deadline: Deadline | None = None
    ) -> None:
        """The call made under ``permit`` failed with ``error``."""
        if not permit.tracked or self._disabled:
            return
        if not isinstance(error, DynamoDBServiceError):
            return  # says nothing about DynamoDB; a lost probe is taken over later
        if not classify(error).counts_for_breaker:
            self._settle(permit, CircuitState.CLOSED, deadline)  # the backend answered
            return
        if permit.local_probe:
            finish_probe(self._local, self._local_rules, CircuitState.OPEN)
        if permit.probe:
            heard = self._shared(
                _done(finish_probe, self._shared_rules, CircuitState.OPEN), deadline, 1.0
            )
        else:
            heard = permit.shared and self._shared(
                _done(count_failure, self._shared_rules), deadline, 1.0
            )
        if not heard and not permit.local_probe:
            count_failure(self._local, self._local_rules)

    def _settle(self, permit: Permit, outcome: CircuitState, deadline: Deadline | None) -> None:
        """End the probes ``permit`` holds with ``outcome``."""
        if not permit.tracked or self._disabled:
            return
        if permit.local_probe:
            finish_probe(self._local, self._local_rules, outcome)
        if permit.probe:
            self._shared(
                lambda store: finish_probe(store, self._shared_rules, outcome), deadline, 1.0
            )

    # the shared store: bounded, and replaced by the local breaker while it is down

    def _shared(
        self,
        action: Callable[[Store], T],
        deadline: Deadline | None,
        share: float | None,
        *,
        force: bool = False,
    ) -> T | None:
        """``action`` on the shared store within its budget; None if it was skipped or
        failed (then the store is marked down and the failure is counted locally)."""
        down_until = self._down_until
        if down_until is not None and not force and self._monotonic() < down_until:
            return None
        budget = self._budget(deadline, share)
        if budget is None and deadline is not None:
            return None  # no time left: nothing to blame the store for
        try:
            result = action(_Budgeted(self._store, budget))
        except _NoTimeLeftError:
            return None
        except DynamoDBServiceError as error:
            self._store_failed(error.code.value, error)
            return None
        except Exception as error:  # a broken custom store must not fail the service
            self._store_failed(type(error).__name__, error)
            return None
        self._store_answered()
        return result

    def _budget(self, deadline: Deadline | None, share: float | None) -> Deadline | None:
        if deadline is None:
            return Deadline.start(self.store_timeout, self._monotonic)
        seconds = min(self.store_timeout, deadline.remaining() * (share or 1.0))
        if seconds <= 0:
            return None
        return Deadline.start(seconds, deadline.clock)

    def _store_failed(self, code: str, error: Exception) -> None:
        if isinstance(error, DynamoDBServiceError) and error.code in _STORE_UNUSABLE:
            self._disable(error)
            return
        with self._lock:
            first = self._down_until is None
            self._down_until = self._monotonic() + self.store_retry_interval
        if not first:
            return
        logger.warning(
            "circuit breaker %r cannot reach its state store (%s); deciding locally, "
            "trying the store again every %ss",
            self.name,
            code,
            self.store_retry_interval,
            extra={"breaker": self.name, "error_code": code, "store": "unreachable"},
        )
        count_failure(self._local, self._local_rules)  # the store failing is a signal too

    def _store_answered(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
            self._local = MemoryStateStore()  # the shared state decides again
        logger.warning(
            "circuit breaker %r reaches its state store again; using the shared state",
            self.name,
            extra={"breaker": self.name, "store": "reachable"},
        )

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

    def _rules(self, scope: str) -> Rules:
        def announce(before: CircuitState, after: CircuitState) -> None:
            transition = BreakerTransition(self.name, before.value, after.value, scope)
            publish(self._events, transition)

        return Rules(
            self.name,
            self.failure_threshold,
            self.window,
            self.reset_timeout,
            self._clock,
            announce,
        )


def _done(step: Callable[..., None], *args: Any) -> Callable[[Store], bool]:
    """``step(store, *args)`` as an action that says it ran."""

    def action(store: Store) -> bool:
        step(store, *args)
        return True

    return action


def _require(condition: bool, field: str, rule: str) -> None:
    if not condition:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            f"CircuitBreaker.{field} must be {rule}",
            {"field": field, "rule": rule},
        )
