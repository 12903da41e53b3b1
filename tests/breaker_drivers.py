"""One breaker test body, two drivers: the sync API and the async one.

A test takes a :class:`Driver` (the ``driver`` fixture of the tests that use it) and
goes through it for everything that differs between the APIs: the breaker's calls, the
DynamoDB state store and its provider, and test stores. The async driver runs each call
on one event loop of its own, awaiting the breaker's programs, async stores and an async
provider (:func:`tests.aio_support.awaited`: over HTTP the real async transport, which
keeps its connection pool on that loop; otherwise the sync provider run in worker
threads), so the same assertions check both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tctf_dynamo.effects.program import Program, run, run_async
from tctf_dynamo.providers.base import Provider
from tctf_dynamo.resilience.async_stores import AsyncDynamoDBStateStore
from tctf_dynamo.resilience.breaker import CircuitBreaker, Permit
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.state import BreakerState
from tctf_dynamo.resilience.store_calls import perform_own, perform_own_async
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tests.aio_support import awaited


class AsyncStoreOf:
    """A sync test store seen as an async one (its methods are coroutines)."""

    def __init__(self, store: Any) -> None:
        self.inner = store

    async def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        return self.inner.load(name, timeout=timeout)  # type: ignore[no-any-return]

    async def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        return self.inner.compare_and_set(  # type: ignore[no-any-return]
            name, expected_version, new, timeout=timeout
        )


class SyncDriver:
    """The blocking API: the breaker's own sync methods, the sync DynamoDB store."""

    name = "sync"

    def before_call(self, breaker: CircuitBreaker, deadline: Deadline | None = None) -> Permit:
        return breaker.before_call(deadline=deadline)

    def record(
        self,
        breaker: CircuitBreaker,
        permit: Permit,
        error: BaseException | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        if error is None:
            breaker.record_success(permit, deadline=deadline)
        else:
            breaker.record_failure(permit, error, deadline=deadline)

    def state(self, breaker: CircuitBreaker) -> BreakerState:
        return breaker.state()

    def probe(self, breaker: CircuitBreaker) -> bool:
        return breaker.probe()

    def store(self, store: Any) -> Any:
        """A test store as this driver's breakers use it."""
        return store

    def dynamodb_store(self, provider: Provider, table: str, **options: Any) -> Any:
        return DynamoDBStateStore(provider, table, **options)

    def create_table(self, provider: Provider, table: str, **options: Any) -> Any:
        return DynamoDBStateStore.create_table(provider, table, **options)

    def await_store(self, call: Callable[[], Any]) -> Any:
        """The result of one store method call (``call()``)."""
        return call()

    def run(self, program: Program[Any]) -> Any:
        return run(program, perform_own)


class AsyncDriver:
    """The async API: the breaker's programs awaited, async stores, an async provider."""

    name = "async"

    def before_call(self, breaker: CircuitBreaker, deadline: Deadline | None = None) -> Permit:
        return self.run(breaker.admit(deadline=deadline))  # type: ignore[no-any-return]

    def record(
        self,
        breaker: CircuitBreaker,
        permit: Permit,
        error: BaseException | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.run(breaker.record(permit, error, deadline=deadline))

    def state(self, breaker: CircuitBreaker) -> BreakerState:
        return _run(breaker.state_async())

    def probe(self, breaker: CircuitBreaker) -> bool:
        return _run(breaker.probe_async())

    def store(self, store: Any) -> Any:
        return AsyncStoreOf(store)

    def dynamodb_store(self, provider: Provider, table: str, **options: Any) -> Any:
        return AsyncDynamoDBStateStore(awaited(provider), table, **options)

    def create_table(self, provider: Provider, table: str, **options: Any) -> Any:
        return _run(AsyncDynamoDBStateStore.create_table(awaited(provider), table, **options))

    def await_store(self, call: Callable[[], Any]) -> Any:
        async def called() -> Any:
            return await call()

        return _run(called())

    def run(self, program: Program[Any]) -> Any:
        return _run(run_async(program, perform_own_async))


_LOOP = asyncio.Runner()
"""The async driver's one event loop (a provider's connection pool is bound to one)."""


def _run(coroutine: Any) -> Any:
    return _LOOP.run(coroutine)


Driver = SyncDriver | AsyncDriver
DRIVERS: tuple[Driver, ...] = (SyncDriver(), AsyncDriver())
