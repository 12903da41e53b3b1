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

**Sync and async.** Every path is a program (:mod:`tctf_dynamo.effects.program`):
:meth:`CircuitBreaker.admit` and :meth:`CircuitBreaker.record` are the breaker's
decisions for a pipeline run by either driver, and the blocking methods (``before_call``,
``record_success``, ``probe``, ...) run the same programs with the sync driver, the
``*_async`` ones with the async driver. Store accesses are effects
(:mod:`.store_calls`), so an async breaker awaits an async store
(:class:`~.async_stores.AsyncDynamoDBStateStore`) or calls a memory store directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from tctf_dynamo.effects.program import Program, run, run_async
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.resilience.classification import classify
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.decisions import (
    INITIAL,
    Rules,
    Store,
    admit,
    count_failure,
    finish_probe,
    release_probe,
)
from tctf_dynamo.resilience.events import BreakerTransition, EventSink, publish
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.store_calls import perform_own, perform_own_async
from tctf_dynamo.resilience.store_guard import StoreGuard
from tctf_dynamo.resilience.stores import AsyncStateStore, StateStore

__all__ = ["CircuitBreaker", "Permit"]

T = TypeVar("T")

_ADMISSION_SHARE = 0.5
"""Before the data call, the store may use at most this share of the time left."""
_DISABLED = BreakerState(state=CircuitState.DISABLED)


