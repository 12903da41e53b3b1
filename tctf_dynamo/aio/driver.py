"""The async driver: how an async shell performs a program's effects.

``Send`` goes to the :class:`~tctf_dynamo.providers.base.AsyncProvider`, ``Sleep`` to
the injected async sleep, anything else performs itself (``perform_async``). Nothing
here decides; see :mod:`tctf_dynamo.effects.program`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tctf_dynamo.effects.program import Program, Send, Sleep, run_async
from tctf_dynamo.errors import ErrorCode
from tctf_dynamo.providers.base import AsyncProvider, Response
from tctf_dynamo.providers.errors import transport_failure

__all__ = ["AsyncDriver", "TIMEOUT_GRACE_SECONDS"]

T = TypeVar("T")

TIMEOUT_GRACE_SECONDS = 1.0
"""How long past an attempt's socket timeout the driver waits before abandoning a
provider that did not give up by itself (one that ignores ``timeout``), so that the
operation's deadline binds whatever the provider does."""


class AsyncDriver:
    """Performs effects for one async service: its provider and its sleep."""

    __slots__ = ("provider", "sleep")

    def __init__(
        self, provider: AsyncProvider, sleep: Callable[[float], Awaitable[object]]
    ) -> None:
        self.provider = provider
        self.sleep = sleep

    async def perform(self, effect: Any) -> Any:
        """Perform one effect, awaiting."""
        kind = type(effect)
        if kind is Send:
            return await self.send(effect)
        if kind is Sleep:
            await self.sleep(effect.seconds)
            return None
        return await effect.perform_async()

    async def send(self, effect: Send) -> Response:
        """One attempt, bounded even when the provider ignores its timeout: abandoned
        after the timeout and a grace it is an ambiguous TIMEOUT, as a read timeout is
        (the request may have reached DynamoDB)."""
        call = self.provider.call(effect.operation, effect.request, timeout=effect.timeout)
        if effect.timeout is None:
            return await call
        try:
            async with asyncio.timeout(effect.timeout + TIMEOUT_GRACE_SECONDS):
                return await call
        except TimeoutError as error:
            raise transport_failure(
                effect.operation, ErrorCode.TIMEOUT, "ReadTimeoutError"
            ) from error

    async def run(self, program: Program[T]) -> T:
        """Run ``program`` to its end."""
        return await run_async(program, self.perform)
