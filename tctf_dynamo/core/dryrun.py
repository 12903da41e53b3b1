"""Dry runs: the exact requests an operation would send, built and checked, never sent.

``service.dry_run()`` gives a :class:`DryRun` whose ``service`` is a copy of the service
in which every layer above the provider is the same -- validation, request building,
expressions, planning of units of work and batches, ``ReturnConsumedCapacity`` -- and the
provider records each request instead of sending it. So the requests of a dry run are the
requests of a real run, by construction, not a second rendering of them.

Both APIs: the dry run of an :class:`~tctf_dynamo.aio.AsyncDynamoDBService` is an async
service of the same kind, whose provider (:class:`AsyncDryRunProvider`) awaits nothing
but hands each request to the one :class:`DryRunProvider` that records and answers, so
what is recorded, how it is answered and where a dry run stops is decided in one place.

What a dry run never touches: the network, the circuit breaker and its shared state
store (the copy has no breaker), the event sink, retries (one attempt, nothing fails).

Answers are what an empty table would say: reads find nothing, writes succeed without
returning an item, batches leave nothing unprocessed. Where the library cannot go on
without a real answer -- an update that returns the stored item, a read of the item a
write in the same dry run changed -- the dry run stops right after recording that
request; the ``with`` block of the dry run ends there without an error.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

from tctf_dynamo.errors import DryRunStop
from tctf_dynamo.resilience import RetryPolicy

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.providers.base import Request
    from tctf_dynamo.providers.dryrun import AsyncDryRunProvider, DryRunProvider
    from tctf_dynamo.providers.mock import RecordedCall

__all__ = ["DryRun", "DryRunStop"]

S = TypeVar("S", bound="ServiceCore")


class DryRun(Generic[S]):
    """The requests operations on :attr:`service` would send, recorded instead of sent.

    Use it as a context manager, so that a stop (see the module docstring) ends the
    block quietly::

        with service.dry_run() as dry:
            Repository(Order, dry.service).put(order)
        dry.requests  # [("PutItem", {...})]

    For an :class:`~tctf_dynamo.aio.AsyncDynamoDBService`, :attr:`service` is an async
    service (``await AsyncRepository(Order, dry.service).put(order)``), and ``with`` and
    ``async with`` both work.
    """

    def __init__(
        self, service: S, recorder: DryRunProvider, sender: DryRunProvider | AsyncDryRunProvider
    ) -> None:
        self.provider = recorder
        """Records and answers every request of :attr:`service` (both APIs')."""
        options = {**service._init_args, "breaker": None, "events": None}
        with service._schemas_lock:  # the key schemas the service knows, for bare names
            schemas, indexes = dict(service._schemas), dict(service._indexes)
        self.service: S = type(service)(
            sender,
            **options,
            retry=RetryPolicy.none(),
            _schemas=schemas,
            _indexes=indexes,
        )
        """The service's copy whose requests are recorded: of the service's own API."""
        self.stopped_at: str | None = None
        """The operation a stop ended the block at, None if the block ran to its end."""

    @property
    def calls(self) -> list[RecordedCall]:
        """The recorded requests with the answers the dry run gave."""
        return self.provider.calls

    @property
    def requests(self) -> list[tuple[str, Request]]:
        """``(operation, request)`` of every request that would be sent, in order."""
        return [(call.operation, call.request) for call in self.provider.calls]

    def __enter__(self) -> DryRun[S]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(error, DryRunStop):
            self.stopped_at = error.operation
            return True
        return False

    async def __aenter__(self) -> DryRun[S]:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self.__exit__(kind, error, traceback)
