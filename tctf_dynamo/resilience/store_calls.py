"""The circuit breaker's store accesses as effects, so one set of decisions serves both APIs.

The breaker's transitions (:mod:`.decisions`) and its fallback rules (:mod:`.breaker`) are
programs (:mod:`tctf_dynamo.effects.program`); every read or write of a state store is one
:class:`StoreCall` effect that performs itself:

* ``perform()`` (the sync driver) calls a sync store, blocking;
* ``perform_async()`` (the async driver) awaits an async store's coroutine, calls a
  store that never blocks (``blocking = False``, as :class:`~.stores.MemoryStateStore`)
  directly, and runs any other sync store in a worker thread so the event loop never
  waits on its I/O. An awaited call is also cancelled when its timeout passes, so the
  store's budget holds even for a store that ignores the ``timeout`` it is given.

A :class:`StoreView` is what the decision programs see of one store: its accesses as
programs, each bounded by what is left of one time budget.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import attrs

from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.providers.base import accepts_timeout
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.state import BreakerState

__all__ = [
    "AsyncStoreInSyncCodeError",
    "NoTimeLeftError",
    "StoreCall",
    "StoreView",
    "is_async_store",
    "perform_own",
    "perform_own_async",
]


class NoTimeLeftError(Exception):
    """The operation has no time left for the store: the store is not to blame."""


class AsyncStoreInSyncCodeError(InvalidInputError):
    """A sync driver met an async store: the breaker is misused, the store is not down."""


_ASYNC_STORES: dict[type, bool] = {}


def is_async_store(store: object) -> bool:
    """Whether ``store``'s methods are coroutines (an async store, served by async
    drivers only); worked out once per class, as it is asked on every store call."""
    kind = type(store)
    known = _ASYNC_STORES.get(kind)
    if known is None:
        known = _ASYNC_STORES[kind] = inspect.iscoroutinefunction(getattr(store, "load", None))
    return known


@attrs.frozen(slots=True)
class StoreCall:
    """``store.<method>(*args)``, with ``timeout`` when given and the store accepts it."""

    store: Any
    method: str
    args: tuple[Any, ...]
    timeout: float | None = None

    def perform(self) -> Any:
        if is_async_store(self.store):
            raise AsyncStoreInSyncCodeError(
                ErrorCode.INVALID_CONFIGURATION,
                "this circuit breaker's state store is async: use the breaker from "
                "async code (its programs with an async driver, or the *_async methods)",
                {"field": "store"},
            )
        return getattr(self.store, self.method)(*self.args, **self._keywords())

    async def perform_async(self) -> Any:
        bound = getattr(self.store, self.method)
        if not is_async_store(self.store) and not getattr(self.store, "blocking", True):
            return bound(*self.args, **self._keywords())
        async with asyncio.timeout(self.timeout):  # the budget holds even if ignored
            if is_async_store(self.store):
                return await bound(*self.args, **self._keywords())
            return await asyncio.to_thread(bound, *self.args, **self._keywords())

    def _keywords(self) -> dict[str, Any]:
        if self.timeout is None or not accepts_timeout(self.store, self.method):
            return {}
        return {"timeout": self.timeout}


class StoreView:
    """One store as the decision programs use it: each access a :class:`StoreCall`
    whose timeout is what is left of ``budget`` (None: unbounded, for the local store)."""

    __slots__ = ("_budget", "_store")

    def __init__(self, store: Any, budget: Deadline | None = None) -> None:
        self._store = store
        self._budget = budget

    def load(self, name: str) -> Program[BreakerState | None]:
        state: BreakerState | None = yield StoreCall(self._store, "load", (name,), self._left())
        return state

    def compare_and_set(
        self, name: str, expected_version: int | None, new: BreakerState
    ) -> Program[bool]:
        args = (name, expected_version, new)
        stored: bool = yield StoreCall(self._store, "compare_and_set", args, self._left())
        return stored

    def invalidate(self, name: str) -> None:
        """Drop a cached read (memory only, never I/O, so not an effect)."""
        invalidate = getattr(self._store, "invalidate", None)
        if invalidate is not None:
            invalidate(name)

    def _left(self) -> float | None:
        if self._budget is None:
            return None
        left = self._budget.remaining()
        if left <= 0:
            raise NoTimeLeftError
        return left


def perform_own(effect: Any) -> Any:
    """The sync driver's performer for programs that yield only self-performing effects."""
    return effect.perform()


async def perform_own_async(effect: Any) -> Any:
    """The async driver's performer for the same programs."""
    return await effect.perform_async()
