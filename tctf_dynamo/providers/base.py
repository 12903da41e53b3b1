"""The one-method backend contract every provider implements.

A provider sends one DynamoDB API operation in the wire shape of the low-level API
(``{"TableName": ..., "Item": {"PK": {"S": "..."}}}``) and returns the response in the
same shape. It does no validation, no retries and no modelling: those live above it.
Every failure leaves a provider as a :class:`~tctf_dynamo.errors.DynamoDBServiceError`.

``timeout`` is how long this one attempt may wait on the network (seconds), given by
the retry pipeline as the smaller of the attempt timeout and what is left of the
operation's deadline; a provider that talks to no network may ignore it. Providers
written before the keyword existed keep working: :func:`send` passes it only to those
whose ``call`` accepts it.
"""

from __future__ import annotations

import inspect
import threading
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

__all__ = [
    "AsyncClosing",
    "AsyncProvider",
    "Closing",
    "EncodedPart",
    "Provider",
    "Request",
    "Response",
    "accepts_timeout",
    "send",
    "splices_parts",
]

Request = dict[str, Any]
Response = dict[str, Any]


class EncodedPart(dict[str, Any]):
    """A part of a request whose JSON was written ahead of sending.

    It *is* the part (a dict equal to it, for every provider and every reader of the
    request) and carries ``json``, the text the request's JSON encoder writes for it. A
    provider that writes requests as JSON itself splices that text in instead of encoding
    the part again (:func:`~tctf_dynamo.providers.wire_format.encode_request`), so a bulk
    job can encode each item while other requests are in flight, off the path between
    one answer and the next request. Made by
    :func:`~tctf_dynamo.providers.wire_format.encoded_part`, which keeps the two equal.
    """

    __slots__ = ("json",)

    json: str


def splices_parts(provider: object) -> bool:
    """Whether ``provider`` writes requests as JSON itself and splices an
    :class:`EncodedPart`'s text in (for any other, encoding ahead is wasted work); such a
    provider makes parts with its ``encode_part`` method."""
    return bool(getattr(provider, "splices_parts", False))


@runtime_checkable
class Provider(Protocol):
    """Sends DynamoDB operations (``"PutItem"``, ``"Query"``, ...) to a backend."""

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        """Send ``operation`` with ``request`` and return the response.

        ``timeout``: seconds this attempt may wait for the backend (None: the provider's
        own default); a network provider must give up with TIMEOUT after it.
        """
        ...

    def close(self) -> None:
        """Release connections and threads; calling it twice is harmless."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class AsyncProvider(Protocol):
    """The async twin of :class:`Provider`: the same contract, awaited.

    Same wire shapes, same error translation (every failure leaves it as a
    :class:`~tctf_dynamo.errors.DynamoDBServiceError` with the code the sync provider of
    the same backend gives), same meaning of ``timeout``. ``call`` must be cancellation
    safe: a cancelled call releases its connection and leaves nothing half done in the
    provider.
    """

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        """Send ``operation`` with ``request`` and return the response."""
        ...

    async def close(self) -> None:
        """Release connections and threads; calling it twice is harmless."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Closing:
    """``with resource:`` closes it on the way out; subclasses define :meth:`close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``async with resource:`` closes it on the way out; subclasses define :meth:`close`."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


_ACCEPTS: dict[tuple[type, str], bool] = {}
_ACCEPTS_LOCK = threading.Lock()


def accepts_timeout(target: object, method: str = "call") -> bool:
    """Whether ``target.<method>`` takes a ``timeout`` keyword (worked out once per class)."""
    key = (type(target), method)
    with _ACCEPTS_LOCK:
        known = _ACCEPTS.get(key)
    if known is not None:
        return known
    try:
        parameters = list(inspect.signature(getattr(target, method)).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    found = any(p.name == "timeout" or p.kind is p.VAR_KEYWORD for p in parameters)
    with _ACCEPTS_LOCK:
        _ACCEPTS[key] = found
    return found


def send(provider: Provider, operation: str, request: Request, timeout: float | None) -> Response:
    """``provider.call`` with ``timeout`` when the provider accepts it (every provider of
    the library does; one written against the older one-method contract does not)."""
    if timeout is not None and accepts_timeout(provider):
        return provider.call(operation, request, timeout=timeout)
    return provider.call(operation, request)
