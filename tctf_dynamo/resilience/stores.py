"""Where circuit breaker state lives: in memory, or in DynamoDB shared by every process.

A store only loads a state and replaces it by compare-and-set on its version; all the
breaker's logic lives in :mod:`.breaker`. The DynamoDB store talks to the provider
directly, never through the breaker or the retry pipeline: the breaker must not guard,
retry or count its own bookkeeping. ``timeout`` on each method is the time the breaker
can spare for that call from the operation it is deciding about; the DynamoDB store
passes it to the provider as the request's socket timeout.

Async breakers use an :class:`AsyncStateStore` (the same methods, awaited; see
:mod:`.async_stores`), or a sync store that never blocks (``blocking = False``, as
:class:`MemoryStateStore`), which they call directly; any other sync store is run in a
worker thread so the event loop never waits on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

from tctf_dynamo import limits
from tctf_dynamo.effects.program import Program, Send, Sleep, run
from tctf_dynamo.providers.base import Provider, send
from tctf_dynamo.resilience.state import BreakerState
from tctf_dynamo.resilience.state_table import DEFAULT_KEY_PREFIX, StateTable, ensure_table

__all__ = [
    "RESERVED_KEY_PREFIX",
    "AsyncStateStore",
    "DynamoDBStateStore",
    "MemoryStateStore",
    "StateStore",
]

T = TypeVar("T")

RESERVED_KEY_PREFIX = limits.RESERVED_KEY_PREFIX
"""Keys starting with this belong to the library (breaker state); entities may not use it."""


class StateStore(Protocol):
    """Keeps breaker states by name."""

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        """The stored state of breaker ``name``, or None if it was never written."""
        ...

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Store ``new`` if the stored version is ``expected_version`` (None: nothing
        stored yet); return whether it was stored."""
        ...


class AsyncStateStore(Protocol):
    """Keeps breaker states by name, for async breakers: :class:`StateStore`, awaited."""

    async def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        """The stored state of breaker ``name``, or None if it was never written."""
        ...

    async def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Store ``new`` if the stored version is ``expected_version``."""
        ...


class MemoryStateStore:
    """A thread-safe store for one process; the default.

    It never waits on I/O (``blocking = False``), so async breakers use it as it is.
    """

    blocking: ClassVar[bool] = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, BreakerState] = {}

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        with self._lock:
            return self._states.get(name)

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        with self._lock:
            current = self._states.get(name)
            if (current.version if current else None) != expected_version:
                return False
            self._states[name] = new
            return True

    def invalidate(self, name: str | None = None) -> None:
        """Nothing is cached: every load is current."""


class DynamoDBStateStore:
    """Breaker state as one item per breaker, shared by every process using the table.

    The item's key is ``key_prefix + name`` (and ``"STATE"`` as sort key if the table has
    one); writes are conditional on the version attribute, so concurrent processes agree
    on every transition. Reads are cached for ``cache_ttl`` seconds so the breaker does
    not add a read to every operation; another process's change is therefore seen at
    most ``cache_ttl`` seconds late. A lost compare-and-set drops the cached entry.

    ``partition_key=None`` reads the table's key attributes with DescribeTable on first
    use (inside that call's time), so building a store never waits on the network.
    For async code, :class:`~.async_stores.AsyncDynamoDBStateStore` is the same store
    over an async provider.
    """

    def __init__(
        self,
        provider: Provider,
        table_name: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        partition_key: str | None = "PK",
        sort_key: str | None = "SK",
        cache_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._table = StateTable(
            table_name,
            key_prefix=key_prefix,
            partition_key=partition_key,
            sort_key=sort_key,
            cache_ttl=cache_ttl,
            clock=clock,
        )
        self.table_name = table_name

    @classmethod
    def create_table(
        cls,
        provider: Provider,
        table_name: str,
        *,
        partition_key: str = "PK",
        sleep: Callable[[float], object] = time.sleep,
        **options: Any,
    ) -> DynamoDBStateStore:
        """Create a dedicated on-demand table (partition key only) unless it exists,
        wait until it is active, and return a store using it."""
        _run(ensure_table(table_name, partition_key), provider, sleep)
        return cls(provider, table_name, partition_key=partition_key, sort_key=None, **options)

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        return _run(self._table.load(name, timeout), self._provider, time.sleep)

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        program = self._table.compare_and_set(name, expected_version, new, timeout)
        return _run(program, self._provider, time.sleep)

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached states (one breaker's, or all) so the next load reads the table."""
        self._table.invalidate(name)


def _run(program: Program[T], provider: Provider, sleep: Callable[[float], object]) -> T:
    """Perform a :mod:`.state_table` program on ``provider``, blocking."""

    def perform(effect: Send | Sleep) -> Any:
        if isinstance(effect, Sleep):
            sleep(effect.seconds)
            return None
        return send(provider, effect.operation, effect.request, effect.timeout)

    return run(program, perform)
