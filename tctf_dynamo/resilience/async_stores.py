"""Breaker state in DynamoDB for async breakers: the DynamoDB store over an async provider.

:class:`AsyncDynamoDBStateStore` keeps the same item in the same table layout as
:class:`~.stores.DynamoDBStateStore` (sync and async processes can share one breaker),
builds the same requests, parses the same answers and caches by the same rules: all of
that is :class:`~.state_table.StateTable`; this module only awaits its requests on an
:class:`~tctf_dynamo.providers.base.AsyncProvider`, each with the per-call timeout the
breaker gives it from the operation's budget. Failures are the provider's
:class:`~tctf_dynamo.errors.DynamoDBServiceError`, as in the sync store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tctf_dynamo.effects.program import Program, Send, Sleep, run_async
from tctf_dynamo.providers.base import AsyncProvider, accepts_timeout
from tctf_dynamo.resilience.state import BreakerState
from tctf_dynamo.resilience.state_table import DEFAULT_KEY_PREFIX, StateTable, ensure_table

__all__ = ["AsyncDynamoDBStateStore"]

T = TypeVar("T")


class AsyncDynamoDBStateStore:
    """:class:`~.stores.DynamoDBStateStore` for async breakers: the same arguments, the
    same table layout and cache, with ``load`` and ``compare_and_set`` awaited.

    ``partition_key=None`` reads the table's key attributes with DescribeTable on first
    use (inside that call's time), so building a store never waits on the network.
    """

    def __init__(
        self,
        provider: AsyncProvider,
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
    async def create_table(
        cls,
        provider: AsyncProvider,
        table_name: str,
        *,
        partition_key: str = "PK",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        **options: Any,
    ) -> AsyncDynamoDBStateStore:
        """Create a dedicated on-demand table (partition key only) unless it exists,
        wait until it is active, and return a store using it."""
        await _run(ensure_table(table_name, partition_key), provider, sleep)
        return cls(provider, table_name, partition_key=partition_key, sort_key=None, **options)

    async def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        """The stored state of breaker ``name`` (cached), or None if never written."""
        return await _run(self._table.load(name, timeout), self._provider, asyncio.sleep)

    async def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Store ``new`` if the stored version is ``expected_version``; whether it was."""
        program = self._table.compare_and_set(name, expected_version, new, timeout)
        return await _run(program, self._provider, asyncio.sleep)

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached states (one breaker's, or all) so the next load reads the table."""
        self._table.invalidate(name)


async def _run(
    program: Program[T],
    provider: AsyncProvider,
    sleep: Callable[[float], Awaitable[object]],
) -> T:
    """Perform a :mod:`.state_table` program on ``provider``, awaited."""

    async def perform(effect: Send | Sleep) -> Any:
        if isinstance(effect, Sleep):
            await sleep(effect.seconds)
            return None
        if effect.timeout is not None and accepts_timeout(provider):
            return await provider.call(effect.operation, effect.request, timeout=effect.timeout)
        return await provider.call(effect.operation, effect.request)

    return await run_async(program, perform)
