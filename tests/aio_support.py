"""Run the async API from ordinary (blocking) tests, so one test body serves both APIs.

:class:`Blocking` wraps an object of the async API and answers every attribute as the
sync API would: a coroutine method becomes a blocking call (run on one event loop kept
for the wrapper's life), an async iterator becomes an iterator, an async context
manager becomes a context manager, and any object of the async API it returns is
wrapped in turn. Test bodies written against the sync API then run unchanged against
the async one.

:class:`ThreadedAsyncProvider` adapts a blocking provider to the AsyncProvider contract
by running each call on a worker thread (for tests of the async shells on the embedded
backend and on fault-injecting doubles). :func:`awaited` picks the real async transport
instead whenever the blocking provider speaks HTTP, so over a server the async API is
tested on its own socket code, not on a thread.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Self

from tctf_dynamo.providers.base import (
    AsyncClosing,
    AsyncProvider,
    Provider,
    Request,
    Response,
    send,
)
from tctf_dynamo.providers.boto3 import Boto3Provider

__all__ = ["Blocking", "ThreadedAsyncProvider", "async_twin", "awaited"]


class ThreadedAsyncProvider(AsyncClosing):
    """A blocking provider, awaited: each call runs on a worker thread."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        return await asyncio.to_thread(send, self.inner, operation, request, timeout)

    async def close(self) -> None:
        self.inner.close()


def async_twin(service: Any, *, sleep: Any = None) -> Blocking:
    """An async service on ``service``'s backend with its options (retry, timeout, cursors,
    breaker, clock, ...), seen through :class:`Blocking`; ``sleep`` is its async sleep
    (``asyncio.sleep`` by default). Closing it leaves ``service``'s backend open."""
    from tctf_dynamo.aio import AsyncDynamoDBService

    options = {name: value for name, value in service._init_args.items() if name != "sleep"}
    if sleep is not None:
        options["sleep"] = sleep
    twin = AsyncDynamoDBService(
        awaited(service.provider),
        retry=service.pipeline.retry_policy,
        **options,
    )
    return Blocking(twin)


def awaited(provider: Provider) -> AsyncProvider:
    """The async face of ``provider``, which stays open when the face is closed.

    An HTTP provider (:class:`~tctf_dynamo.providers.Boto3Provider`) gets the real async
    transport, :class:`~tctf_dynamo.providers.http_async.AsyncHttpProvider`, on the same
    botocore client: same endpoint, credentials and socket timeouts, its own aiohttp
    pool. Any other provider is run on worker threads."""
    if isinstance(provider, Boto3Provider):
        from tctf_dynamo.providers.http_async import AsyncHttpProvider

        config = provider.client.meta.config
        return AsyncHttpProvider(
            provider.client,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            close_client=False,
        )
    return _Borrowed(provider)


class _Borrowed(ThreadedAsyncProvider):
    """A blocking provider, awaited, that belongs to someone else: closing leaves it open."""

    async def close(self) -> None:
        """The backend belongs to the sync service it came from."""


def _is_async_api(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("tctf_dynamo.aio") or type(value).__name__.startswith("Async")


class Blocking:
    """The sync face of an async-API object (see the module docstring)."""

    def __init__(self, target: Any, runner: asyncio.Runner | None = None) -> None:
        self._target = target
        self._runner = runner if runner is not None else asyncio.Runner()

    @property
    def target(self) -> Any:
        """The wrapped async object."""
        return self._target

    def face(self, target: Any) -> Blocking:
        """``target`` (an object of the async API) behind ``Blocking`` on this loop."""
        return Blocking(target, self._runner)

    def run(self, awaitable: Any) -> Any:
        """Await ``awaitable`` on this wrapper's loop; wrap what comes back."""
        return self._wrap(self._runner.run(_awaited(awaitable)))

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, AsyncIterator):
            return self._iterate(value)
        if _is_async_api(value):
            return Blocking(value, self._runner)
        return value

    def _iterate(self, iterator: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._wrap(self._runner.run(_awaited(anext(iterator))))
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value) or isinstance(value, type):
            return self._wrap(value)

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(a.target if isinstance(a, Blocking) else a for a in args)
            result = value(*args, **kwargs)
            if inspect.isawaitable(result):
                return self.run(result)
            return self._wrap(result)

        return call

    def __iter__(self) -> Iterator[Any]:
        return self._iterate(aiter(self._target))

    def __len__(self) -> int:
        return len(self._target)

    def __enter__(self) -> Self:
        if hasattr(self._target, "__aenter__"):
            self.run(self._target.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if hasattr(self._target, "__aexit__"):
            suppress: bool | None = self.run(self._target.__aexit__(exc_type, exc, tb))
            return suppress
        return None


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
