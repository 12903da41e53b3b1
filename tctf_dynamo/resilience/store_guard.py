"""The breaker's shared store, bounded in time and replaced by a local state while down.

:class:`StoreGuard` runs the breaker's decision programs on the shared store within the
store's budget, and knows what a failing store means:

* an unusable store (missing table, denied access, a table whose key schema is not the
  store's) disables the breaker, once, with one warning and a DISABLED transition;
* any other failure, or no answer within the budget, marks the store down for
  ``retry_interval`` seconds: one warning, one failure counted on the local state (a
  store kept in DynamoDB usually fails with it), and the local state decides meanwhile;
* the store answering again brings the shared state back, with one warning, and the
  local state starts afresh.

Everything here is a program (:mod:`tctf_dynamo.effects.program`), so the sync and async
breakers share these rules; the flags it keeps are only ever read and set between
effects, under a lock where two callers may race.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.decisions import Rules, Store, count_failure
from tctf_dynamo.resilience.events import LOGGER_NAME, BreakerTransition, EventSink, publish
from tctf_dynamo.resilience.state import CircuitState
from tctf_dynamo.resilience.store_calls import (
    AsyncStoreInSyncCodeError,
    NoTimeLeftError,
    StoreView,
)
from tctf_dynamo.resilience.stores import MemoryStateStore

__all__ = ["StoreGuard"]

logger = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")

_STORE_UNUSABLE = frozenset(
    {ErrorCode.TABLE_NOT_FOUND, ErrorCode.ACCESS_DENIED, ErrorCode.SERVICE_VALIDATION_FAILED}
)
"""Store errors that mean it can never work as configured: the breaker is disabled."""


class StoreGuard:
    """The shared ``store`` of one breaker, and the local state (decided by
    ``local_rules``) that stands in for it."""

    def __init__(
        self,
        store: Any,
        local_rules: Rules,
        *,
        store_timeout: float,
        retry_interval: float,
        monotonic: Callable[[], float],
        events: EventSink | None,
    ) -> None:
        self._store = store
        self._name = local_rules.name
        self._local_rules = local_rules
        self._store_timeout = store_timeout
        self._retry_interval = retry_interval
        self._monotonic = monotonic
        self._events = events
        self._lock = threading.Lock()
        self._down_until: float | None = None  # monotonic; None while the store answers
        self._local_store = MemoryStateStore()
        self.disabled = False

    @property
    def reachable(self) -> bool:
        return self._down_until is None

    def local(self) -> StoreView:
        """The local state (never fails, never waits)."""
        return StoreView(self._local_store)

    def run(
        self,
        action: Callable[[Store], Program[T]],
        deadline: Deadline | None,
        share: float,
        *,
        force: bool = False,
    ) -> Program[T | None]:
        """``action`` on the shared store within its budget (at most ``share`` of what is
        left of ``deadline``); None if it was skipped or the store failed."""
        down_until = self._down_until
        if down_until is not None and not force and self._monotonic() < down_until:
            return None
        budget = self._budget(deadline, share)
        if budget is None:
            return None  # no time left: nothing to blame the store for
        try:
            result = yield from action(StoreView(self._store, budget))
        except NoTimeLeftError:
            return None
        except AsyncStoreInSyncCodeError:
            raise  # the breaker is misused, not the store down: say so
        except DynamoDBServiceError as error:
            yield from self._failed(error.code.value, error)
            return None
        except Exception as error:  # a broken custom store must not fail the service
            yield from self._failed(type(error).__name__, error)
            return None
        self._answered()
        return result

    def _budget(self, deadline: Deadline | None, share: float) -> Deadline | None:
        if deadline is None:
            return Deadline.start(self._store_timeout, self._monotonic)
        seconds = min(self._store_timeout, deadline.remaining() * share)
        if seconds <= 0:
            return None
        return Deadline.start(seconds, deadline.clock)

    def _failed(self, code: str, error: Exception) -> Program[None]:
        if isinstance(error, DynamoDBServiceError) and error.code in _STORE_UNUSABLE:
            self._disable(error)
            return
        with self._lock:
            first = self._down_until is None
            self._down_until = self._monotonic() + self._retry_interval
        if not first:
            return
        logger.warning(
            "circuit breaker %r cannot reach its state store (%s); deciding locally, "
            "trying the store again every %ss",
            self._name,
            code,
            self._retry_interval,
            extra={"breaker": self._name, "error_code": code, "store": "unreachable"},
        )
        yield from count_failure(self.local(), self._local_rules)  # a signal too

    def _answered(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
            self._local_store = MemoryStateStore()  # the shared state decides again
        logger.warning(
            "circuit breaker %r reaches its state store again; using the shared state",
            self._name,
            extra={"breaker": self._name, "store": "reachable"},
        )

    def _disable(self, error: DynamoDBServiceError) -> None:
        with self._lock:
            if self.disabled:
                return
            self.disabled = True
        logger.warning(
            "circuit breaker %r disabled: its state store is unusable (%s); "
            "operations continue without a circuit breaker",
            self._name,
            error.code.value,
            extra={
                "breaker": self._name,
                "breaker_state": CircuitState.DISABLED.value,
                "error_code": error.code.value,
            },
        )
        transition = BreakerTransition(self._name, "unknown", CircuitState.DISABLED.value)
        publish(self._events, transition, log=False)
