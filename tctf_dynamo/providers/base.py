"""The one-method backend contract every provider implements.

A provider sends one DynamoDB API operation in the wire shape of the low-level API
(``{"TableName": ..., "Item": {"PK": {"S": "..."}}}``) and returns the response in the
same shape. It does no validation, no retries and no modelling: those live above it.
Every failure leaves a provider as a :class:`~tctf_dynamo.errors.DynamoDBServiceError`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

__all__ = ["Closing", "Provider", "Request", "Response"]

Request = dict[str, Any]
Response = dict[str, Any]


@runtime_checkable
class Provider(Protocol):
    """Sends DynamoDB operations (``"PutItem"``, ``"Query"``, ...) to a backend."""

    def call(self, operation: str, request: Request) -> Response:
        """Send ``operation`` with ``request`` and return the response."""
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
