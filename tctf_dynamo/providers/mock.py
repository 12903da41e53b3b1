"""Providers for tests, ours and users': answer from a function, or record what was sent.

``MockProvider`` makes any behaviour a few lines of test code: a handler receives the
operation and request and returns the response, or raises to simulate a failure.
``RecordingProvider`` wraps any provider and keeps exact copies of what went in and out,
so tests assert the requests the library sends instead of patching its internals.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator

import attrs
from botocore.exceptions import BotoCoreError, ClientError

from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers.base import Closing, Provider, Request, Response, send
from tctf_dynamo.providers.errors import translate_exception

__all__ = [
    "Handler",
    "MockProvider",
    "RecordedCall",
    "Recorder",
    "RecordingProvider",
    "translated",
]

Handler = Callable[[str, Request], Response]


class MockProvider(Closing):
    """A provider whose every answer comes from ``handler(operation, request)``.

    The handler may raise a :class:`~tctf_dynamo.errors.DynamoDBServiceError` to simulate
    a failure, or a botocore ``ClientError``/``BotoCoreError``, which is translated by the
    same table the real providers use. Anything else it raises is a bug in the test and
    propagates unchanged. The ``timeout`` each call was given is kept, in order, in
    :attr:`timeouts`.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.closed = False
        self.timeouts: list[float | None] = []

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        self.timeouts.append(timeout)
        with translated(operation):
            return self._handler(operation, request)

    def close(self) -> None:
        self.closed = True


@contextlib.contextmanager
def translated(operation: str) -> Iterator[None]:
    """botocore's exceptions raised inside become library errors, as a real provider's."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate_exception(exc, operation) from exc


@attrs.frozen
class RecordedCall:
    """One call as it crossed the provider boundary; ``response`` xor ``error`` is set.

    ``timeout`` is what the call was given to wait for the backend (None: no bound asked).
    """

    operation: str
    request: Request
    response: Response | None = None
    error: DynamoDBServiceError | None = None
    timeout: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class Recorder:
    """The recording half of :class:`RecordingProvider` and its async twin: calls in
    order, as deep copies taken when they cross the boundary. Safe under threads."""

    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []
        self._lock = threading.Lock()

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call so far, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._calls)

    @property
    def operations(self) -> list[str]:
        """The operation names sent, in order."""
        return [call.operation for call in self.calls]

    def requests(self, operation: str) -> list[Request]:
        """The requests sent for ``operation``, in order."""
        return [call.request for call in self.calls if call.operation == operation]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def _record(
        self,
        operation: str,
        sent: Request,
        timeout: float | None,
        response: Response | None = None,
        error: DynamoDBServiceError | None = None,
    ) -> None:
        kept = copy.deepcopy(response) if response is not None else None
        call = RecordedCall(operation, sent, response=kept, error=error, timeout=timeout)
        with self._lock:
            self._calls.append(call)


class RecordingProvider(Recorder, Closing):
    """Forwards to ``inner`` and records every call, in order, as deep copies.

    Copies are taken when the call crosses the boundary, so later changes to the
    request or response objects never alter what the test sees. Safe under threads.
    """

    def __init__(self, inner: Provider) -> None:
        super().__init__()
        self.inner = inner

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        sent = copy.deepcopy(request)
        try:
            response = send(self.inner, operation, request, timeout)
        except DynamoDBServiceError as error:
            self._record(operation, sent, timeout, error=error)
            raise
        self._record(operation, sent, timeout, response=response)
        return response

    def close(self) -> None:
        self.inner.close()
