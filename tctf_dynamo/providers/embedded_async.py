"""The embedded backend from async code, without ever blocking the event loop.

moto is synchronous and guarded by one process-wide lock (see
:mod:`tctf_dynamo.providers.embedded`), so :class:`AsyncEmbeddedProvider` runs each call
of an :class:`~tctf_dynamo.providers.EmbeddedProvider` on its own worker thread, through
the running loop's ``run_in_executor``: the loop only awaits a future. Built around an
existing sync provider (:meth:`AsyncEmbeddedProvider.sharing`), it reads and writes the
same tables, so sync set-up code and async code under test see one database.

Cancellation: a call already handed to the worker runs to its end (an in-memory
operation takes well under a millisecond), exactly as a request that reached DynamoDB
completes there; the caller sees ``CancelledError`` and nothing is left half done.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Self

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.base import AsyncClosing, Request, Response
from tctf_dynamo.providers.embedded import EmbeddedProvider

__all__ = ["AsyncEmbeddedProvider"]


class AsyncEmbeddedProvider(AsyncClosing):
    """An isolated in-memory DynamoDB (moto) for async tests, demos and local work.

    ``AsyncEmbeddedProvider()`` owns a new backend, dropped by :meth:`close`;
    :meth:`sharing` wraps an existing :class:`~tctf_dynamo.providers.EmbeddedProvider`
    and leaves it open on close. Same wire shapes and errors as the sync provider.
    """

    def __init__(
        self, region_name: str = "us-east-1", *, provider: EmbeddedProvider | None = None
    ) -> None:
        self._inner = provider if provider is not None else EmbeddedProvider(region_name)
        self._owns = provider is None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="tctf-dynamo-embedded")
        self._closed = False

    @classmethod
    def sharing(cls, provider: EmbeddedProvider) -> Self:
        """An async face of ``provider``: same tables; closing it leaves ``provider`` open."""
        return cls(provider.region_name, provider=provider)

    @property
    def sync(self) -> EmbeddedProvider:
        """The sync provider holding the tables (for set-up code and the sync API)."""
        return self._inner

    @property
    def region_name(self) -> str:
        return self._inner.region_name

    @property
    def closed(self) -> bool:
        return self._closed

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        """Send ``operation`` on the worker thread (``timeout`` ignored, as in process)."""
        if self._closed:
            raise error_for(
                ErrorCode.INVALID_STATE,
                f"cannot send {operation}: the provider is closed",
                {"operation": operation},
            )
        loop = asyncio.get_running_loop()
        # the caller's context variables (tracing, attempt) go along, as with to_thread
        context = contextvars.copy_context()
        job = functools.partial(context.run, self._inner.call, operation, request)
        return await loop.run_in_executor(self._executor, job)

    async def close(self) -> None:
        """Stop the worker after the call it runs (and drop the tables if owned);
        idempotent."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)
        if self._owns:
            self._inner.close()
