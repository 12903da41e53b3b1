"""Dry runs: the exact requests an operation would send, built and checked, never sent.

``service.dry_run()`` gives a :class:`DryRun` whose ``service`` is a copy of the service
in which every layer above the provider is the same -- validation, request building,
expressions, planning of units of work and batches, ``ReturnConsumedCapacity`` -- and the
provider records each request instead of sending it. So the requests of a dry run are the
requests of a real run, by construction, not a second rendering of them.

What a dry run never touches: the network, the circuit breaker and its shared state
store (the copy has no breaker), the event sink, retries (one attempt, nothing fails).

Answers are what an empty table would say: reads find nothing, writes succeed without
returning an item, batches leave nothing unprocessed. Where the library cannot go on
without a real answer -- an update that returns the stored item, a read of the item a
write in the same dry run changed -- the dry run stops right after recording that
request; the ``with`` block of the dry run ends there without an error.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.base import Closing, Request, Response
from tctf_dynamo.providers.mock import RecordedCall
from tctf_dynamo.resilience import RetryPolicy

if TYPE_CHECKING:
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = ["DryRun", "DryRunProvider", "DryRunStop"]

_RETURNS_NEW_ITEM = frozenset({"ALL_NEW", "UPDATED_NEW"})


class DryRunStop(Exception):  # noqa: N818 - a stop signal, not an error
    """Ends a dry run at a request whose answer the library would need to go on.

    The :class:`DryRun` context swallows it; outside one it propagates to the caller.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(f"dry run stopped after {operation}: its answer needs a real table")
        self.operation = operation


def _key_id(table: Any, key: Any) -> str:
    return repr((table, sorted((name, repr(value)) for name, value in dict(key).items())))


class DryRunProvider(Closing):
    """Records every request and answers like an empty table; sends nothing anywhere."""

    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []
        self._lock = threading.Lock()
        self._created: dict[str, dict[str, Any]] = {}
        self._updated: set[str] = set()

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request recorded so far, oldest first, with the answer given."""
        with self._lock:
            return list(self._calls)

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        """Record the request (with the socket timeout a real send would get) and answer."""
        if operation == "DescribeTable" and request.get("TableName") not in self._created:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                "a dry run cannot read a table's key schema: pass the Table object (or "
                "make one real call with the table name first, which caches its schema)",
                {"table": request.get("TableName")},
            )
        sent = copy.deepcopy(request)
        with self._lock:
            stop = self._stops(operation, request)
            response = None if stop else self._answer(operation, request)
            answer = copy.deepcopy(response)
            self._calls.append(RecordedCall(operation, sent, response=answer, timeout=timeout))
        if stop:
            raise DryRunStop(operation)
        assert response is not None
        return response

    def _stops(self, operation: str, request: Mapping[str, Any]) -> bool:
        """An update returning its new item, or a read of an item updated in this run."""
        table, key = request.get("TableName"), request.get("Key")
        if operation == "UpdateItem":
            self._updated.add(_key_id(table, key))
            return request.get("ReturnValues") in _RETURNS_NEW_ITEM
        if operation == "TransactWriteItems":
            for action in request.get("TransactItems", []):
                if "Update" in action:
                    update = action["Update"]
                    self._updated.add(_key_id(update["TableName"], update["Key"]))
        return operation == "GetItem" and _key_id(table, key) in self._updated

    def _answer(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        if operation in ("Query", "Scan"):
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        if operation == "BatchGetItem":
            tables = request.get("RequestItems", {})
            return {"Responses": {name: [] for name in tables}, "UnprocessedKeys": {}}
        if operation == "BatchWriteItem":
            return {"UnprocessedItems": {}}
        if operation == "TransactGetItems":
            return {"Responses": [{} for _ in request.get("TransactItems", [])]}
        if operation == "CreateTable":
            self._created[request["TableName"]] = {**request, "TableStatus": "ACTIVE"}
            return {"TableDescription": self._created[request["TableName"]]}
        if operation == "DescribeTable":
            return {"Table": self._created[request["TableName"]]}
        return {}

    def close(self) -> None:
        """Nothing to release."""


class DryRun:
    """The requests operations on :attr:`service` would send, recorded instead of sent.

    Use it as a context manager, so that a stop (see the module docstring) ends the
    block quietly::

        with service.dry_run() as dry:
            Repository(Order, dry.service).put(order)
        dry.requests  # [("PutItem", {...})]
    """

    def __init__(self, service: DynamoDBService) -> None:
        from tctf_dynamo.sync.service import DynamoDBService

        self.provider = DryRunProvider()
        options = {**service._init_args, "breaker": None, "events": None}
        with service._schemas_lock:  # the key schemas the service knows, for bare names
            schemas, indexes = dict(service._schemas), dict(service._indexes)
        self.service = DynamoDBService(
            self.provider, **options, retry=RetryPolicy.none(), _schemas=schemas, _indexes=indexes
        )
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

    def __enter__(self) -> DryRun:
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
