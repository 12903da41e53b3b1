"""The provider of dry runs: records every request, answers like an empty table, sends nothing.

:class:`DryRunProvider` holds the rules (what is recorded, how it is answered, where a
dry run stops); :class:`AsyncDryRunProvider` hands each call of an async service to one,
so both APIs share them. :class:`~tctf_dynamo.core.dryrun.DryRun` puts them behind a copy
of a service; ``docs/dry-runs.md`` tells the whole story.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from tctf_dynamo.errors import DryRunStop, ErrorCode, error_for
from tctf_dynamo.providers.base import AsyncClosing, Closing, Request, Response
from tctf_dynamo.providers.mock import RecordedCall

__all__ = ["AsyncDryRunProvider", "DryRunProvider", "DryRunStop"]

_RETURNS_NEW_ITEM = frozenset({"ALL_NEW", "UPDATED_NEW"})


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


class AsyncDryRunProvider(AsyncClosing):
    """:class:`DryRunProvider` for async services: each call is recorded and answered by
    ``recorder`` at once (in memory, never waiting), so both APIs share its rules."""

    def __init__(self, recorder: DryRunProvider) -> None:
        self.recorder = recorder

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request recorded so far (see :attr:`DryRunProvider.calls`)."""
        return self.recorder.calls

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        """Record the request and answer, as :meth:`DryRunProvider.call`."""
        return self.recorder.call(operation, request, timeout=timeout)

    async def close(self) -> None:
        """Nothing to release."""
