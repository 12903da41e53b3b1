"""The async twins of :class:`~tctf_dynamo.providers.MockProvider` and
:class:`~tctf_dynamo.providers.RecordingProvider`, sharing their code.

``AsyncMockProvider`` answers from a handler, which may be a plain function or a
coroutine function (to simulate latency with ``await asyncio.sleep``); its errors are
translated as the sync mock's are. ``AsyncRecordingProvider`` records through the same
:class:`~tctf_dynamo.providers.mock.Recorder`.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable

from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers.base import AsyncClosing, AsyncProvider, Request, Response
from tctf_dynamo.providers.mock import Recorder, translated

__all__ = ["AsyncHandler", "AsyncMockProvider", "AsyncRecordingProvider"]

AsyncHandler = Callable[[str, Request], Response | Awaitable[Response]]


class AsyncMockProvider(AsyncClosing):
    """An async provider whose every answer comes from ``handler(operation, request)``.

    As :class:`~tctf_dynamo.providers.MockProvider`: raise a library error to simulate a
    failure, or a botocore ``ClientError``/``BotoCoreError`` to have it translated. The
    ``timeout`` of each call is kept in :attr:`timeouts`.
    """

    def __init__(self, handler: AsyncHandler) -> None:
        self._handler = handler
        self.closed = False
        self.timeouts: list[float | None] = []

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        self.timeouts.append(timeout)
        with translated(operation):
            answer = self._handler(operation, request)
            if inspect.isawaitable(answer):
                answer = await answer
            return answer

    async def close(self) -> None:
        self.closed = True


class AsyncRecordingProvider(Recorder, AsyncClosing):
    """Forwards to ``inner`` and records every call, in order, as deep copies
    (see :class:`~tctf_dynamo.providers.RecordingProvider`). A cancelled call is not
    recorded: it has neither a response nor an error."""

    def __init__(self, inner: AsyncProvider) -> None:
        super().__init__()
        self.inner = inner

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        sent = copy.deepcopy(request)
        try:
            response = await self.inner.call(operation, request, timeout=timeout)
        except DynamoDBServiceError as error:
            self._record(operation, sent, timeout, error=error)
            raise
        self._record(operation, sent, timeout, response=response)
        return response

    async def close(self) -> None:
        await self.inner.close()