@attrs.frozen
class Permit:
    """Leave to make one call, given by :meth:`CircuitBreaker.admit` (and
    :meth:`~CircuitBreaker.before_call`).

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


class CircuitBreaker:
    """A circuit breaker whose shared state lives in ``store`` under ``name``.

    ``store`` is a sync :class:`~.stores.StateStore` or an async
    :class:`~.stores.AsyncStateStore` (then the breaker serves async code only).
    ``clock`` is wall-clock time (``time.time``) because timestamps are compared across
    processes sharing a store; ``monotonic`` times the store's budget and retries.
    ``store_timeout`` is the most one operation spends on the store;
    ``store_retry_interval`` how long the breaker runs locally before trying an
    unreachable store again.
    """

    def __init__(
        self,
        store: StateStore | AsyncStateStore,
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
        self._clock = clock
        self._events = events
        self._shared_rules = self._rules("shared")
        self._local_rules = self._rules("local")
        self._guard = StoreGuard(
            store,
            self._local_rules,
            store_timeout=store_timeout,
            retry_interval=store_retry_interval,
            monotonic=monotonic,
            events=events,
        )

    @property
    def disabled(self) -> bool:
        return self._guard.disabled

    @property
    def store_reachable(self) -> bool:
        """False while the shared store is unreachable and the local breaker decides."""
        return self._guard.reachable

    # programs: every rule, no I/O of their own

    def admit(self, *, deadline: Deadline | None = None) -> Program[Permit]:
        """A permit for one call, or CircuitOpenError (raised inside the program) if
        the call must not be made. The shared store gets at most half of what is left
        of ``deadline``."""
        if self.disabled:
            return _UNTRACKED
        shared = yield from self._guard.run(self._admit_shared, deadline, _ADMISSION_SHARE)
        if self.disabled:
            return _UNTRACKED
        if isinstance(shared, Exception):
            raise shared
        local = yield from admit(self._guard.local(), self._local_rules)
        if isinstance(local, Exception):
            raise local
        return Permit(probe=bool(shared), local_probe=local, shared=shared is not None)

    def record(
        self,
        permit: Permit,
        error: BaseException | None,
        *,
        deadline: Deadline | None = None,
    ) -> Program[None]:
        """Report how the call made under ``permit`` ended: ``error`` None for success."""
        if not permit.tracked or self.disabled:
            return
        if error is None:
            yield from self._settle(permit, CircuitState.CLOSED, deadline)
        elif not isinstance(error, DynamoDBServiceError):
            return  # says nothing about DynamoDB; a lost probe is taken over later
        elif not classify(error).counts_for_breaker:
            yield from self._settle(permit, CircuitState.CLOSED, deadline)  # it answered
        else:
            yield from self._count(permit, deadline)

    def abandon(self, permit: Permit, *, deadline: Deadline | None = None) -> Program[None]:
        """The call made under ``permit`` was interrupted (its task cancelled, or
        ``KeyboardInterrupt``): it says nothing about DynamoDB, so a probe it held is
        handed back for the next caller rather than left to be presumed lost."""
        if not permit.tracked or self.disabled:
            return
        if permit.local_probe:
            yield from release_probe(self._guard.local(), self._local_rules)
        if permit.probe:
            step = _done(release_probe, self._shared_rules)
            yield from self._guard.run(step, deadline, 1.0)

    def probe_program(self) -> Program[bool]:
        """Check the store now (instead of on first use); False if the breaker is
        disabled (its table is missing, or access to it is denied)."""
        yield from self._guard.run(_load_or_initial(self.name), None, 1.0, force=True)
        return not self.disabled

    def state_program(self) -> Program[BreakerState]:
        """The current state: DISABLED when running as a no-op, the local state while
        the shared store is unreachable, else the shared one."""
        if self.disabled:
            return _DISABLED
        local = yield from _load_or_initial(self.name)(self._guard.local())
        loaded = yield from self._guard.run(_load_or_initial(self.name), None, 1.0)
        if self.disabled:
            return _DISABLED
        if loaded is None or local.state is not CircuitState.CLOSED:
            return local
        return loaded

    # the sync API: the programs, run blocking

    def before_call(self, *, deadline: Deadline | None = None) -> Permit:
        """A permit for one call, or CircuitOpenError if the call must not be made.

        The shared store gets at most half of what is left of ``deadline``."""
        return run(self.admit(deadline=deadline), perform_own)

    def record_success(self, permit: Permit, *, deadline: Deadline | None = None) -> None:
        """The call made under ``permit`` succeeded."""
        run(self.record(permit, None, deadline=deadline), perform_own)

    def record_failure(
        self, permit: Permit, error: BaseException, *, deadline: Deadline | None = None
    ) -> None:
        """The call made under ``permit`` failed with ``error``."""
        run(self.record(permit, error, deadline=deadline), perform_own)

    def probe(self) -> bool:
        """Check the store now (instead of on first use); False if the breaker is disabled."""
        return run(self.probe_program(), perform_own)

    def state(self) -> BreakerState:
        """The current state: DISABLED when running as a no-op, the local state while
        the shared store is unreachable, else the shared one."""
        return run(self.state_program(), perform_own)

    # the async API: the same programs, awaited

    async def probe_async(self) -> bool:
        """:meth:`probe` for async code: a missing table or denied access disables the
        breaker, and the store is awaited (never blocking the event loop)."""
        return await run_async(self.probe_program(), perform_own_async)

    async def state_async(self) -> BreakerState:
        """:meth:`state` for async code."""
        return await run_async(self.state_program(), perform_own_async)

    # the steps of the programs

    def _admit_shared(self, store: Store) -> Program[bool | Exception]:
        return admit(store, self._shared_rules)

    def _count(self, permit: Permit, deadline: Deadline | None) -> Program[None]:
        """Count a failure of the call made under ``permit``: in the shared state when
        it can be told, else locally; a probe's failure reopens its circuit instead."""
        if permit.local_probe:
            yield from finish_probe(self._guard.local(), self._local_rules, CircuitState.OPEN)
        heard: bool | None = False
        if permit.probe:
            step = _done(finish_probe, self._shared_rules, CircuitState.OPEN)
            heard = yield from self._guard.run(step, deadline, 1.0)
        elif permit.shared:
            step = _done(count_failure, self._shared_rules)
            heard = yield from self._guard.run(step, deadline, 1.0)
        if not heard and not permit.local_probe:
            yield from count_failure(self._guard.local(), self._local_rules)

    def _settle(
        self, permit: Permit, outcome: CircuitState, deadline: Deadline | None
    ) -> Program[None]:
        """End the probes ``permit`` holds with ``outcome``."""
        if permit.local_probe:
            yield from finish_probe(self._guard.local(), self._local_rules, outcome)
        if permit.probe:
            step = _done(finish_probe, self._shared_rules, outcome)
            yield from self._guard.run(step, deadline, 1.0)

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


def _load_or_initial(name: str) -> Callable[[Store], Program[BreakerState]]:
    """Read breaker ``name``'s state, INITIAL when never written."""

    def action(store: Store) -> Program[BreakerState]:
        stored = yield from store.load(name)
        return stored or INITIAL

    return action


def _done(step: Callable[..., Program[None]], *args: Any) -> Callable[[Store], Program[bool]]:
    """``step(store, *args)`` as an action that says it ran."""

    def action(store: Store) -> Program[bool]:
        yield from step(store, *args)
        return True

    return action


def _require(condition: bool, field: str, rule: str) -> None:
    if not condition:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            f"CircuitBreaker.{field} must be {rule}",
            {"field": field, "rule": rule},
        )
