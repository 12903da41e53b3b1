"""An async provider driven from sync test code: its own event loop on a thread.

Why: the suites that hold two providers to equal results were written for sync
providers; running an async provider behind this face lets the same tests, unchanged,
compare it with the sync fast path. Each call still runs as a coroutine on a real event
loop (the provider's connection pool lives there); only the test thread blocks.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Coroutine
from typing import Any

from tctf_dynamo.providers.base import AsyncProvider, Closing, Request, Response

JOIN_SECONDS = 10.0


class OnLoop(Closing):
    """``call`` runs ``provider.call`` on a private loop thread and waits for it."""

    def __init__(self, provider: AsyncProvider | Coroutine[Any, Any, AsyncProvider]) -> None:
        """``provider``, or a coroutine opening one (run on the loop it will serve)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.provider: AsyncProvider = (
            self.run(provider) if inspect.iscoroutine(provider) else provider
        )

    def run(self, coroutine: Any) -> Any:
        """Run ``coroutine`` on the loop and return its result (or raise its error)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        result: Response = self.run(self.provider.call(operation, request, timeout=timeout))
        return result

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self.provider.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(JOIN_SECONDS)
        self._loop.close()
